// Opens the array behind a CLI argument: a .b2nd file or sparse b2nd directory (path or URL),
// or a Zarr v2/v3 array (a directory or URL; read through the package's partial-read `get`,
// so b2nd-codec chunks decode only the blocks a selection touches). zarrita is imported only
// for Zarr inputs: b2nd files work without it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type B2ndArray, openB2nd } from "../decode/b2nd-read.js";
import { OptionsError, ZarrBlosc2Error } from "../errors.js";
import { openSource } from "../io/source.js";
import { type DimRange, normalizeSelection, type Selection } from "../plan/selection.js";
import { loadZarrita, type ZarritaModule } from "../table/deps.js";

/** zarrita with this package's Blosc2 codecs registered. */
async function zarrita(neededBy: string): Promise<ZarritaModule> {
  const zarr = await loadZarrita(neededBy);
  const { registerBlosc2Codecs } = await import("../zarr/register.js");
  registerBlosc2Codecs(zarr.registry);
  return zarr;
}

/** What `slice` and `info` need of an array, whatever it is stored as. */
export interface CliArray {
  kind: "b2nd" | "zarr";
  shape: number[];
  ndim: number;
  /** NumPy dtype string of the values `read` returns (stored byte order for b2nd). */
  dtype: string;
  /** The opened array: a B2ndArray, or a zarrita Array. */
  array: unknown;
  read(selection: Selection): Promise<{ bytes: Uint8Array; shape: number[]; stats: ReadStats }>;
  /** The stored metadata (Zarr: zarr.json or .zarray with .zattrs), for `info`. */
  metadata(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface ReadStats {
  chunksTouched: number;
  blocksDecoded: number;
  bytesRead: number;
  requests: number;
}

const ZARR_FILES = ["zarr.json", ".zarray", ".zgroup"];

/** Opens a b2nd array on a source this function opens, and closes again if opening fails. */
async function openB2ndInput(input: string): Promise<CliArray> {
  const source = await openSource(input);
  try {
    return b2ndArray(await openB2nd(source), () => source.close?.());
  } catch (err) {
    await source.close?.();
    throw err;
  }
}

function b2ndArray(arr: B2ndArray, close: () => Promise<void> | undefined): CliArray {
  return {
    kind: "b2nd",
    shape: arr.shape,
    ndim: arr.ndim,
    dtype: arr.dtype,
    array: arr,
    async read(selection) {
      const r = await arr.get(selection);
      const data = r.data as ArrayBufferView;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return { bytes, shape: r.shape, stats: r.stats };
    },
    metadata: async () => ({}),
    // The source was opened here, so closing it is ours (closing twice is harmless).
    close: async () => {
      await arr.close();
      await close();
    },
  };
}

function isZarrDirectory(path: string): boolean {
  return ZARR_FILES.some((f) => existsSync(join(path, f)));
}

function isGroupMetadata(path: string): boolean {
  if (existsSync(join(path, ".zgroup"))) return true;
  try {
    return JSON.parse(readFileSync(join(path, "zarr.json"), "utf8")).node_type === "group";
  } catch {
    return false;
  }
}

/** Opens `input` (path or URL) as one array. */
export async function openCliArray(input: string): Promise<CliArray> {
  if (/^https?:\/\//i.test(input)) {
    if (/\.(b2nd|b2frame)\/?$/i.test(input)) return openB2ndInput(input);
    const zarr = await zarrita("this command on a Zarr URL");
    const store = new zarr.FetchStore(input.replace(/\/+$/, ""));
    let node: unknown;
    try {
      node = await zarr.open(store);
    } catch {
      // Not Zarr metadata there: the URL may still be a b2nd file without the extension.
      return openB2ndInput(input);
    }
    return zarrArray(input, node);
  }
  const path = resolve(input);
  // A missing path goes to openSource, whose SourceError names it.
  if (
    !existsSync(path) ||
    !statSync(path).isDirectory() ||
    existsSync(join(path, "chunks.b2frame"))
  ) {
    return openB2ndInput(path);
  }
  if (!isZarrDirectory(path)) {
    throw new OptionsError(
      `${input}: a directory that is neither a sparse b2nd frame (no chunks.b2frame) nor a Zarr array`,
    );
  }
  if (isGroupMetadata(path)) {
    throw new OptionsError(
      `${input} is a Zarr group: name one of its arrays (${input.replace(/\/+$/, "")}/<array>)`,
    );
  }
  const zarr = await zarrita("this command on a Zarr array");
  const { default: FileSystemStore } = await import("@zarrita/storage/fs");
  return zarrArray(input, await zarr.open(new FileSystemStore(path) as never));
}

interface ZarritaArrayLike {
  kind: string;
  shape: number[];
  dtype: string;
  path: string;
  store: { get(key: string): Promise<Uint8Array | undefined> };
}

/** The array's metadata documents as stored (v3 zarr.json, or v2 .zarray and .zattrs). */
async function storedMetadata(arr: ZarritaArrayLike): Promise<Record<string, unknown>> {
  const base = arr.path.replace(/\/+$/, "");
  const json = async (name: string) => {
    const bytes = await arr.store.get(`${base}/${name}`);
    if (!bytes) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    } catch {
      return undefined; // an HTML error page or junk: not metadata
    }
  };
  const v3 = await json("zarr.json");
  if (v3) return v3;
  const v2 = (await json(".zarray")) ?? {};
  const attrs = await json(".zattrs");
  return attrs ? { ...v2, attributes: attrs } : v2;
}

async function zarrArray(input: string, node: unknown): Promise<CliArray> {
  const arr = node as ZarritaArrayLike;
  if (arr.kind !== "array") {
    throw new OptionsError(`${input} is a Zarr group: name one of its arrays (<group>/<array>)`);
  }
  const { numpyDtypeOf, bytesOfChunkData } = await import("../zarr/dtype.js");
  const { get } = await import("../zarr/get.js");
  const dtype = numpyDtypeOf(arr.dtype);
  return {
    kind: "zarr",
    shape: arr.shape,
    ndim: arr.shape.length,
    dtype,
    array: arr,
    async read(selection) {
      const stats = {} as ReadStats;
      // zarrita takes positive steps only: read those and reverse the other dimensions after.
      const ranges = normalizeSelection(selection, arr.shape);
      const forward = ranges.map(ascending);
      const r = (await get(arr as never, forward as never, { stats: stats as never })) as
        | { data: unknown; shape: number[] }
        | number
        | bigint
        | boolean;
      if (typeof r !== "object") return { bytes: scalarBytes(r, dtype), shape: [], stats };
      const reversed = ranges
        .filter((d) => d.keep)
        .flatMap((d, axis) => (d.step < 0 && d.count > 1 ? [axis] : []));
      const bytes = reverseAxes(
        bytesOfChunkData(r.data),
        r.shape,
        Number(dtype.slice(2)),
        reversed,
      );
      return { bytes, shape: r.shape, stats };
    },
    metadata: () => storedMetadata(arr),
    close: async () => {},
  };
}

/** A dimension's selection for zarrita: an index, or the same indices in ascending order. */
function ascending(d: DimRange): number | { start: number; stop: number; step: number } {
  if (!d.keep) return d.start;
  if (d.count === 0) return { start: 0, stop: 0, step: 1 };
  const step = Math.abs(d.step);
  const first = d.step < 0 ? d.start + (d.count - 1) * d.step : d.start;
  return { start: first, stop: first + (d.count - 1) * step + 1, step };
}

/** C-order bytes of `shape` with the listed axes reversed (a new buffer when any is). */
function reverseAxes(
  bytes: Uint8Array,
  shape: readonly number[],
  itemsize: number,
  axes: readonly number[],
): Uint8Array {
  if (axes.length === 0) return bytes;
  const out = new Uint8Array(bytes.length);
  const n = bytes.length / itemsize;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const flip = new Set(axes);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let d = 0; d < shape.length; d++) {
      const k = Math.floor(i / strides[d]!) % shape[d]!;
      j += (flip.has(d) ? shape[d]! - 1 - k : k) * strides[d]!;
    }
    out.set(bytes.subarray(i * itemsize, (i + 1) * itemsize), j * itemsize);
  }
  return out;
}

/** One value of a 0-d result (zarrita returns a plain value for all-integer selections). */
function scalarBytes(value: number | bigint | boolean, dtype: string): Uint8Array {
  const size = Number(dtype.slice(2));
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const kind = dtype[1];
  if (kind === "b") out[0] = value ? 1 : 0;
  else if (kind === "f" && size === 8) view.setFloat64(0, Number(value), true);
  else if (kind === "f" && size === 4) view.setFloat32(0, Number(value), true);
  else if (kind === "f" && size === 2)
    view.setUint16(0, Number(value), true); // raw bits
  else if (size === 8) view.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
  else if (size === 4) view.setUint32(0, Number(value) >>> 0, true);
  else if (size === 2) view.setUint16(0, Number(value) & 0xffff, true);
  else if (size === 1) out[0] = Number(value) & 0xff;
  else throw new ZarrBlosc2Error(`cannot write a ${dtype} scalar`);
  return out;
}
