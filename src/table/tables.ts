// What a source looks like as tables: dimensions (with coordinate values when the group has a
// 1-D array named after the dimension) and variables (arrays over exactly those dimensions),
// each variable with a reader for an N-D box. Sources: a b2nd array (openB2nd), a zarrita
// array, or a zarrita group (one table per set of arrays sharing the same dimensions).
// zarrita is only ever imported dynamically here, like in src/zarr.
import { B2ndArray } from "../decode/b2nd-read.js";
import { OptionsError } from "../errors.js";
import { arrayFor, parseDtype, type TypedArray, toNativeByteOrder } from "../format/dtype.js";
import { type ZarrGetStats, get as zarrGet } from "../zarr/get.js";
import type { IndexRange } from "./where.js";

export type ColumnType =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float16"
  | "float32"
  | "float64";

/** Counters of everything a scan read (summed over its reads). */
export interface ScanStats {
  /** Chunks touched (Zarr chunks or inner chunks for Zarr sources, b2nd chunks otherwise). */
  chunksTouched: number;
  /** b2nd blocks decompressed (0 for Zarr arrays read through zarr.get). */
  blocksDecoded: number;
  bytesRead: number;
  requests: number;
  /** Reads made (one per variable per slab). */
  reads: number;
  /** Rows produced. */
  rows: number;
  /** Batches produced. */
  batches: number;
  /** Variables that were read, by name. */
  variablesRead: string[];
}

export function newScanStats(): ScanStats {
  return {
    chunksTouched: 0,
    blocksDecoded: 0,
    bytesRead: 0,
    requests: 0,
    reads: 0,
    rows: 0,
    batches: 0,
    variablesRead: [],
  };
}

export interface Dimension {
  name: string;
  size: number;
  /** Coordinate values (native typed array, bool as 0/1), when a coordinate array exists. */
  coords?: TypedArray;
  /** Column type: the coordinate array's, or int64 for indices. */
  type: ColumnType;
}

export interface Variable {
  name: string;
  type: ColumnType;
  shape: number[];
  /** Chunk shape (Zarr chunks, or inner chunks of shards), the preferred slab alignment. */
  chunkShape: number[];
  /** Block shape inside chunks when known (b2nd), a finer alignment for small slabs. */
  blockShape?: number[];
  /** The array's fill value (Zarr), for fillAsNull. */
  fillValue?: number | bigint | boolean | null;
  /** Reads the box `ranges` (step 1) as a native typed array in C order. */
  read(ranges: readonly IndexRange[], stats: ScanStats, signal?: AbortSignal): Promise<TypedArray>;
}

export interface TableSpec {
  /** The dimension names joined by ",". */
  name: string;
  dims: Dimension[];
  variables: Variable[];
}

/** Anything shaped like a zarrita Array or Group (kept structural: zarrita is optional). */
interface ZarrLocation {
  kind: "array" | "group";
  store: unknown;
  path: string;
  attrs: Record<string, unknown>;
  resolve(path: string): unknown;
}
interface ZarrArrayLike extends ZarrLocation {
  kind: "array";
  shape: number[];
  chunks: number[];
  dtype: string;
  dimensionNames?: string[] | undefined;
  fillValue: unknown;
}

export type TableSource = B2ndArray | ZarrLocation;

export interface TablesOptions {
  /** For groups: the child arrays to use, when the store cannot list them. */
  arrays?: readonly string[];
  signal?: AbortSignal;
}

const TYPES: Record<string, ColumnType> = {
  b1: "bool",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  u2: "uint16",
  u4: "uint32",
  u8: "uint64",
  f2: "float16",
  f4: "float32",
  f8: "float64",
};

function columnTypeOf(numpy: string, where: string): ColumnType {
  const d = parseDtype(numpy, where);
  const t = TYPES[`${d.kind}${d.itemsize}`];
  if (!t) throw new OptionsError(`${where}: dtype ${d.name} cannot be a table column`);
  return t;
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function slices(ranges: readonly IndexRange[]) {
  return ranges.map((r) => ({ start: r.start, stop: r.stop, step: 1 }));
}

function isB2nd(source: unknown): source is B2ndArray {
  return source instanceof B2ndArray;
}

function isZarr(source: unknown): source is ZarrLocation {
  const s = source as ZarrLocation;
  return (
    s !== null &&
    typeof s === "object" &&
    (s.kind === "array" || s.kind === "group") &&
    typeof s.path === "string" &&
    typeof s.resolve === "function"
  );
}

function baseName(path: string): string {
  return (
    path
      .split("/")
      .filter((p) => p !== "")
      .at(-1) ?? ""
  );
}

function unnamedDims(n: number): string[] {
  return Array.from({ length: n }, (_, d) => `dim_${d}`);
}

function b2ndTable(arr: B2ndArray): TableSpec {
  const type = columnTypeOf(arr.dtype, arr.name);
  const names = unnamedDims(arr.ndim);
  const variable: Variable = {
    name: "value",
    type,
    shape: arr.shape,
    chunkShape: arr.chunkShape,
    blockShape: arr.blockShape,
    async read(ranges, stats, signal) {
      const r = await arr.get(slices(ranges), signal ? { signal } : {});
      addStats(stats, r.stats);
      if (r.data instanceof Uint8Array && !arr.dtypeInfo.littleEndian) {
        return toNativeByteOrder(r.data, arr.dtypeInfo);
      }
      return r.data;
    },
  };
  return {
    name: names.join(","),
    dims: names.map((name, d) => ({ name, size: arr.shape[d]!, type: "int64" })),
    variables: [variable],
  };
}

function addStats(
  stats: ScanStats,
  s: { chunksTouched: number; blocksDecoded: number; bytesRead: number; requests: number },
): void {
  stats.chunksTouched += s.chunksTouched;
  stats.blocksDecoded += s.blocksDecoded;
  stats.bytesRead += s.bytesRead;
  stats.requests += s.requests;
  stats.reads++;
}

/** Bytes of zarrita data (typed arrays, BoolArray) without copying. */
function bytesOf(data: unknown, where: string): Uint8Array {
  const d = data as { buffer?: ArrayBufferLike; byteOffset?: number; byteLength?: number };
  if (
    ArrayBuffer.isView(data) ||
    (d?.buffer instanceof ArrayBuffer && d.byteLength !== undefined)
  ) {
    return new Uint8Array(d.buffer!, d.byteOffset ?? 0, d.byteLength);
  }
  throw new OptionsError(`${where}: values of this array are not numeric`);
}

function zarrVariable(arr: ZarrArrayLike, name: string): Variable {
  const where = `zarr array ${arr.path}`;
  const type = columnTypeOf(arr.dtype, where);
  const dtype = parseDtype(type, where);
  return {
    name,
    type,
    shape: arr.shape,
    chunkShape: arr.chunks,
    fillValue: arr.fillValue as Variable["fillValue"],
    async read(ranges, stats, signal) {
      const zstats = {} as ZarrGetStats;
      const r = (await zarrGet(arr as never, slices(ranges), {
        stats: zstats,
        ...(signal ? { signal } : {}),
      })) as { data: unknown };
      addStats(stats, zstats);
      const bytes = bytesOf(r.data, where);
      const aligned = bytes.byteOffset % dtype.itemsize === 0 ? bytes : bytes.slice();
      return arrayFor(dtype, aligned);
    },
  };
}

function dimNamesOf(arr: ZarrArrayLike): string[] | undefined {
  const names = arr.dimensionNames ?? (arr.attrs?._ARRAY_DIMENSIONS as string[] | undefined);
  if (!Array.isArray(names) || names.length !== arr.shape.length) return undefined;
  if (names.some((n) => typeof n !== "string" || n === "")) return undefined;
  return names;
}

async function openZarr(
  location: unknown,
  kind: "array" | "group" | undefined,
): Promise<ZarrLocation | undefined> {
  const zarr = await import("zarrita");
  try {
    return (await zarr.open(location as never, kind ? { kind } : {})) as unknown as ZarrLocation;
  } catch (err) {
    if (err instanceof zarr.NotFoundError || (err as Error)?.name === "NotFoundError")
      return undefined;
    throw err;
  }
}

/** A 1-D coordinate array named after the dimension, next to `parent`, or undefined. */
async function coordinate(
  parent: ZarrLocation,
  dim: string,
  size: number,
  signal?: AbortSignal,
): Promise<{ coords: TypedArray; type: ColumnType } | undefined> {
  if (dim.includes("/")) return undefined;
  const found = await openZarr(parent.resolve(dim), "array").catch(() => undefined);
  if (found?.kind !== "array") return undefined;
  const arr = found as ZarrArrayLike;
  if (arr.shape.length !== 1 || arr.shape[0] !== size) return undefined;
  const v = zarrVariable(arr, dim);
  if (v.type === "bool" || v.type === "float16") return undefined;
  const coords = await v.read([{ start: 0, stop: size }], newScanStats(), signal);
  return { coords, type: v.type };
}

async function dimensions(
  parent: ZarrLocation | undefined,
  names: string[],
  shape: number[],
  named: boolean,
  signal?: AbortSignal,
): Promise<Dimension[]> {
  return Promise.all(
    names.map(async (name, d) => {
      const size = shape[d]!;
      const c = named && parent ? await coordinate(parent, name, size, signal) : undefined;
      return c ? { name, size, coords: c.coords, type: c.type } : { name, size, type: "int64" };
    }),
  );
}

/** Names of a group's children: explicit, consolidated metadata, or a local directory. */
async function childNames(group: ZarrLocation, options: TablesOptions): Promise<string[]> {
  if (options.arrays) return [...options.arrays];
  const store = group.store as {
    contents?: () => { path: string; kind: string }[];
    root?: unknown;
  };
  const prefix = group.path.endsWith("/") ? group.path : `${group.path}/`;
  if (typeof store.contents === "function") {
    return store
      .contents()
      .filter((c) => c.kind === "array" && c.path.startsWith(prefix))
      .map((c) => c.path.slice(prefix.length))
      .filter((p) => p !== "" && !p.includes("/"));
  }
  if (typeof store.root === "string") {
    const { readdir } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const entries = await readdir(join(store.root, group.path), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  }
  throw new OptionsError(
    `zarr group ${group.path}: its store cannot list arrays; pass options.arrays or open the store with zarr.withConsolidatedMetadata`,
  );
}

async function zarrArrayTable(arr: ZarrArrayLike, options: TablesOptions): Promise<TableSpec> {
  const names = dimNamesOf(arr);
  const parentPath = arr.path.split("/").slice(0, -1).join("/") || "/";
  const parent = arr.path === "/" ? undefined : (arr.resolve(parentPath) as ZarrLocation);
  const dimNames = names ?? unnamedDims(arr.shape.length);
  const variableName = baseName(arr.path) || "value";
  return {
    name: dimNames.join(","),
    dims: await dimensions(parent, dimNames, arr.shape, names !== undefined, options.signal),
    variables: [zarrVariable(arr, variableName)],
  };
}

async function zarrGroupTables(group: ZarrLocation, options: TablesOptions): Promise<TableSpec[]> {
  const arrays: ZarrArrayLike[] = [];
  for (const name of await childNames(group, options)) {
    const child = await openZarr(group.resolve(name), undefined);
    if (child?.kind === "array") arrays.push(child as ZarrArrayLike);
    else if (options.arrays && !child) {
      throw new OptionsError(`zarr group ${group.path}: no array "${name}"`);
    }
  }
  const byKey = new Map<string, { names: string[]; named: boolean; arrays: ZarrArrayLike[] }>();
  for (const arr of arrays) {
    const names = dimNamesOf(arr);
    // A 1-D array named after its own dimension is that dimension's coordinates.
    if (names?.length === 1 && names[0] === baseName(arr.path)) continue;
    const dimNames = names ?? unnamedDims(arr.shape.length);
    const key = JSON.stringify([dimNames, arr.shape]);
    const entry = byKey.get(key) ?? { names: dimNames, named: names !== undefined, arrays: [] };
    entry.arrays.push(arr);
    byKey.set(key, entry);
  }
  const tables: TableSpec[] = [];
  const used = new Set<string>();
  for (const entry of byKey.values()) {
    const shape = entry.arrays[0]!.shape;
    let name = entry.names.join(",");
    if (used.has(name)) name = `${name}(${shape.join("x")})`;
    used.add(name);
    tables.push({
      name,
      dims: await dimensions(group, entry.names, shape, entry.named, options.signal),
      variables: entry.arrays.map((a) => zarrVariable(a, baseName(a.path))),
    });
  }
  return tables;
}

/**
 * The tables of a source: one for an array, one per set of arrays sharing the same
 * dimensions (names and sizes) for a group. Coordinate arrays are dimensions, not variables.
 */
export async function listTables(
  source: TableSource,
  options: TablesOptions = {},
): Promise<TableSpec[]> {
  if (isB2nd(source)) return [b2ndTable(source)];
  if (isZarr(source)) {
    if (source.kind === "array") return [await zarrArrayTable(source as ZarrArrayLike, options)];
    return zarrGroupTables(source, options);
  }
  throw new OptionsError(
    "table source must be a b2nd array (openB2nd), a zarrita array or a zarrita group",
  );
}

/**
 * The one table to scan: `table` by name (dimension names joined by ","), else the table
 * holding the requested columns, else the only table.
 */
export async function resolveTable(
  source: TableSource,
  options: TablesOptions & { table?: string; columns?: readonly string[] },
): Promise<TableSpec> {
  const tables = await listTables(source, options);
  const names = () =>
    tables.map((t) => `"${t.name}" (${t.variables.map((v) => v.name).join(", ")})`);
  if (options.table !== undefined) {
    const t = tables.find((x) => x.name === options.table);
    if (!t) throw new OptionsError(`no table "${options.table}"; tables: ${names().join("; ")}`);
    return t;
  }
  if (tables.length === 1) return tables[0]!;
  if (tables.length === 0) throw new OptionsError("the group holds no arrays to make a table of");
  const wanted = (options.columns ?? []).filter((c) => tables.some((t) => hasVariable(t, c)));
  const candidates = tables.filter(
    (t) => wanted.length > 0 && wanted.every((c) => hasVariable(t, c)),
  );
  if (candidates.length === 1) return candidates[0]!;
  throw new OptionsError(
    `the group holds ${tables.length} tables: choose one with options.table (${names().join("; ")})`,
  );
}

function hasVariable(t: TableSpec, name: string): boolean {
  return t.variables.some((v) => v.name === name);
}

export function tableRows(t: TableSpec): number {
  return prod(t.dims.map((d) => d.size));
}

export type { ZarrArrayLike, ZarrLocation };
