// Shared by the table-layer tests: the table fixtures (fixtures/generate_table.py), stores
// that record which keys were read, and .npy values as plain numbers.
import { readFileSync } from "node:fs";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { registerBlosc2Codecs } from "../src/index.js";
import { FIXTURES, readNpy } from "./helpers.js";

registerBlosc2Codecs(zarr.registry);

export interface WhereCase {
  name: string;
  where: Record<string, unknown>;
  box: [number, number][];
  rows: number;
  temp_nansum: number;
  temp_nan: number;
}

export interface SqlCase {
  name: string;
  query: string;
  rows: (number | null)[][];
  pushdown?: Record<string, unknown>;
}

export interface TableManifest {
  arrays: {
    store: string;
    name: string;
    path: string;
    npy: string;
    dtype: string;
    shape: number[];
  }[];
  tables: Record<string, { name: string; dims: string[]; variables: string[] }[]>;
  where: WhereCase[];
  sql: SqlCase[];
}

export function readTableManifest(dir = FIXTURES): TableManifest {
  return JSON.parse(readFileSync(`${dir}/table-manifest.json`, "utf8")) as TableManifest;
}

/** Values of a fixture array as numbers (NaN kept), from its .npy. */
export function npyValues(store: string, name: string): { values: number[]; shape: number[] } {
  const m = readTableManifest();
  const a = m.arrays.find((x) => x.store === store && x.name === name);
  if (!a) throw new Error(`no fixture array ${store}/${name}`);
  const npy = readNpy(`${FIXTURES}/${a.npy}`);
  return { values: numbersOf(npy.dtype, npy.data), shape: npy.shape };
}

export function numbersOf(dtype: string, bytes: Uint8Array): number[] {
  const copy = bytes.slice();
  const b = copy.buffer;
  const arr = {
    "<f4": () => new Float32Array(b),
    "<f8": () => new Float64Array(b),
    "<i2": () => new Int16Array(b),
    "<i4": () => new Int32Array(b),
    "<i8": () => Array.from(new BigInt64Array(b), Number),
    "<u2": () => new Uint16Array(b),
    "|u1": () => new Uint8Array(b),
  }[dtype];
  if (!arr) throw new Error(`numbersOf: dtype ${dtype}`);
  return Array.from(arr() as ArrayLike<number>);
}

/** A local store that records every key it is asked for. */
export class RecordingStore extends FileSystemStore {
  keys: string[] = [];
  override get(
    key: Parameters<FileSystemStore["get"]>[0],
    opts?: Parameters<FileSystemStore["get"]>[1],
  ) {
    this.keys.push(key);
    return super.get(key, opts);
  }
  override getRange(
    key: Parameters<FileSystemStore["getRange"]>[0],
    range: Parameters<FileSystemStore["getRange"]>[1],
    opts?: Parameters<FileSystemStore["getRange"]>[2],
  ) {
    this.keys.push(key);
    return super.getRange(key, range, opts);
  }
}

export async function openGroup(path: string, store = new FileSystemStore(`${FIXTURES}/${path}`)) {
  return zarr.open(store, { kind: "group" });
}

export async function openArray(path: string) {
  return zarr.open(new FileSystemStore(`${FIXTURES}/${path}`), { kind: "array" });
}

/** Row-major meshgrid: the value of dimension `d` for every point of `shape`. */
export function meshColumn<T>(coords: readonly T[], shape: readonly number[], d: number): T[] {
  const out: T[] = [];
  const total = shape.reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < total; i++) out.push(coords[Math.floor(i / inner) % shape[d]!]!);
  return out;
}

/** Sums that tolerate float rounding of different summation orders. */
export function close(a: number | null, b: number | null, rel = 1e-9): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}
