// The table scan every output (Arrow, DuckDB, Parquet) is built on. The pushed-down box is
// walked in slabs: a slab is a box that ends on chunk (or block) boundaries along one "split"
// dimension and covers the whole selection along the dimensions after it, so rows stay in C
// order and each slab is one get() per variable, reading only the blocks inside it. Slabs are
// then cut into batches of at most batchRows rows; dimension columns are computed per batch.
// Peak memory is about one slab (slabRows rows) plus one batch, whatever the array's size.
import { FormatError, OptionsError } from "../errors.js";
import type { TypedArray } from "../format/dtype.js";
import {
  type ColumnType,
  type Dimension,
  newScanStats,
  resolveTable,
  type ScanStats,
  type TableSource,
  type TableSpec,
  type Variable,
} from "./tables.js";
import { type IndexRange, type Where, whereToRanges } from "./where.js";

export interface ScanOptions {
  /** Conditions on dimension columns (coordinate units when coordinates exist), pushed down. */
  where?: Where;
  /** Variables to read (default all); dimension columns are always included. */
  columns?: readonly string[];
  /** For groups holding several tables: which one (dimension names joined by ","). */
  table?: string;
  /** For groups whose store cannot list children: the arrays to use. */
  arrays?: readonly string[];
  /** Maximum rows per batch (default 65536). */
  batchRows?: number;
  /** Maximum rows read at once (default 8 × batchRows, at least batchRows). */
  slabRows?: number;
  /** NaN in float variables becomes null. */
  nanAsNull?: boolean;
  /** Values equal to the array's fill value (Zarr fill_value, or `fillValue`) become null. */
  fillAsNull?: boolean;
  /** The fill value for fillAsNull when the array has none (b2nd arrays). */
  fillValue?: number | bigint | boolean;
  signal?: AbortSignal;
  /** Filled with what the scan read. */
  stats?: ScanStats;
  /** Called after each batch with the rows produced so far and the total. */
  onProgress?: (rows: number, totalRows: number) => void;
  /** False: a slab never spans two chunks along its split dimension (Parquet row groups). */
  mergeSlabs?: boolean;
}

export interface Column {
  name: string;
  kind: "dimension" | "variable";
  type: ColumnType;
  /** Values in native typed arrays: bool as 0/1 bytes, float16 as raw bits, int64 as BigInt64Array. */
  values: TypedArray;
  /** Per row: 1 valid, 0 null; undefined when nothing is null. */
  valid?: Uint8Array;
  nullCount: number;
}

export interface ColumnBatch {
  rows: number;
  columns: Column[];
  /** Index of the slab the batch comes from (Parquet writes one row group per slab). */
  slab: number;
  /** True for the slab's last batch. */
  slabEnd: boolean;
}

export interface ColumnInfo {
  name: string;
  kind: "dimension" | "variable";
  type: ColumnType;
}

export interface Scan {
  table: TableSpec;
  /** The pushed-down index box, one range per dimension. */
  ranges: IndexRange[];
  totalRows: number;
  columns: ColumnInfo[];
  stats: ScanStats;
  batches(): AsyncGenerator<ColumnBatch>;
}

const DEFAULT_BATCH_ROWS = 65536;

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function positiveInt(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new OptionsError(`${what} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Slab boxes covering `ranges` in C order. Along the split dimension a slab takes as many
 * whole alignment units (chunks, else blocks, else single indices) as fit in maxRows;
 * with `merge` false it never spans two chunks (one Parquet row group per chunk slab).
 */
export function planSlabs(
  ranges: readonly IndexRange[],
  chunk: readonly number[],
  block: readonly number[] | undefined,
  maxRows: number,
  merge = true,
): IndexRange[][] {
  return [...slabsOf(ranges, chunk, block, maxRows, merge)];
}

/** planSlabs, one slab at a time (a huge array has many slabs: they are never all listed). */
export function* slabsOf(
  ranges: readonly IndexRange[],
  chunk: readonly number[],
  block: readonly number[] | undefined,
  maxRows: number,
  merge = true,
): Generator<IndexRange[]> {
  const n = ranges.length;
  const counts = ranges.map((r) => r.stop - r.start);
  if (counts.some((c) => c === 0)) return;
  if (n === 0) {
    yield [];
    return;
  }
  // Split dimension k: the first whose inner part fits.
  let k = 0;
  while (k < n - 1 && prod(counts.slice(k + 1)) > maxRows) k++;
  const inner = prod(counts.slice(k + 1));
  const per = Math.max(1, Math.floor(maxRows / inner));
  const c = chunk[k] ?? 1;
  const b = block?.[k];
  let unit: number;
  let units: number;
  if (per >= c) {
    unit = c;
    units = merge ? Math.floor(per / c) : 1;
  } else if (b !== undefined && per >= b && b < c) {
    unit = b;
    units = Math.floor(per / b);
    // Keep slabs inside one chunk: blocks of a chunk never straddle a chunk boundary.
    if (c % b !== 0) units = 1;
  } else {
    unit = 1;
    units = per;
  }
  const r = ranges[k]!;
  const outer = ranges.slice(0, k);
  const idx = outer.map((o) => o.start);
  for (;;) {
    for (let cur = r.start; cur < r.stop; ) {
      // Units count from the chunk's start: blocks tile each chunk from its own origin, so
      // when the chunk is not a multiple of the block, absolute multiples would cut blocks.
      const base = Math.floor(cur / c) * c;
      let end = Math.min(r.stop, base + (Math.floor((cur - base) / unit) + units) * unit);
      // Never cross a chunk boundary with block or index units.
      if (unit !== c) end = Math.min(end, base + c);
      yield [
        ...idx.map((i) => ({ start: i, stop: i + 1 })),
        { start: cur, stop: end },
        ...ranges.slice(k + 1),
      ];
      cur = end;
    }
    let d = k - 1;
    while (d >= 0 && ++idx[d]! === outer[d]!.stop) idx[d] = outer[d--]!.start;
    if (d < 0) break;
  }
}

/** Index values of dimension `d` for rows [a, b) of a C-order box (tight loops: hot path). */
export function indicesOf(
  box: readonly IndexRange[],
  d: number,
  a: number,
  b: number,
): Float64Array {
  const n = b - a;
  const out = new Float64Array(n);
  let stride = 1;
  for (let e = d + 1; e < box.length; e++) stride *= box[e]!.stop - box[e]!.start;
  const count = box[d]!.stop - box[d]!.start;
  const start = box[d]!.start;
  if (stride === 1) {
    let i = a % count;
    for (let k = 0; k < n; k++) {
      out[k] = start + i;
      if (++i === count) i = 0;
    }
    return out;
  }
  for (let row = a, k = 0; row < b; ) {
    const run = Math.floor(row / stride);
    const runEnd = Math.min(b, (run + 1) * stride);
    out.fill(start + (run % count), k, k + runEnd - row);
    k += runEnd - row;
    row = runEnd;
  }
  return out;
}

function dimensionColumn(
  dim: Dimension,
  box: readonly IndexRange[],
  d: number,
  a: number,
  b: number,
): Column {
  const n = b - a;
  const idx = indicesOf(box, d, a, b);
  if (dim.coords) {
    const src = dim.coords as unknown as { [i: number]: number | bigint };
    const Ctor = dim.coords.constructor as new (n: number) => TypedArray;
    const out = new Ctor(n);
    const o = out as unknown as { [i: number]: number | bigint };
    for (let k = 0; k < n; k++) o[k] = src[idx[k]!]!;
    return { name: dim.name, kind: "dimension", type: dim.type, values: out, nullCount: 0 };
  }
  // int64 indices, written through an Int32 view (indices < 2^31; BigInt per row is slow).
  const out = new BigInt64Array(n);
  if (dim.size <= 0x7fffffff) {
    const words = new Int32Array(out.buffer);
    for (let k = 0; k < n; k++) words[2 * k] = idx[k]!;
  } else {
    for (let k = 0; k < n; k++) out[k] = BigInt(idx[k]!);
  }
  return { name: dim.name, kind: "dimension", type: "int64", values: out, nullCount: 0 };
}

function isNaN16(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0;
}

/** Validity for NaN and fill values; undefined when no value is null. */
function validity(
  v: Variable,
  values: TypedArray,
  options: ScanOptions,
): { valid?: Uint8Array; nullCount: number } {
  const float = v.type === "float32" || v.type === "float64";
  const checkNaN = options.nanAsNull === true && (float || v.type === "float16");
  let fill = options.fillAsNull ? (v.fillValue ?? options.fillValue) : undefined;
  if (fill === null) fill = undefined;
  if (!checkNaN && fill === undefined) return { nullCount: 0 };
  let isNull: (x: number | bigint) => boolean;
  if (v.type === "float16") {
    isNull = (x) => (checkNaN && isNaN16(x as number)) || false;
  } else if (typeof fill === "number" && Number.isNaN(fill)) {
    isNull = (x) => Number.isNaN(x as number);
  } else {
    const f = fill === undefined ? undefined : typeof fill === "boolean" ? (fill ? 1 : 0) : fill;
    const fb = typeof values[0] === "bigint" && f !== undefined ? BigInt(f) : f;
    const fn = typeof fb === "bigint" ? fb : Number(fb);
    isNull = (x) => (checkNaN && Number.isNaN(x as number)) || (f !== undefined && x === fn);
  }
  let nullCount = 0;
  const valid = new Uint8Array(values.length);
  const vals = values as unknown as ArrayLike<number | bigint>;
  for (let i = 0; i < vals.length; i++) {
    if (isNull(vals[i]!)) nullCount++;
    else valid[i] = 1;
  }
  return nullCount === 0 ? { nullCount: 0 } : { valid, nullCount };
}

/** Opens a scan of `source`: resolves the table, the pushed-down box and the columns. */
export async function openScan(source: TableSource, options: ScanOptions = {}): Promise<Scan> {
  const batchRows = positiveInt(options.batchRows, DEFAULT_BATCH_ROWS, "batchRows");
  const slabRows = Math.max(batchRows, positiveInt(options.slabRows, 8 * batchRows, "slabRows"));
  const table = await resolveTable(source, {
    ...(options.table !== undefined ? { table: options.table } : {}),
    ...(options.arrays ? { arrays: options.arrays } : {}),
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const dimNames = new Set(table.dims.map((d) => d.name));
  const variables = options.columns
    ? options.columns
        .filter((c) => !dimNames.has(c))
        .map((c) => {
          const v = table.variables.find((x) => x.name === c);
          if (!v) {
            throw new OptionsError(
              `no column "${c}" in table "${table.name}" (columns: ${[...dimNames, ...table.variables.map((x) => x.name)].join(", ")})`,
            );
          }
          return v;
        })
    : table.variables;
  const ranges = whereToRanges(
    options.where,
    table.dims,
    table.variables.map((v) => v.name),
  );
  const totalRows = prod(ranges.map((r) => r.stop - r.start));
  const stats = Object.assign(options.stats ?? ({} as ScanStats), newScanStats());
  const columns: ColumnInfo[] = [
    ...table.dims.map((d) => ({ name: d.name, kind: "dimension" as const, type: d.type })),
    ...variables.map((v) => ({ name: v.name, kind: "variable" as const, type: v.type })),
  ];
  const align = variables[0];
  const chunk = align?.chunkShape ?? table.dims.map((d) => Math.max(1, d.size));
  const block = align?.blockShape;
  return {
    table,
    ranges,
    totalRows,
    columns,
    stats,
    batches: () =>
      scanBatches(
        table,
        variables,
        ranges,
        chunk,
        block,
        batchRows,
        slabRows,
        totalRows,
        stats,
        options,
      ),
  };
}

async function* scanBatches(
  table: TableSpec,
  variables: Variable[],
  ranges: IndexRange[],
  chunk: readonly number[],
  block: readonly number[] | undefined,
  batchRows: number,
  slabRows: number,
  totalRows: number,
  stats: ScanStats,
  options: ScanOptions,
): AsyncGenerator<ColumnBatch> {
  for (const v of variables)
    if (!stats.variablesRead.includes(v.name)) stats.variablesRead.push(v.name);
  const slabs = slabsOf(ranges, chunk, block, slabRows, options.mergeSlabs ?? true);
  const read = (box: IndexRange[]) =>
    Promise.all(variables.map((v) => v.read(box, stats, options.signal)));
  // One slab is read ahead while the previous one is handed out.
  let box = slabs.next();
  let next = box.done ? undefined : read(box.value);
  next?.catch(() => {});
  for (let s = 0; !box.done; s++) {
    const current = box.value;
    const values = await next!;
    box = slabs.next();
    next = box.done ? undefined : read(box.value);
    next?.catch(() => {});
    const rows = prod(current.map((r) => r.stop - r.start));
    for (const [i, v] of values.entries()) {
      if (v.length !== rows) {
        throw new FormatError(
          variables[i]!.name,
          `read ${v.length} values for a slab of ${rows} rows`,
        );
      }
    }
    for (let a = 0; a < rows; a += batchRows) {
      const b = Math.min(rows, a + batchRows);
      const columns: Column[] = table.dims.map((dim, d) => dimensionColumn(dim, current, d, a, b));
      variables.forEach((v, i) => {
        const vals = values[i]!.subarray(a, b) as TypedArray;
        columns.push({
          name: v.name,
          kind: "variable",
          type: v.type,
          values: vals,
          ...validity(v, vals, options),
        });
      });
      stats.rows += b - a;
      stats.batches++;
      yield { rows: b - a, columns, slab: s, slabEnd: b === rows };
      options.onProgress?.(stats.rows, totalRows);
    }
  }
}

export type { ScanStats, TableSource, TableSpec };
