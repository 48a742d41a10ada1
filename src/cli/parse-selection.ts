// NumPy index syntax, as typed on a command line without the brackets: "5, :, 0:10",
// "::2, -1", "..., 3", "" (everything). Parsed into a Selection for B2ndArray.get.
import { OptionsError } from "../errors.js";
import type { DimSelection, Selection, Slice } from "../plan/selection.js";

const INTEGER = /^[+-]?\d+$/;
const HINT = "expected an integer, a slice start:stop:step or ...";

function parseInteger(part: string, entry: string): number {
  const value = Number(part);
  if (!INTEGER.test(part) || !Number.isSafeInteger(value)) {
    throw new OptionsError(`invalid selection entry '${entry}' (${HINT})`);
  }
  return value;
}

function parseEntry(entry: string): DimSelection | "..." {
  if (entry === "...") return "...";
  if (INTEGER.test(entry)) return parseInteger(entry, entry);
  const parts = entry.split(":").map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3) {
    throw new OptionsError(`invalid selection entry '${entry}' (${HINT})`);
  }
  const [start, stop, step] = parts.map((p) => (p === "" ? null : parseInteger(p, entry)));
  if (step === 0) throw new OptionsError(`invalid selection entry '${entry}': slice step is zero`);
  const slice: Slice = { start: start ?? null, stop: stop ?? null, step: step ?? null };
  return slice;
}

/**
 * Parses NumPy index syntax without brackets into one entry per dimension: comma-separated
 * integers (negative count from the end), slices `start:stop:step` with any part omitted,
 * and at most one `...`. Missing trailing dimensions are taken whole; "" and "()" select
 * everything (like `a[()]`). A trailing comma is allowed, as in Python ("3," is "3").
 * Throws an OptionsError naming the offending entry.
 */
export function parseNumpySelection(text: string, ndim: number): Selection {
  const trimmed = text.trim();
  const full = (): DimSelection[] => new Array<DimSelection>(ndim).fill(null);
  if (trimmed === "" || /^\(\s*\)$/.test(trimmed)) return full();
  const raw = trimmed.split(",").map((e) => e.trim());
  if (raw.length > 1 && raw.at(-1) === "") raw.pop();
  const entries = raw.map(parseEntry);
  const ellipses = entries.filter((e) => e === "...").length;
  if (ellipses > 1) {
    throw new OptionsError(`invalid selection '${trimmed}': only one ellipsis '...' is allowed`);
  }
  const explicit = entries.length - ellipses;
  if (explicit > ndim) {
    throw new OptionsError(
      `invalid selection '${trimmed}': ${explicit} ${explicit === 1 ? "entry" : "entries"} for ${ndim} dimension${ndim === 1 ? "" : "s"}`,
    );
  }
  const out: DimSelection[] = [];
  for (const e of entries) {
    if (e === "...") for (let i = 0; i < ndim - explicit; i++) out.push(null);
    else out.push(e);
  }
  while (out.length < ndim) out.push(null);
  return out;
}
