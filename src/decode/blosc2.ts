// Compress and decompress plain Blosc2 chunks through the wasm module. Every pointer
// allocated here is freed in a finally block, so errors cannot leak wasm memory.
import { Blosc2Error, OptionsError } from "../errors.js";
import {
  type ChunkInfo,
  CODEC_IDS,
  type CodecName,
  chunkInfo,
  EXTENDED_HEADER_LENGTH,
  FILTER_IDS,
  type FilterName,
  MAX_BUFFERSIZE,
  MAX_FILTERS,
  SPLIT_MODES,
  type SplitMode,
} from "../format/chunk.js";
import { validateChunk } from "../format/chunk-validate.js";
import { type Blosc2Wasm, withBlosc2, withBlosc2Prepared } from "./wasm.js";

export type { SplitMode } from "../format/chunk.js";

export interface CompressOptions {
  /** Codec (default "zstd"). */
  codec?: CodecName;
  /** Compression level 0-9 (default 5); 0 stores the data uncompressed (memcpyed). */
  clevel?: number;
  /**
   * Size in bytes of one item, 1-255 (default: the element size of a typed array, else 1).
   * Shuffle filters rearrange bytes by this size.
   */
  typesize?: number;
  /** Filter pipeline, applied in order (default ["shuffle"]); at most 6. */
  filters?: FilterName[];
  /**
   * One meta byte per filter (default 0 each): trunc_prec takes the number of mantissa bits
   * to keep; bytedelta takes the typesize (0 means use `typesize`).
   */
  filtersMeta?: number[];
  /** Block size in bytes, 0 for C-Blosc2's automatic choice (default 0). */
  blocksize?: number;
  /** Whether blocks are split into typesize streams (default "forward_compat", as C-Blosc2). */
  splitmode?: SplitMode;
  /**
   * Train and store a dictionary (zstd, lz4, lz4hc; default false). C-Blosc2 sometimes writes
   * dictionary chunks it cannot read back (LZ4 at most typesizes, any codec on
   * incompressible data); such a chunk is detected and written without a dictionary instead.
   * `chunkInfo(chunk).flags.dictionary` tells which happened.
   */
  useDict?: boolean;
}

/** What `compress` used, after applying defaults. */
export type ResolvedCompressOptions = Required<CompressOptions>;

/** Bytes of `data` without copying. */
export function asBytes(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Byte-wise equality (a plain loop: fast, and works where Buffer does not exist). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

export function resolveCompressOptions(
  data: ArrayBufferView | ArrayBuffer,
  options: CompressOptions = {},
): ResolvedCompressOptions {
  const defaultTypesize =
    ArrayBuffer.isView(data) && "BYTES_PER_ELEMENT" in data
      ? Math.min((data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT, 255)
      : 1;
  const resolved: ResolvedCompressOptions = {
    codec: options.codec ?? "zstd",
    clevel: options.clevel ?? 5,
    typesize: options.typesize ?? defaultTypesize,
    filters: options.filters ?? ["shuffle"],
    filtersMeta: options.filtersMeta ?? [],
    blocksize: options.blocksize ?? 0,
    splitmode: options.splitmode ?? "forward_compat",
    useDict: options.useDict ?? false,
  };
  const { codec, clevel, typesize, filters, filtersMeta, blocksize, splitmode, useDict } = resolved;
  if (!Object.hasOwn(CODEC_IDS, codec)) {
    throw new OptionsError(
      `compress: unknown codec "${codec}" (expected one of ${Object.keys(CODEC_IDS).join(", ")})`,
    );
  }
  if (!isInt(clevel, 0, 9))
    throw new OptionsError(`compress: clevel must be an integer 0-9, got ${clevel}`);
  if (!isInt(typesize, 1, 255))
    throw new OptionsError(`compress: typesize must be an integer 1-255, got ${typesize}`);
  if (!Array.isArray(filters) || filters.length > MAX_FILTERS) {
    throw new OptionsError(`compress: filters must be an array of at most ${MAX_FILTERS} names`);
  }
  for (const f of filters) {
    if (!Object.hasOwn(FILTER_IDS, f)) {
      throw new OptionsError(
        `compress: unknown filter "${f}" (expected one of ${Object.keys(FILTER_IDS).join(", ")})`,
      );
    }
  }
  if (!Array.isArray(filtersMeta) || filtersMeta.length > filters.length) {
    throw new OptionsError("compress: filtersMeta must have at most one entry per filter");
  }
  for (const m of filtersMeta) {
    if (!isInt(m, 0, 255))
      throw new OptionsError(`compress: filter meta must be an integer 0-255, got ${m}`);
  }
  const truncAt = filters.indexOf("trunc_prec");
  if (truncAt >= 0) {
    if (typesize !== 4 && typesize !== 8) {
      throw new OptionsError(
        `compress: trunc_prec needs float32 or float64 data (typesize 4 or 8), got typesize ${typesize}`,
      );
    }
    if (!filtersMeta[truncAt]) {
      throw new OptionsError(
        "compress: trunc_prec needs its precision (bits to keep) in filtersMeta",
      );
    }
  }
  if (!isInt(blocksize, 0, MAX_BUFFERSIZE)) {
    throw new OptionsError(`compress: blocksize must be a non-negative integer, got ${blocksize}`);
  }
  if (!Object.hasOwn(SPLIT_MODES, splitmode)) {
    throw new OptionsError(
      `compress: unknown splitmode "${splitmode}" (expected one of ${Object.keys(SPLIT_MODES).join(", ")})`,
    );
  }
  if (typeof useDict !== "boolean") throw new OptionsError("compress: useDict must be a boolean");
  if (useDict && codec !== "zstd" && codec !== "lz4" && codec !== "lz4hc") {
    throw new OptionsError(`compress: useDict needs zstd, lz4 or lz4hc, not ${codec}`);
  }
  return resolved;
}

function check(operation: string, rc: number): number {
  if (rc < 0) throw new Blosc2Error(operation, rc);
  return rc;
}

/**
 * Compresses `data` into one Blosc2 chunk (format 5, readable by C-Blosc2 2.x and later).
 * Resolves to a new Uint8Array holding exactly the chunk.
 */
export async function compress(
  data: ArrayBufferView | ArrayBuffer,
  options: CompressOptions = {},
): Promise<Uint8Array> {
  const src = asBytes(data);
  const o = resolveCompressOptions(data, options);
  if (src.length > MAX_BUFFERSIZE) {
    throw new OptionsError(
      `compress: ${src.length} bytes exceeds the Blosc2 chunk limit of ${MAX_BUFFERSIZE}`,
    );
  }
  // C-Blosc2's delta and bytedelta skip the trailing bytes of a ragged last item and write
  // chunks that decode wrong (checked against native C-Blosc2 3.3.5 too): refuse them.
  const itemwise = o.filters.find((f) => f === "delta" || f === "bytedelta");
  if (itemwise && src.length % o.typesize !== 0) {
    throw new OptionsError(
      `compress: the ${itemwise} filter needs a size that is a multiple of typesize (${src.length} bytes, typesize ${o.typesize})`,
    );
  }
  const params = new Int32Array(18);
  params.set([
    CODEC_IDS[o.codec],
    o.clevel,
    o.typesize,
    o.blocksize,
    SPLIT_MODES[o.splitmode],
    o.useDict ? 1 : 0,
  ]);
  o.filters.forEach((f, i) => {
    params[6 + i] = FILTER_IDS[f];
    // bytedelta reads its typesize from the meta byte.
    params[12 + i] = o.filtersMeta[i] || (f === "bytedelta" ? o.typesize : 0);
  });
  const chunk = await compressWith(src, params);
  if (o.useDict && !(await decodesTo(chunk, src))) {
    params[5] = 0;
    return compressWith(src, params);
  }
  return chunk;
}

function compressWith(src: Uint8Array, params: Int32Array): Promise<Uint8Array> {
  return withBlosc2("compress", (wasm) => {
    const destsize = src.length + EXTENDED_HEADER_LENGTH;
    let srcPtr = 0;
    let destPtr = 0;
    let paramsPtr = 0;
    try {
      srcPtr = wasm.copyIn(src, "compress");
      destPtr = wasm.malloc(destsize, "compress");
      paramsPtr = wasm.copyIn(new Uint8Array(params.buffer), "compress");
      const cbytes = check(
        "compress",
        wasm.exports.zb_compress(srcPtr, src.length, destPtr, destsize, paramsPtr),
      );
      return wasm.heap().slice(destPtr, destPtr + cbytes);
    } finally {
      free(wasm, srcPtr, destPtr, paramsPtr);
    }
  });
}

/** Whether `chunk` decompresses to exactly `expected` (any decode error counts as no). */
async function decodesTo(chunk: Uint8Array, expected: Uint8Array): Promise<boolean> {
  try {
    return bytesEqual(await decompress(chunk), expected);
  } catch {
    return false;
  }
}

function free(wasm: Blosc2Wasm, ...ptrs: number[]): void {
  for (const p of ptrs) if (p) wasm.exports.free(p);
}

/** Options of decompress, decompressItems and decompressBlocks. */
export interface DecodeOptions {
  /**
   * Refuse (OptionsError) a call whose output would exceed this many bytes, checked against
   * the header before anything is allocated (default 2 GiB).
   */
  maxDecodedBytes?: number;
  /** What is being read, named in errors (default: the operation, e.g. "decompress"). */
  source?: string;
  /** For a chunk cut to some blocks of a larger one: their original numbers, for errors. */
  blockNumbers?: readonly number[];
}

const DEFAULT_MAX_DECODED_BYTES = 2 ** 31;

// UNINIT_NOTE: special chunks (zeros, NaN, a repeated value, uninitialized) are filled here,
// without wasm: C-Blosc2 writes nothing for an "uninitialized" chunk (decoding one in wasm
// would hand back whatever an earlier call left in the heap; here it reads as zeros, as the
// b2nd reader does for uninitialized chunks in its index), and it fills a repeated value one
// item at a time (seconds for a chunk claiming a GiB).

/** The first `size` bytes of a special chunk's content, or undefined for ordinary chunks. */
function specialFill(chunk: Uint8Array, info: ChunkInfo, size: number): Uint8Array | undefined {
  if (info.special === "none") return undefined;
  const out = new Uint8Array(size);
  if (info.special === "zeros" || info.special === "uninit" || size === 0) return out;
  let unit: Uint8Array;
  if (info.special === "value") {
    unit = chunk.subarray(EXTENDED_HEADER_LENGTH, EXTENDED_HEADER_LENGTH + info.typesize);
  } else {
    // NaN chunks: float32 or float64 quiet NaNs, as C-Blosc2 writes them (validateChunk
    // already refused other typesizes).
    unit = new Uint8Array(info.typesize);
    const view = new DataView(unit.buffer);
    if (info.typesize === 4) view.setFloat32(0, Number.NaN, true);
    else view.setFloat64(0, Number.NaN, true);
  }
  out.set(unit.subarray(0, Math.min(unit.length, size)));
  // Doubling copies: log2(size / typesize) calls instead of one per item.
  for (let filled = unit.length; filled < size; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, size - filled));
  }
  return out;
}

/**
 * Parses the header (FormatError when it contradicts itself or the buffer) and checks the
 * size limit. The block layout is checked by validateChunk once the blocks to decode are known.
 */
function parseChunk(
  chunk: Uint8Array,
  operation: string,
  options: DecodeOptions,
): { info: ChunkInfo; source: string; limit: (bytes: number) => void } {
  const max = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  if (typeof max !== "number" || !(max >= 0)) {
    throw new OptionsError(
      `${operation}: maxDecodedBytes must be a non-negative number, got ${max}`,
    );
  }
  const source = options.source ?? operation;
  const info = chunkInfo(chunk, source);
  const limit = (bytes: number): void => {
    if (bytes > max) {
      throw new OptionsError(
        `${source}: decoding needs ${bytes} bytes, above maxDecodedBytes (${max})`,
      );
    }
  };
  return { info, source, limit };
}

/**
 * Decompresses a whole Blosc2 (or Blosc1) chunk. The chunk's layout is checked first
 * (src/format/chunk-validate.ts): a chunk C-Blosc2 could misread is a FormatError before wasm
 * is called. Uninitialized special chunks decode to zeros. With `out`, the bytes are written
 * there (it must hold nbytes) and a view of it is returned, saving a fresh allocation.
 */
export async function decompress(
  chunk: Uint8Array,
  options: DecodeOptions & { out?: Uint8Array } = {},
): Promise<Uint8Array> {
  const { out } = options;
  if (out !== undefined && !(out instanceof Uint8Array)) {
    throw new OptionsError("decompress: out must be a Uint8Array");
  }
  return decompressWith(
    chunk,
    (decoded) => {
      if (!out) return decoded.slice();
      if (out.length < decoded.length) {
        throw new OptionsError(
          `decompress: out holds ${out.length} bytes, the chunk decodes to ${decoded.length}`,
        );
      }
      out.set(decoded);
      return out.subarray(0, decoded.length);
    },
    options,
  );
}

/**
 * Like decompress, but hands the decoded bytes to `use` as a view into wasm memory, valid
 * only during the call, instead of copying them into a new array: the b2nd reader scatters
 * from there straight into its output (one copy out of wasm instead of two).
 */
export async function decompressWith<T>(
  chunk: Uint8Array,
  use: (decoded: Uint8Array) => T,
  options: DecodeOptions = {},
): Promise<T> {
  const { info, done } = checkBeforeDecode(chunk, options, use);
  if (done) return done.value;
  return withBlosc2("decompress", (wasm) => {
    let srcPtr = 0;
    try {
      srcPtr = wasm.copyIn(chunk.subarray(0, info.cbytes), "decompress");
      return decodeInWasm(wasm, srcPtr, info, use);
    } finally {
      free(wasm, srcPtr);
    }
  });
}

/**
 * Like decompressWith for a chunk that `write` assembles in `size` bytes: it is written
 * straight into wasm memory (a chunk cut to some blocks, built from the pieces read), which
 * saves allocating it in JS and copying it in. The chunk is checked there, before decoding.
 */
export async function decompressWritten<T>(
  size: number,
  write: (target: Uint8Array) => void,
  use: (decoded: Uint8Array) => T,
  options: DecodeOptions = {},
): Promise<T> {
  return withBlosc2Prepared("decompress", (wasm) => {
    const srcPtr = wasm.malloc(size, "decompress");
    let checked: ReturnType<typeof checkBeforeDecode<T>>;
    try {
      const chunk = wasm.heap().subarray(srcPtr, srcPtr + size);
      write(chunk);
      checked = checkBeforeDecode(chunk, options, use);
    } catch (err) {
      free(wasm, srcPtr);
      throw err;
    }
    const { info, done } = checked;
    if (done) {
      free(wasm, srcPtr);
      return () => done.value;
    }
    return () => {
      try {
        return decodeInWasm(wasm, srcPtr, info, use);
      } finally {
        free(wasm, srcPtr);
      }
    };
  });
}

/**
 * Everything decompressWith checks before wasm runs (see decompress). Chunks that need no
 * decoder (special values, memcpyed) are handed to `use` here and come back as `done`.
 */
function checkBeforeDecode<T>(
  chunk: Uint8Array,
  options: DecodeOptions,
  use: (decoded: Uint8Array) => T,
): { info: ChunkInfo; done?: { value: T } } {
  const { info, source, limit } = parseChunk(chunk, "decompress", options);
  limit(info.nbytes);
  validateChunk(chunk, info, {
    source,
    ...(options.blockNumbers ? { blockNumbers: options.blockNumbers } : {}),
  });
  const filled = specialFill(chunk, info, info.nbytes); // see UNINIT_NOTE
  if (filled) return { info, done: { value: use(filled) } };
  if (info.flags.memcpyed) {
    // Stored raw after the header (validateChunk checked cbytes = header + nbytes); C-Blosc2
    // would only memcpy it, so the bytes are handed over without a trip through wasm memory.
    const raw = chunk.subarray(info.headerLength, info.headerLength + info.nbytes);
    return { info, done: { value: use(raw) } };
  }
  return { info };
}

/** Decodes the checked chunk at `srcPtr` and hands `use` a view of the result in wasm memory. */
function decodeInWasm<T>(
  wasm: Blosc2Wasm,
  srcPtr: number,
  info: ChunkInfo,
  use: (decoded: Uint8Array) => T,
): T {
  let destPtr = 0;
  try {
    destPtr = wasm.malloc(info.nbytes, "decompress");
    const n = check(
      "decompress",
      wasm.exports.zb_decompress(srcPtr, info.cbytes, destPtr, info.nbytes),
    );
    return use(wasm.heap().subarray(destPtr, destPtr + n));
  } finally {
    free(wasm, destPtr);
  }
}

/**
 * A 32-byte memcpyed chunk whose cbytes contradicts its nbytes. Decompressing it makes
 * C-Blosc2 reset the shared context's dictionary and special-value state and then fail
 * (before touching any block, so its scratch buffers are kept). getitem does not reset that
 * state itself: without this, a getitem after a dictionary chunk would decode against the
 * previous chunk's (freed) dictionary, and one on a Blosc1 chunk after a repeated-value chunk
 * would "decode" the old repeated value.
 */
const RESET_CHUNK = (() => {
  const header = new Uint8Array(EXTENDED_HEADER_LENGTH);
  const view = new DataView(header.buffer);
  header.set([5, 1, 0x07, 1]); // version, versionlz, shuffle|memcpyed|bitshuffle, typesize
  view.setInt32(4, 1, true); // nbytes
  view.setInt32(8, 1, true); // blocksize
  view.setInt32(12, EXTENDED_HEADER_LENGTH, true); // cbytes (memcpyed wants nbytes + 32)
  return header;
})();

/**
 * Decodes `nitems` items starting at item `start` (items are `typesize` bytes), touching
 * only the blocks that hold them.
 */
export async function decompressItems(
  chunk: Uint8Array,
  start: number,
  nitems: number,
  options: DecodeOptions = {},
): Promise<Uint8Array> {
  const { info, source, limit } = parseChunk(chunk, "decompressItems", options);
  const total = Math.floor(info.nbytes / info.typesize);
  if (!isInt(start, 0, total) || !isInt(nitems, 0, total - start)) {
    throw new OptionsError(
      `decompressItems: items [${start}, ${start + nitems}) outside the chunk's ${total} items`,
    );
  }
  const lo = start * info.typesize;
  const size = nitems * info.typesize;
  const first = Math.floor(lo / info.blocksize);
  const last = size > 0 ? Math.floor((lo + size - 1) / info.blocksize) : first - 1;
  // Lazy: the range is only walked for ordinary chunks, whose block count the starts table
  // bounds (a special chunk may claim billions of blocks).
  const blocks: Iterable<number> = {
    *[Symbol.iterator]() {
      for (let b = first; b <= last; b++) yield b;
    },
  };
  validateChunk(chunk, info, { blocks, source });
  const regular = info.special === "none" && !info.flags.memcpyed;
  if ((needsBlockZero(info) || (regular && info.flags.dictionary)) && size > 0) {
    // C-Blosc2's getitem undoes delta against its scratch buffer, not block 0, and never
    // loads a chunk's dictionary: go through the masked path, which does both.
    return (await decompressBlocks(chunk, blocks, { ...options, source })).slice(lo, lo + size);
  }
  limit(size);
  const filled = specialFill(chunk, info, size); // items start on an item boundary
  if (filled) return filled;
  return withBlosc2("decompressItems", (wasm) => {
    let srcPtr = 0;
    let destPtr = 0;
    let resetPtr = 0;
    try {
      resetPtr = wasm.copyIn(RESET_CHUNK, "decompressItems");
      srcPtr = wasm.copyIn(chunk.subarray(0, info.cbytes), "decompressItems");
      destPtr = wasm.malloc(size, "decompressItems");
      // Fails by design (see RESET_CHUNK); destsize 1 passes its nbytes check.
      wasm.exports.zb_decompress(resetPtr, RESET_CHUNK.length, destPtr, 1);
      const n = check(
        "decompressItems",
        wasm.exports.zb_getitem(srcPtr, info.cbytes, start, nitems, destPtr, size),
      );
      return wasm.heap().slice(destPtr, destPtr + n);
    } finally {
      free(wasm, srcPtr, destPtr, resetPtr);
    }
  });
}

/**
 * Delta is undone relative to the chunk's decoded block 0, so any partial decode of a
 * delta-filtered chunk must decode block 0 too (memcpyed and special chunks hold no deltas).
 */
export function needsBlockZero(info: ChunkInfo): boolean {
  return info.filters.includes("delta") && !info.flags.memcpyed && info.special === "none";
}

/**
 * Decodes only the blocks listed in `blocks` (indices into the chunk's C-order block list).
 * Resolves to a buffer of the chunk's full `nbytes` where only those blocks hold data; the
 * rest is zero. For delta-filtered chunks block 0 is decoded as well (see needsBlockZero).
 */
export async function decompressBlocks(
  chunk: Uint8Array,
  blocks: Iterable<number>,
  options: DecodeOptions = {},
): Promise<Uint8Array> {
  const { info, source, limit } = parseChunk(chunk, "decompressBlocks", options);
  limit(info.nbytes);
  const wanted = new Set<number>();
  for (const b of blocks) {
    if (!isInt(b, 0, info.nblocks - 1)) {
      throw new OptionsError(
        `decompressBlocks: block ${b} outside the chunk's ${info.nblocks} blocks`,
      );
    }
    wanted.add(b);
  }
  if (needsBlockZero(info) && info.nblocks > 0) wanted.add(0);
  validateChunk(chunk, info, { blocks: wanted, source });
  const filled = specialFill(chunk, info, info.nbytes); // see UNINIT_NOTE
  if (filled) return filled;
  const mask = new Uint8Array(info.nblocks).fill(1); // 1 = masked out (not decoded)
  for (const b of wanted) mask[b] = 0;
  return withBlosc2("decompressBlocks", (wasm) => {
    let srcPtr = 0;
    let destPtr = 0;
    let maskPtr = 0;
    try {
      srcPtr = wasm.copyIn(chunk.subarray(0, info.cbytes), "decompressBlocks");
      destPtr = wasm.malloc(info.nbytes, "decompressBlocks");
      maskPtr = wasm.copyIn(mask, "decompressBlocks");
      wasm.heap().fill(0, destPtr, destPtr + info.nbytes);
      check(
        "decompressBlocks",
        wasm.exports.zb_decompress_masked(
          srcPtr,
          info.cbytes,
          destPtr,
          info.nbytes,
          maskPtr,
          mask.length,
        ),
      );
      return wasm.heap().slice(destPtr, destPtr + info.nbytes);
    } finally {
      free(wasm, srcPtr, destPtr, maskPtr);
    }
  });
}

/** The C-Blosc2 version compiled into the wasm module. */
export function blosc2Version(): Promise<string> {
  return withBlosc2("version", (wasm) => wasm.version());
}
