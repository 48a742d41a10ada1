// The stats sidecar: per-chunk min/max (and NaN count) of every variable of a table, computed
// once by decoding each chunk and stored beside the source as JSON (`<source>.zb2stats.json`).
// With it, the virtual Parquet file gives variable columns row-group statistics (bounds from
// the chunks a row group touches) and a page index when those bounds are exact. The sidecar
// records the source's fingerprint (files, chunk index, layout): a sidecar that no longer
// matches its source is refused, never used.
import { B2ndArray } from "../decode/b2nd-read.js";
import { FormatError, OptionsError } from "../errors.js";
import { throwIfAborted } from "../io/source.js";
import { extentOf } from "./plain.js";
import { openScan } from "./scan.js";
import { fingerprint, guardSource, SIDECAR_SUFFIX } from "./source-identity.js";
import { type ColumnType, newScanStats, type TableSource, type ZarrLocation } from "./tables.js";
import type { IndexRange } from "./where.js";

/** A statistics value: a number, or a string for 64-bit integers and ±Infinity. */
export type StatValue = number | string;

export interface VariableStats {
  type: ColumnType;
  /** The chunk grid the statistics are per (the variable's chunk shape). */
  chunkShape: number[];
  /** Per chunk, in C order of the chunk grid: [min, max, NaN count]; min and max are null when every value is NaN. */
  chunks: [StatValue | null, StatValue | null, number][];
}

export interface StatsSidecar {
  format: "zarr-blosc2-stats";
  version: 1;
  /** By table name (dimension names joined by ","). */
  tables: Record<string, { fingerprint: string; variables: Record<string, VariableStats> }>;
}

export interface StatsSidecarOptions {
  /** For groups holding several tables: which one. */
  table?: string;
  /** The variables to compute (default all). */
  columns?: readonly string[];
  /** For groups whose store cannot list children. */
  arrays?: readonly string[];
  signal?: AbortSignal;
  /** Called after each chunk with the chunks done and the total. */
  onProgress?: (done: number, total: number) => void;
}

function toStat(v: number | bigint | undefined): StatValue | null {
  if (v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  return Number.isFinite(v) ? v : String(v);
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/** Chunk boxes of `shape` in C order of the chunk grid. */
function* chunkBoxes(shape: readonly number[], chunk: readonly number[]): Generator<IndexRange[]> {
  const grid = shape.map((n, d) => Math.ceil(n / chunk[d]!));
  if (grid.some((g) => g === 0)) return;
  const idx = grid.map(() => 0);
  for (;;) {
    yield idx.map((c, d) => ({
      start: c * chunk[d]!,
      stop: Math.min(shape[d]!, (c + 1) * chunk[d]!),
    }));
    let d = idx.length - 1;
    while (d >= 0 && ++idx[d]! === grid[d]!) idx[d--] = 0;
    if (d < 0) break;
  }
}

/** Decodes every chunk of the table's variables once and returns their min/max. */
export async function computeStatsSidecar(
  source: TableSource,
  options: StatsSidecarOptions = {},
): Promise<StatsSidecar> {
  const guard = await guardSource(source);
  const scan = await openScan(guard.source, {
    ...(options.table !== undefined ? { table: options.table } : {}),
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.arrays ? { arrays: options.arrays } : {}),
  });
  const table = scan.table;
  const names = new Set(scan.columns.filter((c) => c.kind === "variable").map((c) => c.name));
  const variables = table.variables.filter((v) => names.has(v.name));
  const total = variables.reduce(
    (n, v) => n + prod(v.shape.map((s, d) => Math.ceil(s / v.chunkShape[d]!))),
    0,
  );
  let done = 0;
  const out: Record<string, VariableStats> = {};
  for (const v of variables) {
    const chunks: VariableStats["chunks"] = [];
    for (const box of chunkBoxes(v.shape, v.chunkShape)) {
      throwIfAborted(v.name, undefined, options.signal);
      const values = await v.read(box, newScanStats(), options.signal);
      await guard.check(box);
      const rows = prod(box.map((r) => r.stop - r.start));
      if (values.length !== rows)
        throw new FormatError(v.name, `read ${values.length} values for a chunk of ${rows}`);
      const e = extentOf(v.type, values);
      chunks.push([toStat(e.min), toStat(e.max), e.nanCount]);
      options.onProgress?.(++done, total);
    }
    out[v.name] = { type: v.type, chunkShape: [...v.chunkShape], chunks };
  }
  return {
    format: "zarr-blosc2-stats",
    version: 1,
    tables: { [table.name]: { fingerprint: await fingerprint(guard, table), variables: out } },
  };
}

/** Where the sidecar of a local source goes: `<file or directory>.zb2stats.json`. */
export function statsSidecarPath(source: TableSource): string | undefined {
  if (source instanceof B2ndArray) {
    const { frame, directory } = source.sources;
    const p = (directory ?? frame) as { path?: unknown };
    return typeof p.path === "string"
      ? `${p.path.replace(/\/+$/, "")}${SIDECAR_SUFFIX}`
      : undefined;
  }
  const loc = source as ZarrLocation;
  const root = (loc?.store as { root?: unknown } | undefined)?.root;
  if (typeof root !== "string") return undefined;
  const path = loc.path.replace(/\/+$/, "");
  return `${root.replace(/\/+$/, "")}${path}${SIDECAR_SUFFIX}`;
}

/** Reads and checks a sidecar file. */
export async function readStatsSidecar(path: string): Promise<StatsSidecar> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new OptionsError(`stats sidecar ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(path, `not JSON (${(err as Error).message})`);
  }
  return checkSidecar(parsed, path);
}

export function checkSidecar(value: unknown, where: string): StatsSidecar {
  const s = value as StatsSidecar;
  if (s?.format !== "zarr-blosc2-stats" || s.version !== 1 || typeof s.tables !== "object") {
    throw new FormatError(where, "not a zarr-blosc2 stats sidecar (format, version 1, tables)");
  }
  for (const [name, t] of Object.entries(s.tables)) {
    if (typeof t?.fingerprint !== "string" || typeof t.variables !== "object")
      throw new FormatError(where, `table "${name}" has no fingerprint or variables`);
    for (const [v, st] of Object.entries(t.variables)) {
      if (!Array.isArray(st?.chunks) || !Array.isArray(st.chunkShape))
        throw new FormatError(where, `variable "${v}" has no chunks or chunkShape`);
    }
  }
  return s;
}

/**
 * Computes the sidecar and writes it to `path` (default: beside the source, see
 * statsSidecarPath). Tables already in an existing sidecar there are kept.
 */
export async function writeStatsSidecar(
  source: TableSource,
  options: StatsSidecarOptions & { path?: string } = {},
): Promise<{ path: string; sidecar: StatsSidecar }> {
  const path = options.path ?? statsSidecarPath(source);
  if (path === undefined)
    throw new OptionsError("writeStatsSidecar: the source is not local: pass options.path");
  const sidecar = await computeStatsSidecar(source, options);
  const fs = await import("node:fs/promises");
  let merged = sidecar;
  try {
    const old = await readStatsSidecar(path);
    merged = { ...sidecar, tables: { ...old.tables, ...sidecar.tables } };
  } catch {
    // No readable sidecar there yet.
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(merged));
  await fs.rename(tmp, path);
  return { path, sidecar: merged };
}

export interface BoxStats {
  min?: number | bigint;
  max?: number | bigint;
  minExact: boolean;
  maxExact: boolean;
  /** Known only when every touched chunk lies inside the box. */
  nanCount?: number;
}

function parseStat(type: ColumnType, v: StatValue): number | bigint {
  if (type === "int64" || type === "uint64") return BigInt(v);
  return typeof v === "number" ? v : Number(v);
}

/**
 * Bounds of a variable over `box` from its per-chunk statistics: the min (max) over the chunks
 * the box touches, exact when a chunk holding it lies wholly inside the box.
 */
export function boxStats(
  stats: VariableStats,
  shape: readonly number[],
  box: readonly IndexRange[],
): BoxStats {
  const chunk = stats.chunkShape;
  const grid = shape.map((n, d) => Math.ceil(n / chunk[d]!));
  const lo = box.map((r, d) => Math.floor(r.start / chunk[d]!));
  const hi = box.map((r, d) => Math.floor((r.stop - 1) / chunk[d]!));
  let min: number | bigint | undefined;
  let max: number | bigint | undefined;
  let minExact = false;
  let maxExact = false;
  let nan = 0;
  let allInside = true;
  const idx = [...lo];
  for (;;) {
    let linear = 0;
    let inside = true;
    for (let d = 0; d < idx.length; d++) {
      linear = linear * grid[d]! + idx[d]!;
      const s = idx[d]! * chunk[d]!;
      const e = Math.min(shape[d]!, s + chunk[d]!);
      if (s < box[d]!.start || e > box[d]!.stop) inside = false;
    }
    const c = stats.chunks[linear];
    if (!c) throw new FormatError("stats sidecar", `no statistics for chunk ${linear}`);
    allInside &&= inside;
    nan += c[2];
    if (c[0] !== null) {
      const v = parseStat(stats.type, c[0]);
      if (min === undefined || v < min) [min, minExact] = [v, inside];
      else if (v === min && inside) minExact = true;
    }
    if (c[1] !== null) {
      const v = parseStat(stats.type, c[1]);
      if (max === undefined || v > max) [max, maxExact] = [v, inside];
      else if (v === max && inside) maxExact = true;
    }
    let d = idx.length - 1;
    while (d >= 0 && ++idx[d]! > hi[d]!) idx[d] = lo[d--]!;
    if (d < 0) break;
  }
  return {
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    minExact,
    maxExact,
    ...(allInside ? { nanCount: nan } : {}),
  };
}
