// Selections as zarrita.get takes them: one entry per dimension, each an integer, a slice
// ({start, stop, step}, e.g. from zarr.slice) or null for the whole dimension.
import { OptionsError } from "../errors.js";

export interface Slice {
  start: number | null;
  stop: number | null;
  step: number | null;
}

export type DimSelection = number | Slice | null;
export type Selection = readonly DimSelection[] | null | undefined;

/** One dimension's selection, normalised: indices start + k*step for k < count. */
export interface DimRange {
  start: number;
  step: number;
  count: number;
  /** False for an integer index: the dimension is dropped from the result. */
  keep: boolean;
}

/** Python's slice.indices() semantics, so results match NumPy for any start/stop/step. */
function sliceRange(s: Slice, length: number, dim: number): DimRange {
  const step = s.step ?? 1;
  if (!Number.isInteger(step) || step === 0) {
    throw new OptionsError(
      `selection: step ${String(s.step)} in dimension ${dim} must be a non-zero integer`,
    );
  }
  for (const [name, v] of [
    ["start", s.start],
    ["stop", s.stop],
  ] as const) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) {
      throw new OptionsError(
        `selection: ${name} ${String(v)} in dimension ${dim} is not an integer`,
      );
    }
  }
  const clamp = (v: number | null | undefined, dflt: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return dflt;
    const x = v < 0 ? v + length : v;
    return Math.min(Math.max(x, lo), hi);
  };
  let start: number;
  let stop: number;
  if (step > 0) {
    start = clamp(s.start, 0, 0, length);
    stop = clamp(s.stop, length, 0, length);
  } else {
    start = clamp(s.start, length - 1, -1, length - 1);
    stop = clamp(s.stop, -1, -1, length - 1);
  }
  const span = step > 0 ? stop - start : start - stop;
  const count = span > 0 ? Math.ceil(span / Math.abs(step)) : 0;
  return { start, step, count, keep: true };
}

/** Normalises a selection against a shape. */
export function normalizeSelection(selection: Selection, shape: readonly number[]): DimRange[] {
  if (selection !== null && selection !== undefined && !Array.isArray(selection)) {
    throw new OptionsError("selection must be an array with one entry per dimension, or null");
  }
  const sel = selection ?? [];
  if (sel.length > shape.length) {
    throw new OptionsError(`selection has ${sel.length} entries for ${shape.length} dimensions`);
  }
  return shape.map((length, d) => {
    const s = sel[d];
    if (s === null || s === undefined) return { start: 0, step: 1, count: length, keep: true };
    if (typeof s === "number") {
      if (!Number.isInteger(s))
        throw new OptionsError(`selection: index ${s} in dimension ${d} is not an integer`);
      const i = s < 0 ? s + length : s;
      if (i < 0 || i >= length) {
        throw new OptionsError(
          `selection: index ${s} is out of bounds for dimension ${d} of size ${length}`,
        );
      }
      return { start: i, step: 1, count: 1, keep: false };
    }
    if (typeof s === "object" && "start" in s && "stop" in s) return sliceRange(s, length, d);
    throw new OptionsError(`selection: entry ${d} must be an integer, a slice or null`);
  });
}

/** Shape of the result: one entry per kept dimension. */
export function resultShape(ranges: readonly DimRange[]): number[] {
  return ranges.filter((r) => r.keep).map((r) => r.count);
}

/** C-order strides (in elements) for a shape. */
export function cStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d]!;
  }
  return out;
}

/** A slice, like zarrita's `slice(start, stop, step)` (one argument means stop). */
export function slice(
  start: number | null,
  stop?: number | null,
  step: number | null = null,
): Slice {
  if (stop === undefined) return { start: null, stop: start, step };
  return { start, stop, step };
}
