// Contiguous frame (cframe, `.b2nd`) serialization: pure byte layout, no wasm. The chunks,
// the offsets index and the vlmetalayer contents arrive already compressed.
//
// The layout follows C-Blosc2's own writer (blosc/frame.c: new_header_frame,
// frame_from_schunk, frame_update_trailer) byte for byte, except the nthreads fields
// (always 1 here) and the order of the filter slots (as given, slot 0 first):
//
//   header   msgpack fixarray(14): "b2frame\0", header_len, frame_len, flags, nbytes, cbytes,
//            typesize, blocksize, chunksize, nthreads x2, has_vlmetalayers, filters
//            (fixext16), then the metalayers [idx size, map name -> int32 offset, array of
//            bin32 contents] — offsets are from the frame start and point at each bin32 marker.
//   chunks   back to back; chunk k starts at header_len + offsets[k].
//   index    a Blosc2 chunk of nchunks little-endian int64 offsets (absent when no chunks).
//   trailer  fixarray(4): version 1, [idx size, map name -> int32 offset (from the trailer
//            start), array of bin32 contents], uint32 trailer_len, fixext16 fingerprint (type
//            0, zeros). trailer_len sits at frame_len - 22.
import { OptionsError } from "../errors.js";
import {
  CODEC_IDS,
  type CodecName,
  chunkInfo,
  FILTER_IDS,
  type FilterName,
  SPLIT_MODES,
  type SplitMode,
} from "./chunk.js";
import { MsgWriter } from "./msgpack.js";

/** Length of the fixed part of the header (C-Blosc2's FRAME_HEADER_MINLEN). */
export const FRAME_HEADER_MINLEN = 87;
/** Length of the trailer without vlmetalayers (FRAME_TRAILER_MINLEN). */
export const FRAME_TRAILER_MINLEN = 25;
/** Distance from the frame end to the trailer length value (FRAME_TRAILER_LEN_OFFSET). */
export const FRAME_TRAILER_LEN_OFFSET = 22;
/** Frame format versions C-Blosc2 writes: 2 for fixed-size chunks, 3 when chunksize is 0. */
export const FRAME_VERSION_FIXED_CHUNKS = 2;
export const FRAME_VERSION_VARIABLE_CHUNKS = 3;
/** General-flags bits (byte 25). */
export const FRAME_FLAG_64BIT_OFFSETS = 0x10;
export const FRAME_FLAG_VARIABLE_CHUNKS = 0x40;
/** Most metalayers a frame may carry (BLOSC2_MAX_METALAYERS) and vlmetalayers (…_VLMETALAYERS). */
export const MAX_METALAYERS = 16;
export const MAX_VLMETALAYERS = 8 * 1024;
/** Longest metalayer / vlmetalayer name in UTF-8 bytes (BLOSC2_METALAYER_NAME_MAXLEN). */
export const METALAYER_NAME_MAXLEN = 31;
/** Most dimensions a b2nd metalayer can encode: C-Blosc2 allows 16 but writes the shape as a
 * msgpack fixarray, whose count only reaches 15. */
export const B2ND_MAX_DIM = 15;

// Byte positions of header fields (values, not msgpack markers), as frame.h names them.
const FRAME_HEADER_LEN = 11;
const FRAME_LEN = 16;
const FRAME_FLAGS = 25;
const FRAME_CODECS = 27;
const FRAME_OTHER_FLAGS = 28;
const FRAME_NBYTES = 30;
const FRAME_CBYTES = 39;
const FRAME_TYPESIZE = 48;
const FRAME_BLOCKSIZE = 53;
const FRAME_CHUNKSIZE = 58;
const FRAME_NTHREADS_C = 63;
const FRAME_NTHREADS_D = 66;
const FRAME_HAS_VLMETALAYERS = 68;
const FRAME_FILTER_PIPELINE = 70;
const FRAME_UDCODEC = 77;
const FRAME_CODEC_META = 78;
const FRAME_FILTERS_META = 79;
const FRAME_OTHER_FLAGS2 = 85;
const FRAME_IDX_SIZE = 89;
const MAX_FILTER_SLOTS = 6;

/**
 * msgpack encoding of an attribute value, as python-blosc2 stores vlmeta values (before
 * compressing them into a Blosc2 chunk). Throws TypeError for values msgpack cannot hold.
 */
export function packValue(value: unknown): Uint8Array {
  return new MsgWriter().value(value).bytes();
}

export interface B2ndMeta {
  /** Array shape (ndim 0 to 15; zero-length dimensions allowed). */
  shape: readonly number[];
  /** Chunk shape, one entry per dimension. */
  chunkShape: readonly number[];
  /** Block shape, one entry per dimension. */
  blockShape: readonly number[];
  /** NumPy dtype string, e.g. "<f8", "|b1", ">i4". */
  dtype: string;
}

/**
 * The `b2nd` metalayer content exactly as C-Blosc2's b2nd_serialize_meta writes it:
 * fixarray(7) [0, ndim, fixarray shape (int64 each), fixarray chunkshape (int32 each),
 * fixarray blockshape (int32 each), 0 (NumPy dtype format), dtype as str32].
 */
export function encodeB2ndMeta(meta: B2ndMeta): Uint8Array {
  const { shape, chunkShape, blockShape, dtype } = meta;
  const ndim = shape.length;
  if (ndim > B2ND_MAX_DIM) {
    throw new OptionsError(`b2nd metalayer: ${ndim} dimensions exceeds ${B2ND_MAX_DIM}`);
  }
  if (chunkShape.length !== ndim || blockShape.length !== ndim) {
    throw new OptionsError(
      `b2nd metalayer: shape, chunkShape and blockShape need the same length (${ndim}, ${chunkShape.length}, ${blockShape.length})`,
    );
  }
  const w = new MsgWriter();
  w.arrayHeader(7).u8(0).u8(ndim);
  w.arrayHeader(ndim);
  for (const n of shape) w.num(0xd3, 8, checkInt("shape", n, 0, Number.MAX_SAFE_INTEGER), true);
  w.arrayHeader(ndim);
  for (const n of chunkShape) w.num(0xd2, 4, checkInt("chunkShape", n, 0, 0x7fffffff), true);
  w.arrayHeader(ndim);
  for (const n of blockShape) w.num(0xd2, 4, checkInt("blockShape", n, 0, 0x7fffffff), true);
  const name = new TextEncoder().encode(dtype);
  w.u8(0).num(0xdb, 4, name.length).raw(name); // dtype format 0 (NumPy), dtype as str32
  return w.bytes();
}

function checkInt(what: string, n: number, min: number, max: number): number {
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new OptionsError(`${what}: expected integers ${min}-${max}, got ${n}`);
  }
  return n;
}

/**
 * Where each chunk starts when `chunks` are stored back to back, relative to the end of the
 * header (chunk k starts at header_len + offsets[k]).
 */
export function chunkOffsets(chunks: readonly Uint8Array[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const c of chunks) {
    out.push(at);
    at += c.length;
  }
  return out;
}

/** Offsets as the index chunk holds them before compression: little-endian int64 each. */
export function encodeOffsets(offsets: readonly number[]): Uint8Array {
  const out = new Uint8Array(offsets.length * 8);
  const view = new DataView(out.buffer);
  offsets.forEach((o, i) => {
    view.setBigInt64(i * 8, BigInt(o), true);
  });
  return out;
}

export interface FrameParts {
  /** Compressed Blosc2 chunks, in chunk order. */
  chunks: readonly Uint8Array[];
  /**
   * The compressed offsets chunk (`encodeOffsets(chunkOffsets(chunks))` compressed; C-Blosc2
   * uses BloscLZ, clevel 5, shuffle, typesize 8). Required when there are chunks; C-Blosc2
   * writes none for an empty frame, and neither does this.
   */
  index?: Uint8Array;
  /** Uncompressed size of all chunks together (must equal the sum of their nbytes). */
  nbytes: number;
  typesize: number;
  /** Blocksize the chunks were compressed with (frame header field only). */
  blocksize: number;
  /** Uncompressed size of each chunk; 0 marks variable-size chunks. */
  chunksize: number;
  codec: CodecName;
  clevel: number;
  /** Filter pipeline, slot 0 first (at most 6). */
  filters: readonly FilterName[];
  /** Meta byte per filter (default 0). */
  filtersMeta?: readonly number[];
  /** Split mode recorded in the header (default "forward_compat", C-Blosc2's default). */
  splitmode?: SplitMode;
  /** Whether the chunks used a dictionary (header flag only; default false). */
  useDict?: boolean;
  /** Fixed-size metalayers in the header, e.g. `{ b2nd: encodeB2ndMeta(...) }`. */
  metalayers?: Readonly<Record<string, Uint8Array>>;
  /**
   * Variable-length metalayers in the trailer, name -> stored content. python-blosc2 stores
   * each user attribute (vlmeta) as a compressed Blosc2 chunk of its msgpack encoding.
   */
  vlmetalayers?: Readonly<Record<string, Uint8Array>>;
}

function encodeName(kind: string, name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > METALAYER_NAME_MAXLEN) {
    throw new OptionsError(
      `${kind} name ${JSON.stringify(name)} is ${bytes.length} bytes; at most ${METALAYER_NAME_MAXLEN} fit`,
    );
  }
  return bytes;
}

/**
 * Writes the [idx size, map name -> int32 offset, array of bin32] section shared by the
 * header's metalayers and the trailer's vlmetalayers. Offsets are positions in `w` plus
 * `base`. The idx size counts from `sizeFrom`: C-Blosc2 counts from the fixarray(3) marker
 * in the header (byte 87) but from the byte after it in the trailer (byte 3).
 */
function writeLayers(
  w: MsgWriter,
  kind: string,
  layers: Readonly<Record<string, Uint8Array>>,
  sizeFrom: number,
  base: number,
): void {
  const entries = Object.entries(layers).map(
    ([name, content]) => [encodeName(kind, name), content] as const,
  );
  w.arrayHeader(3);
  const sizeAt = w.length + 1;
  w.u8(0xcd).u8(0).u8(0); // uint16 idx size, patched below
  w.u8(0xde)
    .u8(entries.length >> 8)
    .u8(entries.length & 0xff);
  const offsetAt: number[] = [];
  for (const [name] of entries) {
    w.u8(0xa0 | name.length)
      .raw(name)
      .u8(0xd2);
    offsetAt.push(w.length);
    w.u8(0).u8(0).u8(0).u8(0);
  }
  const idxSize = w.length - sizeFrom;
  if (idxSize > 0xffff) throw new OptionsError(`${kind} index of ${idxSize} bytes is too large`);
  w.setUint16(sizeAt, idxSize);
  w.u8(0xdc)
    .u8(entries.length >> 8)
    .u8(entries.length & 0xff);
  entries.forEach(([, content], i) => {
    w.setInt32(offsetAt[i]!, base + w.length);
    w.num(0xc6, 4, content.length).raw(content); // bin32
  });
}

/** The frame trailer holding `vlmetalayers` (exactly what C-Blosc2 writes). */
export function encodeTrailer(vlmetalayers: Readonly<Record<string, Uint8Array>> = {}): Uint8Array {
  const n = Object.keys(vlmetalayers).length;
  if (n > MAX_VLMETALAYERS) {
    throw new OptionsError(`${n} vlmetalayers exceeds the limit of ${MAX_VLMETALAYERS}`);
  }
  const w = new MsgWriter();
  w.arrayHeader(4).u8(1); // trailer format version
  writeLayers(w, "vlmetalayer", vlmetalayers, 3, 0);
  const trailerLen = w.length + 1 + 4 + 18;
  w.num(0xce, 4, trailerLen);
  w.u8(0xd8).u8(0).raw(new Uint8Array(16)); // fixext16 fingerprint, type 0: none
  return w.bytes();
}

/** The frame header (fixed part and metalayers); frame_len and cbytes as given. */
export function encodeHeader(parts: FrameParts, frameLen: number, cbytes: number): Uint8Array {
  const {
    nbytes,
    typesize,
    blocksize,
    chunksize,
    codec,
    clevel,
    filters,
    filtersMeta = [],
    splitmode = "forward_compat",
    useDict = false,
    metalayers = {},
    vlmetalayers = {},
  } = parts;
  if (!Object.hasOwn(CODEC_IDS, codec)) throw new OptionsError(`frame: unknown codec ${codec}`);
  checkInt("frame clevel", clevel, 0, 9);
  checkInt("frame typesize", typesize, 1, 0x7fffffff);
  checkInt("frame blocksize", blocksize, 0, 0x7fffffff);
  checkInt("frame chunksize", chunksize, 0, 0x7fffffff);
  if (filters.length > MAX_FILTER_SLOTS) {
    throw new OptionsError(`frame: at most ${MAX_FILTER_SLOTS} filters, got ${filters.length}`);
  }
  if (!Object.hasOwn(SPLIT_MODES, splitmode)) {
    throw new OptionsError(`frame: unknown splitmode ${splitmode}`);
  }
  const nmeta = Object.keys(metalayers).length;
  if (nmeta > MAX_METALAYERS) {
    throw new OptionsError(`${nmeta} metalayers exceeds the limit of ${MAX_METALAYERS}`);
  }

  const w = new MsgWriter();
  w.arrayHeader(14);
  w.u8(0xa8).raw(new TextEncoder().encode("b2frame\0"));
  w.num(0xd2, 4, 0, true); // header_len, patched below
  w.num(0xcf, 8, frameLen);
  const variable = chunksize === 0;
  w.u8(0xa4);
  w.u8(
    (variable ? FRAME_VERSION_VARIABLE_CHUNKS : FRAME_VERSION_FIXED_CHUNKS) |
      FRAME_FLAG_64BIT_OFFSETS |
      (variable ? FRAME_FLAG_VARIABLE_CHUNKS : 0),
  );
  w.u8(0); // frame type: contiguous
  const compcode = CODEC_IDS[codec];
  w.u8(compcode | (clevel << 4));
  w.u8(SPLIT_MODES[splitmode] - 1);
  w.num(0xd3, 8, nbytes, true);
  w.num(0xd3, 8, cbytes, true);
  w.num(0xd2, 4, typesize, true);
  w.num(0xd2, 4, blocksize, true);
  w.num(0xd2, 4, chunksize, true);
  w.num(0xd1, 2, 1); // nthreads for compression (int16)
  w.num(0xd1, 2, 1); // nthreads for decompression (int16)
  w.u8(Object.keys(vlmetalayers).length > 0 ? 0xc3 : 0xc2);
  // fixext16 whose type byte is the number of filter slots: 8 filter bytes (slots 6 and 7
  // reused for the user codec id and codec meta), 8 filter-meta bytes (slot 6: other flags 2).
  const pipeline = new Uint8Array(16);
  filters.forEach((f, i) => {
    if (!Object.hasOwn(FILTER_IDS, f)) throw new OptionsError(`frame: unknown filter ${f}`);
    pipeline[i] = FILTER_IDS[f];
    pipeline[8 + i] = checkInt("frame filtersMeta", filtersMeta[i] ?? 0, 0, 255);
  });
  pipeline[FRAME_UDCODEC - FRAME_FILTER_PIPELINE - 1] = compcode;
  pipeline[FRAME_CODEC_META - FRAME_FILTER_PIPELINE - 1] = 0;
  pipeline[FRAME_OTHER_FLAGS2 - FRAME_FILTER_PIPELINE - 1] = useDict ? 1 : 0;
  w.u8(0xd8).u8(MAX_FILTER_SLOTS).raw(pipeline);
  if (w.length !== FRAME_HEADER_MINLEN) throw new Error("frame header layout is off");

  writeLayers(w, "metalayer", metalayers, FRAME_HEADER_MINLEN, 0);
  w.setInt32(FRAME_HEADER_LEN, w.length);
  return w.bytes();
}

/**
 * Assembles a contiguous frame: header with metalayers, the chunks, the offsets index and the
 * trailer with vlmetalayers. Checks the chunks against `nbytes` and `chunksize` first, since
 * C-Blosc2 derives the number of chunks as ceil(nbytes / chunksize).
 */
export function buildFrame(parts: FrameParts): Uint8Array {
  const { chunks, index, nbytes, chunksize } = parts;
  let cbytes = 0;
  let sumNbytes = 0;
  chunks.forEach((chunk, k) => {
    const info = chunkInfo(chunk, `frame chunk ${k}`);
    if (info.cbytes !== chunk.length) {
      throw new OptionsError(
        `frame chunk ${k}: ${chunk.length} bytes given but its header says cbytes ${info.cbytes}`,
      );
    }
    const last = k === chunks.length - 1;
    if (chunksize > 0 && (last ? info.nbytes > chunksize : info.nbytes !== chunksize)) {
      throw new OptionsError(
        `frame chunk ${k}: nbytes ${info.nbytes} does not fit chunksize ${chunksize}`,
      );
    }
    cbytes += chunk.length;
    sumNbytes += info.nbytes;
  });
  if (sumNbytes !== nbytes) {
    throw new OptionsError(`frame: nbytes ${nbytes} but the chunks hold ${sumNbytes}`);
  }
  let indexBytes: Uint8Array = new Uint8Array(0);
  if (chunks.length > 0) {
    if (!index) throw new OptionsError("frame: the offsets index chunk is missing");
    const info = chunkInfo(index, "frame offsets index");
    if (info.nbytes !== chunks.length * 8 || info.cbytes !== index.length) {
      throw new OptionsError(
        `frame: the offsets index holds ${info.nbytes} bytes in ${info.cbytes}; expected ${chunks.length * 8} bytes in ${index.length}`,
      );
    }
    indexBytes = index;
  }
  const trailer = encodeTrailer(parts.vlmetalayers);
  const headerLen = encodeHeader(parts, 0, cbytes).length;
  const frameLen = headerLen + cbytes + indexBytes.length + trailer.length;
  const header = encodeHeader(parts, frameLen, cbytes);

  const out = new Uint8Array(frameLen);
  out.set(header, 0);
  let at = headerLen;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  out.set(indexBytes, at);
  out.set(trailer, at + indexBytes.length);
  return out;
}

/** Header field positions, for readers and tests (values, big-endian). */
export const FRAME_FIELDS = {
  headerLen: FRAME_HEADER_LEN,
  frameLen: FRAME_LEN,
  flags: FRAME_FLAGS,
  codecs: FRAME_CODECS,
  otherFlags: FRAME_OTHER_FLAGS,
  nbytes: FRAME_NBYTES,
  cbytes: FRAME_CBYTES,
  typesize: FRAME_TYPESIZE,
  blocksize: FRAME_BLOCKSIZE,
  chunksize: FRAME_CHUNKSIZE,
  nthreadsC: FRAME_NTHREADS_C,
  nthreadsD: FRAME_NTHREADS_D,
  hasVlmetalayers: FRAME_HAS_VLMETALAYERS,
  filterPipeline: FRAME_FILTER_PIPELINE,
  udcodec: FRAME_UDCODEC,
  codecMeta: FRAME_CODEC_META,
  filtersMeta: FRAME_FILTERS_META,
  otherFlags2: FRAME_OTHER_FLAGS2,
  metalayersIdxSize: FRAME_IDX_SIZE,
} as const;
