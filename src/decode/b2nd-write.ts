// Writing b2nd arrays: split an N-D array into chunks and blocks as b2nd lays them out,
// compress each chunk with the wasm C-Blosc2, and assemble a contiguous frame that
// python-blosc2 (blosc2.open) and C-Blosc2 (b2nd_open) read.
import { OptionsError, ZarrBlosc2Error } from "../errors.js";
import {
  type CodecName,
  chunkInfo,
  type FilterName,
  MAX_BLOCKSIZE,
  MAX_BUFFERSIZE,
} from "../format/chunk.js";
import { type DType, dtypeOfArray, parseDtype } from "../format/dtype.js";
import {
  B2ND_MAX_DIM,
  buildFrame,
  chunkOffsets,
  encodeB2ndMeta,
  encodeOffsets,
  MAX_VLMETALAYERS,
  METALAYER_NAME_MAXLEN,
  packValue,
} from "../format/frame-write.js";
import { asBytes, compress, resolveCompressOptions, type SplitMode } from "./blosc2.js";

/** Default chunks hold at most this many bytes (4 MiB) unless one item is larger. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Default blocks hold at most this many bytes (128 KiB) unless one item is larger. */
export const DEFAULT_BLOCK_BYTES = 128 * 1024;

export interface B2ndWriteOptions {
  /**
   * NumPy dtype string ("<f8", "|b1", ">i4", "<c16", ...). Default: the typed array's own
   * type (Uint8Array -> "|u1", Float64Array -> "<f8", ...). Required for DataView and
   * ArrayBuffer data and for Uint8Array data that is not uint8.
   *
   * How `data` is read for a given dtype: Uint8Array, Uint8ClampedArray, DataView and
   * ArrayBuffer are the stored bytes as they are (so big-endian data comes as big-endian
   * bytes). Other typed arrays hold values in native little-endian order and must match the
   * dtype: same element size and kind (signed and unsigned integers interchange; Uint16Array
   * holds float16 bits; Float32Array / Float64Array hold complex64 / complex128 as
   * interleaved real and imaginary parts). With a big-endian dtype their values are
   * byte-swapped when stored. Bool ("|b1") bytes other than 0 are stored as 1.
   */
  dtype?: string;
  /**
   * Chunk shape (default: see `defaultChunkShape`). A dimension may exceed the array's
   * (the chunk is padded); 0 only where the array's dimension is 0.
   */
  chunkShape?: readonly number[];
  /**
   * Block shape, each dimension at most the chunk's (default: see `defaultBlockShape`);
   * 0 only where the chunk's dimension is 0.
   */
  blockShape?: readonly number[];
  /** Codec (default "zstd"). */
  codec?: CodecName;
  /** Compression level 0-9 (default 5). */
  clevel?: number;
  /** Filter pipeline (default ["shuffle"]). */
  filters?: FilterName[];
  /** One meta byte per filter (trunc_prec: bits to keep; bytedelta: 0 means the itemsize). */
  filtersMeta?: number[];
  /** Block split mode (default "auto", python-blosc2's default). */
  splitmode?: SplitMode;
  /**
   * User attributes, stored as python-blosc2 stores `arr.vlmeta[name] = value`: one
   * vlmetalayer per key (names up to 31 UTF-8 bytes) holding the msgpack-encoded value in a
   * compressed Blosc2 chunk. Values: null, booleans, numbers (safe integers as integers,
   * others as float64), bigints, strings, Uint8Array (bytes), arrays, Maps and plain objects.
   */
  attrs?: Readonly<Record<string, unknown>>;
}

/** Chunk/block geometry and compression settings `writeB2nd` resolved. */
export interface B2ndLayout {
  shape: number[];
  chunkShape: number[];
  blockShape: number[];
  dtype: DType;
  /** Chunk shape rounded up to whole blocks: what each chunk buffer holds. */
  paddedChunkShape: number[];
  /** Number of chunks: prod(ceil(shape / chunkShape)); 0 when a dimension is 0. */
  nchunks: number;
  /** Uncompressed bytes per chunk: prod(paddedChunkShape) * itemsize. */
  chunkBytes: number;
  /** Blosc2 blocksize: prod(blockShape) * itemsize. */
  blockBytes: number;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Halves the largest dimension (the leading one on ties) until the bytes fit `target`. */
function shrinkTo(shape: readonly number[], itemsize: number, target: number): number[] {
  const out = shape.slice();
  if (out.includes(0)) return out;
  while (prod(out) * itemsize > target) {
    let d = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[d]!) d = i;
    if (out[d]! <= 1) break;
    out[d] = Math.ceil(out[d]! / 2);
  }
  return out;
}

/**
 * Default chunk shape: the array's shape, with the largest dimension halved (rounding up;
 * the leading one on ties) until a chunk holds at most `DEFAULT_CHUNK_BYTES` (4 MiB).
 * Chunks come out roughly cubic, never larger than the shape. An array with a zero-length
 * dimension gets chunks equal to its shape, as python-blosc2 does.
 */
export function defaultChunkShape(
  shape: readonly number[],
  itemsize: number,
  target = DEFAULT_CHUNK_BYTES,
): number[] {
  return shrinkTo(shape, itemsize, target);
}

/**
 * Default block shape: the chunk shape halved the same way until a block holds at most
 * `DEFAULT_BLOCK_BYTES` (128 KiB). Small chunks are a single block; halving keeps the
 * padding inside a chunk to at most one item per dimension.
 */
export function defaultBlockShape(
  chunkShape: readonly number[],
  itemsize: number,
  target = DEFAULT_BLOCK_BYTES,
): number[] {
  return shrinkTo(chunkShape, itemsize, target);
}

function checkShape(name: string, value: unknown, ndim?: number): number[] {
  if (!Array.isArray(value)) throw new OptionsError(`writeB2nd: ${name} must be an array`);
  if (ndim !== undefined && value.length !== ndim) {
    throw new OptionsError(
      `writeB2nd: ${name} has ${value.length} dimensions but shape has ${ndim}`,
    );
  }
  for (const n of value) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new OptionsError(
        `writeB2nd: ${name} must hold non-negative integers, got [${value.join(", ")}]`,
      );
    }
  }
  return value.slice() as number[];
}

function resolveDtype(data: ArrayBufferView | ArrayBuffer, dtype: string | undefined): DType {
  if (dtype !== undefined) {
    if (typeof dtype !== "string") throw new OptionsError("writeB2nd: dtype must be a string");
    try {
      return parseDtype(dtype);
    } catch {
      throw new OptionsError(
        `writeB2nd: unsupported dtype ${JSON.stringify(dtype)} (bool, int, uint, float 2/4/8 and complex 8/16 bytes, as NumPy strings like "<f8")`,
      );
    }
  }
  if (data instanceof Uint8Array) return parseDtype("|u1"); // also Buffer
  if (ArrayBuffer.isView(data)) {
    const natural = dtypeOfArray(data);
    if (natural) return natural;
    if (data.constructor.name === "Float16Array") return parseDtype("<f2");
  }
  throw new OptionsError(
    `writeB2nd: dtype is required for ${data.constructor.name} data (it cannot be inferred)`,
  );
}

// Kinds a typed array of each class may hold (its element is one dtype unit).
const ARRAY_KINDS: Readonly<Record<string, string>> = {
  Int8Array: "iub",
  Int16Array: "iu",
  Uint16Array: "iuf",
  Float16Array: "f",
  Int32Array: "iu",
  Uint32Array: "iu",
  BigInt64Array: "iu",
  BigUint64Array: "iu",
  Float32Array: "fc",
  Float64Array: "fc",
};

/** The stored bytes of `data` for `dtype` (a copy only when values must change). */
function storedBytes(data: ArrayBufferView | ArrayBuffer, dtype: DType): Uint8Array {
  let bytes = asBytes(data);
  const raw =
    data instanceof ArrayBuffer ||
    data instanceof DataView ||
    data instanceof Uint8Array ||
    data instanceof Uint8ClampedArray;
  const unit = dtype.kind === "c" ? dtype.itemsize / 2 : dtype.itemsize;
  if (!raw) {
    const view = data as ArrayBufferView & { BYTES_PER_ELEMENT?: number };
    const kinds = ARRAY_KINDS[view.constructor.name];
    if (!kinds || view.BYTES_PER_ELEMENT !== unit || !kinds.includes(dtype.kind)) {
      throw new OptionsError(
        `writeB2nd: dtype ${dtype.name} does not match ${view.constructor.name} data (pass its stored bytes as a Uint8Array instead)`,
      );
    }
    if (!dtype.littleEndian && unit > 1) {
      const out = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i += unit) {
        for (let j = 0; j < unit; j++) out[i + j] = bytes[i + unit - 1 - j]!;
      }
      bytes = out;
    }
  }
  if (dtype.kind === "b" && bytes.some((v) => v > 1)) bytes = bytes.map((v) => (v ? 1 : 0));
  return bytes;
}

function resolveLayout(
  shapeIn: readonly number[],
  dtype: DType,
  options: B2ndWriteOptions,
): B2ndLayout {
  const shape = checkShape("shape", shapeIn);
  const ndim = shape.length;
  if (ndim > B2ND_MAX_DIM) {
    throw new OptionsError(
      `writeB2nd: shape has ${ndim} dimensions; b2nd frames hold at most ${B2ND_MAX_DIM}`,
    );
  }
  const itemsize = dtype.itemsize;
  const givenBlocks =
    options.blockShape === undefined
      ? undefined
      : checkShape("blockShape", options.blockShape, ndim);
  let chunkShape: number[];
  if (options.chunkShape !== undefined) {
    chunkShape = checkShape("chunkShape", options.chunkShape, ndim);
  } else {
    chunkShape = defaultChunkShape(shape, itemsize);
    // With blocks given, round the default chunks to whole blocks (or at least one block).
    if (givenBlocks) {
      chunkShape = chunkShape.map((c, d) => {
        const b = givenBlocks[d]!;
        if (b === 0) return c;
        const up = Math.ceil(c / b) * b;
        return up <= Math.max(shape[d]!, b) ? up : Math.max(b, Math.floor(c / b) * b);
      });
    }
  }
  const blockShape = givenBlocks ?? defaultBlockShape(chunkShape, itemsize);
  for (let d = 0; d < ndim; d++) {
    const s = shape[d]!;
    const c = chunkShape[d]!;
    const b = blockShape[d]!;
    if (c === 0 && s !== 0) {
      throw new OptionsError(
        `writeB2nd: chunkShape[${d}] is 0; chunk dimensions must be positive (0 only where the shape is 0)`,
      );
    }
    if (c > 0x7fffffff) {
      throw new OptionsError(`writeB2nd: chunkShape[${d}] = ${c} exceeds the int32 range`);
    }
    if (b === 0 && c !== 0) {
      throw new OptionsError(
        `writeB2nd: blockShape[${d}] is 0; block dimensions must be positive (0 only where the chunk is 0)`,
      );
    }
    if (b > c) {
      throw new OptionsError(
        `writeB2nd: blockShape[${d}] = ${b} exceeds chunkShape[${d}] = ${c} (blocks must fit in chunks)`,
      );
    }
  }
  const paddedChunkShape = chunkShape.map((c, d) => {
    const b = blockShape[d]!;
    return b === 0 ? c : Math.ceil(c / b) * b;
  });
  const chunkBytes = prod(paddedChunkShape) * itemsize;
  const blockBytes = prod(blockShape) * itemsize;
  if (chunkBytes > MAX_BUFFERSIZE) {
    throw new OptionsError(
      `writeB2nd: chunkShape [${chunkShape.join(", ")}] (padded to whole blocks) makes chunks of ${chunkBytes} bytes; Blosc2 chunks hold at most ${MAX_BUFFERSIZE}`,
    );
  }
  if (blockBytes > MAX_BLOCKSIZE) {
    throw new OptionsError(
      `writeB2nd: blockShape [${blockShape.join(", ")}] makes blocks of ${blockBytes} bytes; Blosc2 blocks hold at most ${MAX_BLOCKSIZE}`,
    );
  }
  const nchunks = prod(shape.map((s, d) => (s === 0 ? 0 : Math.ceil(s / chunkShape[d]!))));
  return {
    shape,
    chunkShape,
    blockShape,
    dtype,
    paddedChunkShape,
    nchunks,
    chunkBytes,
    blockBytes,
  };
}

/** Resolves and checks the layout `writeB2nd` would use, without writing anything. */
export function planB2nd(
  data: ArrayBufferView | ArrayBuffer,
  shape: readonly number[],
  options: B2ndWriteOptions = {},
): B2ndLayout {
  return resolveLayout(shape, resolveDtype(data, options.dtype), options);
}

function copyRun(src: Uint8Array, s: number, dst: Uint8Array, t: number, n: number): void {
  if (n >= 64) dst.set(src.subarray(s, s + n), t);
  else for (let i = 0; i < n; i++) dst[t + i] = src[s + i]!;
}

/**
 * Copies an `ext`-shaped box of items from `src` (strides `sStr`, bytes) to `dst` (strides
 * `dStr`). Inner dimensions contiguous in both are merged into one run.
 */
function copyBox(
  src: Uint8Array,
  srcOff: number,
  sStr: readonly number[],
  dst: Uint8Array,
  dstOff: number,
  dStr: readonly number[],
  ext: readonly number[],
  itemsize: number,
): void {
  let d = ext.length - 1;
  if (d < 0) {
    copyRun(src, srcOff, dst, dstOff, itemsize);
    return;
  }
  let run = ext[d]! * itemsize;
  while (d > 0 && sStr[d - 1] === run && dStr[d - 1] === run) {
    d--;
    run *= ext[d]!;
  }
  // Dimensions 0 .. d-1 remain to iterate (odometer); each step copies one run.
  const idx = new Array<number>(d).fill(0);
  let s = srcOff;
  let t = dstOff;
  for (;;) {
    copyRun(src, s, dst, t, run);
    let j = d - 1;
    for (; j >= 0; j--) {
      idx[j]!++;
      s += sStr[j]!;
      t += dStr[j]!;
      if (idx[j]! < ext[j]!) break;
      s -= sStr[j]! * ext[j]!;
      t -= dStr[j]! * ext[j]!;
      idx[j] = 0;
    }
    if (j < 0) return;
  }
}

function stridesOf(shape: readonly number[], itemsize: number): number[] {
  const out = new Array<number>(shape.length);
  let acc = itemsize;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = acc;
    acc *= shape[d]!;
  }
  return out;
}

/** Coordinates of linear index `k` in C order over `grid`. */
function unravel(k: number, grid: readonly number[]): number[] {
  const out = new Array<number>(grid.length);
  for (let d = grid.length - 1; d >= 0; d--) {
    const g = grid[d]!;
    out[d] = k % g;
    k = Math.floor(k / g);
  }
  return out;
}

/**
 * The uncompressed buffer of chunk `k`: prod(paddedChunkShape) items, block after block in
 * C order over the chunk's block grid, C order inside each block, padding zero-filled.
 */
export function chunkBuffer(src: Uint8Array, layout: B2ndLayout, k: number): Uint8Array {
  const { shape, chunkShape, blockShape, paddedChunkShape, dtype } = layout;
  const itemsize = dtype.itemsize;
  const ndim = shape.length;
  const out = new Uint8Array(layout.chunkBytes);
  const chunkGrid = shape.map((s, d) => Math.ceil(s / chunkShape[d]!));
  const ci = unravel(k, chunkGrid);
  const blockGrid = paddedChunkShape.map((p, d) => p / blockShape[d]!);
  const nblocks = prod(blockGrid);
  const sStr = stridesOf(shape, itemsize);
  const dStr = stridesOf(blockShape, itemsize);
  const ext = new Array<number>(ndim);
  for (let bk = 0; bk < nblocks; bk++) {
    const bi = unravel(bk, blockGrid);
    let srcOff = 0;
    let empty = false;
    for (let d = 0; d < ndim; d++) {
      const chunkStart = ci[d]! * chunkShape[d]!;
      const o = chunkStart + bi[d]! * blockShape[d]!;
      const end = Math.min(o + blockShape[d]!, chunkStart + chunkShape[d]!, shape[d]!);
      ext[d] = end - o;
      if (end <= o) empty = true;
      srcOff += o * sStr[d]!;
    }
    if (empty) continue; // all padding: stays zero
    copyBox(src, srcOff, sStr, out, bk * layout.blockBytes, dStr, ext, itemsize);
  }
  return out;
}

function compressError(e: unknown): never {
  if (e instanceof OptionsError) {
    throw new OptionsError(`writeB2nd: ${e.message.replace(/^compress: /, "")}`);
  }
  throw e;
}

async function encodeAttrs(
  attrs: Readonly<Record<string, unknown>> | undefined,
): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  if (attrs === undefined) return out;
  if (attrs === null || typeof attrs !== "object" || Array.isArray(attrs)) {
    throw new OptionsError("writeB2nd: attrs must be a plain object of name -> value");
  }
  const entries = Object.entries(attrs);
  if (entries.length > MAX_VLMETALAYERS) {
    throw new OptionsError(
      `writeB2nd: ${entries.length} attrs exceeds the limit of ${MAX_VLMETALAYERS}`,
    );
  }
  for (const [name, value] of entries) {
    if (new TextEncoder().encode(name).length > METALAYER_NAME_MAXLEN) {
      throw new OptionsError(
        `writeB2nd: attrs name ${JSON.stringify(name)} is longer than ${METALAYER_NAME_MAXLEN} UTF-8 bytes`,
      );
    }
    let packed: Uint8Array;
    try {
      packed = packValue(value);
    } catch (e) {
      throw new OptionsError(
        `writeB2nd: attrs ${JSON.stringify(name)} cannot be stored: ${(e as Error).message}`,
      );
    }
    out[name] = await compress(packed, {
      codec: "zstd",
      clevel: 5,
      typesize: 1,
      filters: ["shuffle"],
    });
  }
  return out;
}

/**
 * Writes `data` (C order, `shape`) as a b2nd array in a contiguous frame — the bytes of a
 * `.b2nd` file. `shape` [] writes a 0-d array (one item).
 */
export async function writeB2nd(
  data: ArrayBufferView | ArrayBuffer,
  shape: readonly number[],
  options: B2ndWriteOptions = {},
): Promise<Uint8Array> {
  if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
    throw new OptionsError("writeB2nd: data must be a typed array, DataView or ArrayBuffer");
  }
  if (options === null || typeof options !== "object") {
    throw new OptionsError("writeB2nd: options must be an object");
  }
  const dtype = resolveDtype(data, options.dtype);
  const layout = resolveLayout(shape, dtype, options);
  const itemsize = dtype.itemsize;

  const codec = options.codec ?? "zstd";
  const clevel = options.clevel ?? 5;
  const filters = options.filters ?? ["shuffle"];
  const splitmode = options.splitmode ?? "auto";
  let resolvedMeta: number[];
  try {
    const o = resolveCompressOptions(new Uint8Array(0), {
      codec,
      clevel,
      typesize: itemsize,
      filters,
      filtersMeta: options.filtersMeta ?? [],
      splitmode,
    });
    resolvedMeta = o.filters.map((f, i) => o.filtersMeta[i] || (f === "bytedelta" ? itemsize : 0));
  } catch (e) {
    compressError(e);
  }
  if (filters.includes("trunc_prec") && dtype.kind !== "f") {
    throw new OptionsError(`writeB2nd: trunc_prec needs a float dtype, not ${dtype.name}`);
  }

  const count = prod(layout.shape);
  const bytes = storedBytes(data, dtype);
  if (bytes.length !== count * itemsize) {
    throw new OptionsError(
      `writeB2nd: data holds ${bytes.length} bytes but shape [${layout.shape.join(", ")}] of ${dtype.name} needs ${count * itemsize}`,
    );
  }

  const vlmetalayers = await encodeAttrs(options.attrs);
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < layout.nchunks; k++) {
    const buffer = chunkBuffer(bytes, layout, k);
    let chunk: Uint8Array;
    try {
      chunk = await compress(buffer, {
        codec,
        clevel,
        typesize: itemsize,
        filters,
        filtersMeta: options.filtersMeta ?? [],
        blocksize: layout.blockBytes,
        splitmode,
      });
    } catch (e) {
      compressError(e);
    }
    const info = chunkInfo(chunk, `chunk ${k}`);
    if (info.blocksize !== layout.blockBytes || info.nbytes !== layout.chunkBytes) {
      throw new ZarrBlosc2Error(
        `writeB2nd: C-Blosc2 wrote chunk ${k} with blocksize ${info.blocksize} and nbytes ${info.nbytes}; b2nd needs ${layout.blockBytes} and ${layout.chunkBytes}`,
      );
    }
    chunks.push(chunk);
  }
  const index =
    chunks.length > 0
      ? await compress(encodeOffsets(chunkOffsets(chunks)), {
          codec: "blosclz",
          clevel: 5,
          typesize: 8,
          filters: ["shuffle"],
          splitmode: "forward_compat",
        })
      : undefined;
  return buildFrame({
    chunks,
    index,
    nbytes: layout.nchunks * layout.chunkBytes,
    typesize: itemsize,
    blocksize: layout.blockBytes,
    chunksize: layout.chunkBytes,
    codec,
    clevel,
    filters,
    filtersMeta: resolvedMeta,
    splitmode,
    metalayers: {
      b2nd: encodeB2ndMeta({
        shape: layout.shape,
        chunkShape: layout.chunkShape,
        blockShape: layout.blockShape,
        dtype: dtype.name,
      }),
    },
    vlmetalayers,
  });
}

/** `writeB2nd`, then writes the frame to `path` (Node only). */
export async function writeB2ndFile(
  path: string,
  data: ArrayBufferView | ArrayBuffer,
  shape: readonly number[],
  options: B2ndWriteOptions = {},
): Promise<void> {
  const { writeLocalFile } = await import("#platform");
  if (!writeLocalFile) throw new OptionsError("writeB2ndFile needs Node: use writeB2nd here");
  const frame = await writeB2nd(data, shape, options);
  await writeLocalFile(path, frame);
}
