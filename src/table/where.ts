// `where` on dimension columns → one index range per dimension, so a scan reads only the
// chunks and blocks inside it. Bounds are in coordinate units when the dimension has a
// coordinate array (monotonic only: binary search), otherwise in integer indices.
import { OptionsError } from "../errors.js";

/** One dimension's condition: equality, an inclusive [lo, hi] range (null = open), or bounds. */
export type DimCondition =
  | number
  | readonly [number | null, number | null]
  | { eq?: number; gt?: number; gte?: number; lt?: number; lte?: number };

/** Conditions on dimension columns, ANDed together. */
export type Where = Readonly<Record<string, DimCondition>>;

/** Half-open index range [start, stop) along one dimension. */
export interface IndexRange {
  start: number;
  stop: number;
}

interface Bounds {
  lo: number;
  loOpen: boolean;
  hi: number;
  hiOpen: boolean;
}

function toBounds(dim: string, c: DimCondition): Bounds {
  const b: Bounds = { lo: -Infinity, loOpen: false, hi: Infinity, hiOpen: false };
  const num = (v: unknown, what: string): number => {
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new OptionsError(
        `where: ${what} for dimension "${dim}" must be a number, got ${String(v)}`,
      );
    }
    return v;
  };
  const lower = (v: number, open: boolean) => {
    if (v > b.lo || (v === b.lo && open)) Object.assign(b, { lo: v, loOpen: open });
  };
  const upper = (v: number, open: boolean) => {
    if (v < b.hi || (v === b.hi && open)) Object.assign(b, { hi: v, hiOpen: open });
  };
  if (typeof c === "number") {
    lower(num(c, "the value"), false);
    upper(c, false);
  } else if (Array.isArray(c)) {
    if (c.length !== 2) throw new OptionsError(`where: the range for "${dim}" must be [lo, hi]`);
    if (c[0] !== null) lower(num(c[0], "the lower bound"), false);
    if (c[1] !== null) upper(num(c[1], "the upper bound"), false);
  } else if (c !== null && typeof c === "object") {
    const o = c as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!["eq", "gt", "gte", "lt", "lte"].includes(k)) {
        throw new OptionsError(
          `where: unknown condition "${k}" for "${dim}" (eq, gt, gte, lt, lte)`,
        );
      }
    }
    if (o.eq !== undefined) {
      lower(num(o.eq, "eq"), false);
      upper(o.eq as number, false);
    }
    if (o.gt !== undefined) lower(num(o.gt, "gt"), true);
    if (o.gte !== undefined) lower(num(o.gte, "gte"), false);
    if (o.lt !== undefined) upper(num(o.lt, "lt"), true);
    if (o.lte !== undefined) upper(num(o.lte, "lte"), false);
  } else {
    throw new OptionsError(
      `where: the condition for "${dim}" must be a number, [lo, hi] or bounds`,
    );
  }
  return b;
}

/** First index in [0, n) whose value satisfies `ok` (ok is monotonic: false…false true…true). */
function firstTrue(n: number, ok: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ok(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** +1 for increasing, -1 for decreasing coordinates; throws for anything else. */
export function monotonicity(dim: string, coords: ArrayLike<number | bigint>): 1 | -1 {
  let dir = 0;
  for (let i = 1; i < coords.length; i++) {
    const a = Number(coords[i - 1]);
    const b = Number(coords[i]);
    const step = b > a ? 1 : b < a ? -1 : Number.isNaN(a) || Number.isNaN(b) ? 2 : 0;
    if (step === 2 || step === 0 || (dir !== 0 && step !== dir)) {
      throw new OptionsError(
        `where: coordinates of dimension "${dim}" are not strictly monotonic (at index ${i}): ` +
          "conditions on it cannot become an index range",
      );
    }
    dir = step;
  }
  if (coords.length === 1 && Number.isNaN(Number(coords[0]))) {
    throw new OptionsError(`where: the coordinate of dimension "${dim}" is NaN`);
  }
  return dir === -1 ? -1 : 1;
}

/**
 * The index range of one dimension satisfying `cond`. `coords` are the dimension's
 * coordinate values (checked monotonic), or undefined for integer indices 0..size-1.
 */
export function conditionToRange(
  dim: string,
  cond: DimCondition,
  size: number,
  coords?: ArrayLike<number | bigint>,
): IndexRange {
  const b = toBounds(dim, cond);
  const geLo = (v: number) => (b.loOpen ? v > b.lo : v >= b.lo);
  const leHi = (v: number) => (b.hiOpen ? v < b.hi : v <= b.hi);
  let start: number;
  let stop: number;
  if (coords === undefined) {
    start = firstTrue(size, (i) => geLo(i));
    stop = firstTrue(size, (i) => !leHi(i));
  } else {
    const at = (i: number) => Number(coords[i]);
    if (monotonicity(dim, coords) === 1) {
      start = firstTrue(size, (i) => geLo(at(i)));
      stop = firstTrue(size, (i) => !leHi(at(i)));
    } else {
      // Decreasing: values ≤ hi come after values > hi.
      start = firstTrue(size, (i) => leHi(at(i)));
      stop = firstTrue(size, (i) => !geLo(at(i)));
    }
  }
  return stop > start ? { start, stop } : { start: 0, stop: 0 };
}

/** Index ranges for every dimension (whole dimensions where `where` says nothing). */
export function whereToRanges(
  where: Where | undefined,
  dims: readonly { name: string; size: number; coords?: ArrayLike<number | bigint> | undefined }[],
  variables: readonly string[] = [],
): IndexRange[] {
  const names = new Set(dims.map((d) => d.name));
  for (const key of Object.keys(where ?? {})) {
    if (!names.has(key)) {
      const hint = variables.includes(key)
        ? " (a variable: filter values in SQL or after reading; only dimensions are pushed down)"
        : ` (dimensions: ${[...names].join(", ")})`;
      throw new OptionsError(`where: "${key}" is not a dimension column${hint}`);
    }
  }
  return dims.map((d) => {
    const cond = where?.[d.name];
    if (cond === undefined) return { start: 0, stop: d.size };
    return conditionToRange(d.name, cond, d.size, d.coords);
  });
}
