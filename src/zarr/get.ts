// get(array, selection): zarr.get for arrays whose chunks are b2nd frames (the `b2nd`
// array->bytes codec, alone or inside sharding_indexed). It plans which Zarr chunks (or inner
// chunks of shards) a selection touches, reads each frame's header and index with the store's
// getRange, and lets the b2nd reader fetch and decode only the blocks inside the selection.
// Every other array goes through zarr.get, with its reads counted.
// zarrita is an optional peer dependency: everything that loads it is imported on first use,
// so the package entry can export this function without requiring zarrita.
import type { AbsolutePath, RangeQuery } from "@zarrita/storage";
import type * as zarr from "zarrita";
import { openB2nd } from "../decode/b2nd-read.js";
import { inChunk } from "../decode/chunk-error.js";
import type { DecodePool } from "../decode/pool.js";
import { FormatError, OptionsError, ZarrBlosc2Error } from "../errors.js";
import { forEachLimited } from "../io/pool.js";
import {
  describeReason,
  newStats,
  SourceError,
  type SourceStats,
  throwIfAborted,
} from "../io/source.js";
import { type ChunkPlan, planRead } from "../plan/b2nd-plan.js";
import {
  cStrides,
  type DimSelection,
  normalizeSelection,
  resultShape,
  type Slice,
} from "../plan/selection.js";
import { crc32c } from "./crc32c.js";
import {
  keyName,
  MissingChunk,
  type RangeStore,
  StoreRangeSource,
  storeFailure,
  storeRange,
} from "./store-source.js";

export interface ZarrGetOptions {
  signal?: AbortSignal;
  /** Merge block byte ranges closer than this (default 64 KiB). */
  mergeGap?: number;
  /** Refuse chunks or results above this many bytes (default 2 GiB). */
  maxDecodedBytes?: number;
  /** Chunks read at once (default 4). */
  concurrency?: number;
  /** Filled with the stats of this call (also for scalar results, which carry none). */
  stats?: ZarrGetStats;
  /** Decode b2nd blocks in this pool's workers (see createDecodePool). */
  pool?: DecodePool;
  /** Decoded bytes per wasm call on the b2nd path (default 4 MiB; see openB2nd). */
  batchBytes?: number;
}

export interface ZarrGetStats {
  /** "b2nd" when blocks were read selectively, else "zarr.get" (whole chunks). */
  path: "b2nd" | "zarr.get";
  /** Why whole chunks were read, when path is "zarr.get". */
  fallback?: string;
  /** Zarr chunks (inner chunks of shards) the selection touches, missing ones included. */
  chunksTouched: number;
  /** Touched chunks that were not stored (read as the fill value). */
  missingChunks: number;
  /** b2nd blocks decompressed (0 on the zarr.get path, which does not count them). */
  blocksDecoded: number;
  /** Bytes returned by the store for this call. */
  bytesRead: number;
  /** Store requests (get and getRange) made by this call. */
  requests: number;
}

type AnyArray = zarr.Array<zarr.DataType, zarr.Readable>;
type Selection = (number | bigint | zarr.Slice | null)[] | null | undefined;

// The public signature is structural, so the package's types compile without zarrita (an
// optional peer): a zarrita Array is a ZarrArrayLike, and the results match zarr.get's.

/** The members of a zarrita Array that `get` reads. */
export interface ZarrArrayLike<D extends string = string> {
  readonly dtype: D;
  readonly shape: number[];
  readonly chunks: number[];
  readonly path: string;
  readonly store: unknown;
  readonly fillValue: unknown;
}

/** zarrita's BoolArray (bool data), as far as reading goes. */
export interface ZarrBoolArray extends Iterable<boolean> {
  readonly length: number;
  readonly buffer: ArrayBufferLike;
  get(index: number): boolean;
}

/** The array zarrita holds values of Zarr data type `D` in (as zarr.get returns them). */
export type ZarrDataOf<D extends string> = D extends "bool"
  ? ZarrBoolArray
  : D extends "int8"
    ? Int8Array
    : D extends "uint8"
      ? Uint8Array
      : D extends "int16"
        ? Int16Array
        : D extends "uint16"
          ? Uint16Array
          : D extends "int32"
            ? Int32Array
            : D extends "uint32"
              ? Uint32Array
              : D extends "int64"
                ? BigInt64Array
                : D extends "uint64"
                  ? BigUint64Array
                  : D extends "float32"
                    ? Float32Array
                    : D extends "float64"
                      ? Float64Array
                      : unknown; // float16 (Float16Array where the runtime has one), strings...

/** One value of Zarr data type `D` (the result of a selection of integers only). */
export type ZarrScalarOf<D extends string> = D extends "bool"
  ? boolean
  : D extends "int64" | "uint64"
    ? bigint
    : D extends `${"int" | "uint" | "float"}${number}`
      ? number
      : unknown;

/** What `get` returns for a selection that keeps at least one dimension. */
export interface ZarrChunk<D extends string = string> {
  data: ZarrDataOf<D>;
  shape: number[];
  stride: number[];
  stats: ZarrGetStats;
}

/** A selection entry: an index, a slice (zarr.slice or this package's), or null (all). */
export type ZarrDimSelection = number | bigint | Slice | null;

interface ArrayMeta {
  zarr_format?: number;
  shape: number[];
  data_type: string;
  chunk_grid?: { name: string; configuration?: { chunk_shape?: number[] } };
  chunk_key_encoding?: { name: string; configuration?: { separator?: string } };
  codecs?: { name: string; configuration?: Record<string, unknown> }[];
}

interface B2ndLayout {
  kind: "b2nd";
  /** Shape of the frames: the Zarr chunk shape, or the inner chunk shape of shards. */
  unitShape: number[];
  /** For sharded arrays: the shard shape and the index layout. */
  shard?: { shape: number[]; indexAtEnd: boolean; crc: boolean };
  encodeKey(coords: number[]): string;
}

type Layout = B2ndLayout | { kind: "fallback"; reason: string };

const layouts = new WeakMap<object, Promise<Layout>>();

function keyEncoder(meta: ArrayMeta): (coords: number[]) => string {
  const enc = meta.chunk_key_encoding ?? { name: "default" };
  if (enc.name === "v2") {
    const sep = enc.configuration?.separator ?? ".";
    return (c) => (c.length === 0 ? "0" : c.join(sep));
  }
  const sep = enc.configuration?.separator ?? "/";
  return (c) => ["c", ...c].join(sep);
}

function isB2nd(
  codecs: ArrayMeta["codecs"],
): codecs is [{ name: "b2nd"; configuration?: Record<string, unknown> }] {
  return codecs?.length === 1 && codecs[0]!.name === "b2nd";
}

/** Index codecs we can read: bytes (little-endian), optionally followed by crc32c. */
function indexLayout(codecs: unknown): { crc: boolean } | undefined {
  if (!Array.isArray(codecs)) return undefined;
  const names = codecs.map((c: { name?: string; configuration?: { endian?: string } }) => {
    if (c?.name === "bytes" && (c.configuration?.endian ?? "little") !== "little")
      return "bytes-big";
    return c?.name;
  });
  if (names.length === 1 && names[0] === "bytes") return { crc: false };
  if (names.length === 2 && names[0] === "bytes" && names[1] === "crc32c") return { crc: true };
  return undefined;
}

async function readLayout(arr: AnyArray, store: RangeStore): Promise<Layout> {
  const { parseB2ndConfig: parse } = await import("./codecs/b2nd.js");
  // Configuration errors name the array: the codec itself does not know where it is used.
  const parseB2ndConfig = (config: unknown, shape: number[], dataType: string) => {
    try {
      return parse(config, shape, dataType);
    } catch (err) {
      if (err instanceof OptionsError)
        throw new OptionsError(`${arr.path}/zarr.json: ${err.message}`);
      throw err;
    }
  };
  if (typeof store.getRange !== "function") {
    return { kind: "fallback", reason: "the store has no getRange: whole chunks were read" };
  }
  // As zarrita's open does: a zarr.json that is missing or not JSON (a server's HTML page for
  // a missing file, with status 200) means "not v3". zarrita opened the array, so it was then
  // opened as v2. A zarr.json that does not describe this array (zarr.open.v2 ignoring v3
  // metadata beside it) is not this array's either.
  const notV3: Layout = { kind: "fallback", reason: "not a Zarr v3 array (no b2nd codec)" };
  const raw = await store.get(arr.resolve("zarr.json").path);
  if (raw === undefined) return notV3;
  let meta: ArrayMeta & { node_type?: unknown };
  try {
    meta = JSON.parse(new TextDecoder().decode(raw)) as typeof meta;
  } catch {
    return notV3;
  }
  if (
    meta === null ||
    typeof meta !== "object" ||
    meta.zarr_format !== 3 ||
    meta.node_type !== "array" ||
    !Array.isArray(meta.shape) ||
    meta.shape.length !== arr.shape.length ||
    meta.shape.some((n, d) => n !== arr.shape[d]) ||
    meta.data_type !== arr.dtype
  ) {
    return notV3;
  }
  if (meta.chunk_grid?.name !== "regular")
    return { kind: "fallback", reason: "not a regular chunk grid" };
  const outer = meta.chunk_grid.configuration?.chunk_shape ?? arr.chunks;
  const encodeKey = keyEncoder(meta);
  const codecs = meta.codecs;
  if (isB2nd(codecs)) {
    parseB2ndConfig(codecs[0].configuration ?? {}, outer, meta.data_type);
    return { kind: "b2nd", unitShape: outer, encodeKey };
  }
  if (codecs?.length === 1 && codecs[0]!.name === "sharding_indexed") {
    const cfg = codecs[0]!.configuration ?? {};
    const inner = cfg.chunk_shape as number[] | undefined;
    const innerCodecs = cfg.codecs as ArrayMeta["codecs"];
    const index = indexLayout(cfg.index_codecs);
    if (!Array.isArray(inner) || !isB2nd(innerCodecs)) {
      return { kind: "fallback", reason: "sharded, but the inner codec is not b2nd" };
    }
    if (!index) return { kind: "fallback", reason: "shard index codecs other than bytes + crc32c" };
    if (inner.length !== outer.length || inner.some((n, d) => n <= 0 || outer[d]! % n !== 0)) {
      throw new FormatError(
        `${arr.path}/zarr.json`,
        `shard shape ${JSON.stringify(outer)} is not a multiple of the inner chunk shape ${JSON.stringify(inner)}`,
      );
    }
    parseB2ndConfig(innerCodecs[0].configuration ?? {}, inner, meta.data_type);
    return {
      kind: "b2nd",
      unitShape: inner,
      shard: { shape: outer, indexAtEnd: (cfg.index_location ?? "end") === "end", crc: index.crc },
      encodeKey,
    };
  }
  return { kind: "fallback", reason: "the array->bytes codec is not b2nd" };
}

/** Counts requests and bytes of any store, for the zarr.get path. */
function countingStore(store: RangeStore, stats: SourceStats): RangeStore {
  const counted: RangeStore = {
    async get(key, opts) {
      stats.requests++;
      let bytes: Uint8Array | undefined;
      try {
        opts?.signal?.throwIfAborted();
        bytes = await store.get(key, opts);
      } catch (cause) {
        throw storeFailure(store, key, undefined, cause, opts?.signal);
      }
      if (bytes) stats.bytesRead += bytes.length;
      return bytes;
    },
  };
  if (typeof store.getRange === "function") {
    counted.getRange = (key, range, opts) => storeRange(store, key, range, stats, opts?.signal);
  }
  return counted;
}

/** The fill value as the bytes of one element (little-endian), or undefined for all zeros. */
function fillBytes(dataType: string, itemsize: number, value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined || value === 0 || value === false || value === 0n)
    return undefined;
  const out = new Uint8Array(itemsize);
  const v = new DataView(out.buffer);
  if (dataType === "bool") out[0] = value ? 1 : 0;
  else if (dataType.startsWith("float")) {
    const x = Number(value);
    if (itemsize === 8) v.setFloat64(0, x, true);
    else if (itemsize === 4) v.setFloat32(0, x, true);
    else return halfBytes(x);
  } else if (dataType.startsWith("int") || dataType.startsWith("uint")) {
    if (itemsize === 8)
      v.setBigUint64(0, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
    else {
      const n = Number(value);
      for (let i = 0; i < itemsize; i++) out[i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    }
  } else {
    throw new OptionsError(`get: fill value of data type ${dataType} is not supported`);
  }
  return out;
}

function halfBytes(x: number): Uint8Array {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let h: number;
  if (Number.isNaN(x)) h = 0x7e00;
  else if (exp >= 0x1f) h = sign | 0x7c00;
  else if (exp <= 0) h = sign;
  else h = sign | (exp << 10) | ((u >>> 13) & 0x3ff);
  return new Uint8Array([h & 0xff, h >> 8]);
}

/** Copies a C-order block of `shape` into `out` (C order, `outShape`) at `offset`. */
function copyRegion(
  out: Uint8Array,
  outShape: number[],
  offset: number[],
  src: Uint8Array | undefined,
  fill: Uint8Array | undefined,
  shape: number[],
  itemsize: number,
): void {
  if (src === undefined && fill === undefined) return; // zeros already
  const ndim = shape.length;
  const outStrides = cStrides(outShape);
  const rowItems = ndim === 0 ? 1 : shape[ndim - 1]!;
  const rowBytes = rowItems * itemsize;
  let row: Uint8Array | undefined;
  if (src === undefined) {
    row = new Uint8Array(rowBytes);
    for (let i = 0; i < rowBytes; i += itemsize) row.set(fill!, i);
  }
  const idx = new Array<number>(Math.max(ndim - 1, 0)).fill(0);
  let srcAt = 0;
  for (;;) {
    let o = 0;
    for (let d = 0; d < ndim; d++)
      o += ((d < ndim - 1 ? idx[d]! : 0) + offset[d]!) * outStrides[d]!;
    out.set(row ?? src!.subarray(srcAt, srcAt + rowBytes), o * itemsize);
    srcAt += rowBytes;
    let d = ndim - 2;
    while (d >= 0 && ++idx[d]! === shape[d]!) idx[d--] = 0;
    if (d < 0) break;
  }
}

/** The part of one frame the selection needs, in the frame's own coordinates. */
function subSelection(
  cp: ChunkPlan,
  ranges: ReturnType<typeof normalizeSelection>,
): DimSelection[] {
  return cp.segments.map((segs, d) => {
    const seg = segs[0]!; // one segment per dimension: a frame is one "block" of the plan
    const r = ranges[d]!;
    if (!r.keep) return seg.local;
    const n = seg.k1 - seg.k0;
    const last = seg.local + (n - 1) * r.step;
    const stop = r.step > 0 ? last + 1 : last - 1 < 0 ? null : last - 1;
    return { start: seg.local, stop, step: r.step };
  });
}

/**
 * A drop-in for zarr.get (same arguments, same result, plus `stats`). For arrays whose chunks
 * are b2nd frames it reads only the blocks the selection touches.
 */
export async function get<D extends string, Sel extends ZarrDimSelection[]>(
  array: ZarrArrayLike<D>,
  selection?: Sel | null,
  options: ZarrGetOptions = {},
): Promise<
  null extends Sel[number]
    ? ZarrChunk<D>
    : Slice extends Sel[number]
      ? ZarrChunk<D>
      : ZarrScalarOf<D>
> {
  const arr = array as unknown as AnyArray;
  const store = arr.store as unknown as RangeStore;
  const stats: ZarrGetStats = Object.assign(options.stats ?? ({} as ZarrGetStats), {
    path: "b2nd",
    chunksTouched: 0,
    missingChunks: 0,
    blocksDecoded: 0,
    bytesRead: 0,
    requests: 0,
  });
  delete stats.fallback;
  const name = keyName(store, arr.path);
  throwIfAborted(name, undefined, options.signal);
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the conditional type above is the contract
    return (await getWith(arr, store, name, selection as Selection, options, stats)) as any;
  } catch (err) {
    // zarrita and signal.throwIfAborted() reject with the bare abort reason: name the array.
    if (options.signal?.aborted && !(err instanceof ZarrBlosc2Error)) {
      throw new SourceError(name, undefined, `aborted (${describeReason(options.signal.reason)})`, {
        cause: err,
      });
    }
    throw err;
  }
}

async function getWith(
  arr: AnyArray,
  store: RangeStore,
  name: string,
  selection: Selection,
  options: ZarrGetOptions,
  stats: ZarrGetStats,
): Promise<unknown> {
  const io = newStats();
  let layoutPromise = layouts.get(arr);
  if (!layoutPromise) {
    layoutPromise = readLayout(arr, countingStore(store, io));
    layouts.set(arr, layoutPromise);
    layoutPromise.catch(() => layouts.delete(arr));
  }
  const layout = await layoutPromise;
  const sel = selection?.map((s) => (typeof s === "bigint" ? Number(s) : s)) as
    | DimSelection[]
    | null
    | undefined;
  const ranges = normalizeSelection(
    sel?.map((s) =>
      s !== null && typeof s === "object"
        ? {
            start: s.start === null ? null : Number(s.start),
            stop: s.stop === null ? null : Number(s.stop),
            step: s.step === null ? null : Number(s.step),
          }
        : s,
    ),
    arr.shape,
  );

  if (layout.kind === "fallback") {
    const z = await import("zarrita");
    const location = new z.Location(countingStore(store, io) as zarr.Readable, arr.path);
    const counted = await z.open(location, { kind: "array" });
    // zarrita's codecs do not know which chunk they decode: say it here. zarrita wraps a
    // codec's error in a CodecPipelineError whose message omits it; ours is the cause.
    const getChunk = counted.getChunk.bind(counted);
    counted.getChunk = (coords, ...rest) =>
      getChunk(coords, ...rest).catch((err: unknown) => {
        const cause = (err as { cause?: unknown } | null)?.cause;
        const ours = cause instanceof ZarrBlosc2Error && !(err instanceof ZarrBlosc2Error);
        throw inChunk(ours ? cause : err, { source: name, chunk: coords });
      });
    const result = await z.get(
      counted as AnyArray,
      selection as Parameters<typeof z.get>[1],
      { signal: options.signal } as never,
    );
    const grid = arr.chunks;
    const plan = planRead({ shape: arr.shape, chunkShape: grid, blockShape: grid }, ranges);
    Object.assign(stats, {
      path: "zarr.get",
      fallback: layout.reason,
      chunksTouched: plan.chunks.length,
      bytesRead: io.bytesRead,
      requests: io.requests,
    });
    return attachStats(result, stats);
  }

  const { numpyDtypeOf, toZarritaData } = await import("./dtype.js");
  const numpy = numpyDtypeOf(arr.dtype);
  const itemsize = Number(/\d+$/.exec(numpy)![0]);
  const shape = resultShape(ranges);
  const outBytes = shape.reduce((a, b) => a * b, 1) * itemsize;
  const maxBytes = options.maxDecodedBytes ?? 2 ** 31;
  if (outBytes > maxBytes) {
    throw new OptionsError(
      `${arr.path}: the result needs ${outBytes} bytes, above maxDecodedBytes (${maxBytes})`,
    );
  }
  const out = new Uint8Array(outBytes);
  const unit = layout.unitShape;
  const plan = planRead({ shape: arr.shape, chunkShape: unit, blockShape: unit }, ranges);
  const fill = fillBytes(arr.dtype, itemsize, arr.fillValue);
  const shardIndexes = new Map<string, Promise<BigUint64Array | undefined>>();
  const keptDims = ranges.map((r, d) => (r.keep ? d : -1)).filter((d) => d >= 0);

  const readUnit = async (cp: ChunkPlan) => {
    throwIfAborted(name, undefined, options.signal);
    const sub = subSelection(cp, ranges);
    const regionShape = keptDims.map((d) => cp.segments[d]![0]!.k1 - cp.segments[d]![0]!.k0);
    const regionOffset = keptDims.map((d) => cp.segments[d]![0]!.k0);
    const source = await unitSource(
      arr,
      store,
      layout,
      cp.coords,
      io,
      shardIndexes,
      options.signal,
    );
    if (source === undefined) {
      stats.missingChunks++;
      copyRegion(out, shape, regionOffset, undefined, fill, regionShape, itemsize);
      return;
    }
    let frame: Awaited<ReturnType<typeof openB2nd>>;
    try {
      frame = await openB2nd(source, {
        ...(options.mergeGap === undefined ? {} : { mergeGap: options.mergeGap }),
        maxDecodedBytes: maxBytes,
        concurrency: 1,
        ...(options.batchBytes === undefined ? {} : { batchBytes: options.batchBytes }),
        ...(options.pool ? { pool: options.pool } : {}),
      });
    } catch (err) {
      if (err instanceof MissingChunk) {
        stats.missingChunks++;
        copyRegion(out, shape, regionOffset, undefined, fill, regionShape, itemsize);
        return;
      }
      throw err;
    }
    if (frame.shape.length !== unit.length || frame.shape.some((n, d) => n !== unit[d])) {
      throw new FormatError(
        source.name,
        `b2nd frame of shape ${JSON.stringify(frame.shape)} in a Zarr chunk of shape ${JSON.stringify(unit)}`,
      );
    }
    if (frame.dtype !== numpy) {
      throw new FormatError(
        source.name,
        `b2nd frame of dtype ${frame.dtype} in a ${arr.dtype} array (expected ${numpy})`,
      );
    }
    const r = await frame.get(sub, { signal: options.signal });
    stats.blocksDecoded += r.stats.blocksDecoded;
    const bytes = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    copyRegion(out, shape, regionOffset, bytes, undefined, regionShape, itemsize);
  };

  await forEachLimited(plan.chunks, options.concurrency ?? 4, readUnit);
  Object.assign(stats, {
    chunksTouched: plan.chunks.length,
    bytesRead: io.bytesRead,
    requests: io.requests,
  });
  const data = toZarritaData(arr.dtype, out);
  if (shape.length === 0) {
    return "get" in data && typeof data.get === "function"
      ? (data as { get(i: number): unknown }).get(0)
      : (data as ArrayLike<unknown>)[0];
  }
  return { data, shape, stride: cStrides(shape), stats };
}

function attachStats(result: unknown, stats: ZarrGetStats): unknown {
  if (result !== null && typeof result === "object" && "data" in result)
    return { ...result, stats };
  return result;
}

/** The byte source of one frame, or undefined when the chunk (or its shard) is missing. */
async function unitSource(
  arr: AnyArray,
  store: RangeStore,
  layout: B2ndLayout,
  coords: number[],
  io: SourceStats,
  shardIndexes: Map<string, Promise<BigUint64Array | undefined>>,
  signal: AbortSignal | undefined,
): Promise<StoreRangeSource | undefined> {
  if (!layout.shard) {
    const key = arr.resolve(layout.encodeKey(coords)).path;
    return new StoreRangeSource(store, key, io, 0, undefined, keyName(store, key), signal);
  }
  const { shape: shardShape } = layout.shard;
  const perShard = shardShape.map((n, d) => n / layout.unitShape[d]!);
  const shardCoords = coords.map((c, d) => Math.floor(c / perShard[d]!));
  const key = arr.resolve(layout.encodeKey(shardCoords)).path;
  let index = shardIndexes.get(key);
  if (!index) {
    index = readShardIndex(store, key, perShard, layout.shard, io, signal);
    shardIndexes.set(key, index);
  }
  const table = await index;
  if (!table) return undefined;
  let linear = 0;
  for (let d = 0; d < coords.length; d++)
    linear = linear * perShard[d]! + (coords[d]! % perShard[d]!);
  const offset = table[2 * linear]!;
  const length = table[2 * linear + 1]!;
  if (offset === 0xffffffffffffffffn && length === 0xffffffffffffffffn) return undefined;
  if (offset + length > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(
      keyName(store, key),
      `inner chunk ${linear} has an impossible range (${offset}, ${length})`,
    );
  }
  return new StoreRangeSource(
    store,
    key,
    io,
    Number(offset),
    Number(length),
    `${keyName(store, key)} inner chunk ${coords.join(",")}`,
    signal,
  );
}

async function readShardIndex(
  store: RangeStore,
  key: AbsolutePath,
  perShard: number[],
  shard: NonNullable<B2ndLayout["shard"]>,
  io: SourceStats,
  signal: AbortSignal | undefined,
): Promise<BigUint64Array | undefined> {
  const n = perShard.reduce((a, b) => a * b, 1);
  const size = 16 * n + (shard.crc ? 4 : 0);
  const range: RangeQuery = shard.indexAtEnd ? { suffixLength: size } : { offset: 0, length: size };
  const bytes = await storeRange(store, key, range, io, signal);
  if (bytes === undefined) return undefined;
  const where = keyName(store, key);
  if (bytes.length > size) {
    // Which bytes these are is unknown (a server that ignores Range sends the whole shard).
    throw new SourceError(
      where,
      "offset" in range ? [0, size - 1] : undefined,
      `long read: the store returned ${bytes.length} bytes for the ${size}-byte shard index (does the server ignore Range requests?)`,
    );
  }
  if (bytes.length < size)
    throw new FormatError(where, `shard index is ${bytes.length} bytes, expected ${size}`);
  if (shard.crc) {
    const want = new DataView(bytes.buffer, bytes.byteOffset + 16 * n, 4).getUint32(0, true);
    const got = crc32c(bytes.subarray(0, 16 * n));
    if (got !== want)
      throw new FormatError(where, `shard index checksum mismatch (crc32c ${got} != ${want})`);
  }
  const table = new BigUint64Array(2 * n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16 * n);
  for (let i = 0; i < 2 * n; i++) table[i] = view.getBigUint64(8 * i, true);
  return table;
}
