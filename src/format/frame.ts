// Blosc2 frames (README_CFRAME_FORMAT / README_SFRAME_FORMAT): the msgpack header with its
// metalayers, the chunk-offsets index, and the trailer with variable-length metalayers.
// Pure parsing: callers fetch the bytes and decompress the index chunk.
import { FormatError } from "../errors.js";
import { MsgReader, type MsgValue } from "./msgpack.js";

export const FRAME_MAGIC = "b2frame\0";
/** Bytes that always hold header_len and frame_len. */
export const FRAME_PREFIX_LENGTH = 24;
/** The fingerprint (fixext16) and trailer_len (uint32) at the end of every frame. */
export const TRAILER_TAIL_LENGTH = 23;

export interface FrameHeader {
  headerLength: number;
  frameLength: number;
  /** Frame format version (low nibble of the general flags). */
  version: number;
  /** Bytes per chunk offset in the index (8 for every frame C-Blosc2 writes). */
  offsetSize: number;
  sparse: boolean;
  /** Codec id as in cparams (0 BloscLZ, 1 LZ4, 2 LZ4HC, 4 Zlib, 5 Zstd). */
  codecId: number;
  clevel: number;
  /** Uncompressed bytes of all chunks. */
  nbytes: number;
  /** Compressed bytes of all data chunks (the index chunk starts at headerLength + cbytes). */
  cbytes: number;
  typesize: number;
  blocksize: number;
  chunksize: number;
  hasVlmetalayers: boolean;
  /** Filter ids by slot, and their meta bytes. */
  filters: number[];
  filtersMeta: number[];
  /** Metalayer contents by name (e.g. "b2nd"). */
  metalayers: Map<string, Uint8Array>;
}

function num(v: MsgValue, what: string, source: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") throw new FormatError(source, `${what} ${v} is too large`);
  throw new FormatError(source, `${what} is not a number`);
}

/** Reads header_len and frame_len from the first 24 bytes. */
export function framePrefix(
  bytes: Uint8Array,
  source: string,
): { headerLength: number; frameLength: number } {
  if (bytes.length < FRAME_PREFIX_LENGTH) {
    throw new FormatError(source, `${bytes.length} bytes is too short for a Blosc2 frame header`);
  }
  const magic = new TextDecoder().decode(bytes.subarray(2, 10));
  if (bytes[1] !== 0xa8 || magic !== FRAME_MAGIC) {
    throw new FormatError(source, "not a Blosc2 frame (no b2frame magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[10] !== 0xd2 || bytes[15] !== 0xcf) {
    throw new FormatError(source, "frame header lengths are not encoded as int32/uint64");
  }
  const headerLength = view.getInt32(11);
  const big = view.getBigUint64(16);
  if (big > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FormatError(source, `frame length ${big} is too large`);
  const frameLength = Number(big);
  if (headerLength < 87 || headerLength > frameLength) {
    throw new FormatError(
      source,
      `header length ${headerLength} is out of range (frame length ${frameLength})`,
    );
  }
  return { headerLength, frameLength };
}

/** Parses the metalayer section: [idx, {name: offset}, [bin32 contents...]]. */
function readMetalayers(
  r: MsgReader,
  bytes: Uint8Array,
  base: number,
  source: string,
): Map<string, Uint8Array> {
  const section = r.read();
  if (!Array.isArray(section) || section.length !== 3) {
    throw new FormatError(source, "metalayer section is not a 3-element array");
  }
  const names = section[1];
  if (!(names instanceof Map)) throw new FormatError(source, "metalayer names are not a map");
  const out = new Map<string, Uint8Array>();
  for (const [name, offset] of names) {
    if (typeof name !== "string") throw new FormatError(source, "metalayer name is not a string");
    const at = base + num(offset, `offset of metalayer "${name}"`, source);
    if (at < base || at + 5 > bytes.length || bytes[at] !== 0xc6) {
      throw new FormatError(
        source,
        `metalayer "${name}" offset ${at - base} does not point at its content`,
      );
    }
    const len = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    if (at + 5 + len > bytes.length) {
      throw new FormatError(
        source,
        `metalayer "${name}" (${len} bytes at ${at - base}) runs past its section`,
      );
    }
    out.set(name, bytes.subarray(at + 5, at + 5 + len));
  }
  return out;
}

/** Parses the whole header (`bytes` must hold at least headerLength bytes). */
export function parseFrameHeader(bytes: Uint8Array, source: string): FrameHeader {
  const { headerLength, frameLength } = framePrefix(bytes, source);
  if (bytes.length < headerLength) {
    throw new FormatError(
      source,
      `truncated frame header: ${bytes.length} of ${headerLength} bytes`,
    );
  }
  const header = bytes.subarray(0, headerLength);
  const r = new MsgReader(header, source);
  const first = header[0]!;
  if ((first & 0xf0) !== 0x90 || (first & 0x0f) < 13) {
    throw new FormatError(source, "frame header is not a msgpack array of 14 fields");
  }
  r.pos = 1;
  r.read(); // magic
  r.read(); // header_len
  r.read(); // frame_len
  // The flags are a 4-byte msgpack str, but their bytes are not text: read them raw.
  const flagsAt = r.pos;
  if (header[flagsAt] !== 0xa4) throw new FormatError(source, "frame flags are missing");
  r.read();
  const general = header[flagsAt + 1]!;
  const frameType = header[flagsAt + 2]! & 0x0f;
  const codecFlags = header[flagsAt + 3]!;
  const nbytes = num(r.read(), "nbytes", source);
  const cbytes = num(r.read(), "cbytes", source);
  const typesize = num(r.read(), "typesize", source);
  const blocksize = num(r.read(), "blocksize", source);
  const chunksize = num(r.read(), "chunksize", source);
  r.read(); // compression threads
  r.read(); // decompression threads
  const hasVlmetalayers = r.read() === true;
  const pipeline = r.read();
  const filters: number[] = [];
  const filtersMeta: number[] = [];
  if (pipeline && typeof pipeline === "object" && "ext" in pipeline && pipeline.data.length >= 14) {
    for (let i = 0; i < 6; i++) {
      filters.push(pipeline.data[i]!);
      filtersMeta.push(pipeline.data[8 + i]!);
    }
  }
  if (frameType > 1) throw new FormatError(source, `unknown frame type ${frameType}`);
  // A sparse frame's chunks live in their own files: only contiguous frames hold cbytes.
  if (nbytes < 0 || cbytes < 0 || (frameType === 0 && headerLength + cbytes > frameLength)) {
    throw new FormatError(
      source,
      `frame sizes disagree: cbytes ${cbytes}, header ${headerLength}, frame ${frameLength}`,
    );
  }
  if (typesize <= 0 || chunksize < 0 || blocksize < 0) {
    throw new FormatError(
      source,
      `invalid frame typesize ${typesize} / chunksize ${chunksize} / blocksize ${blocksize}`,
    );
  }
  const offsetCode = (general >> 4) & 0x03;
  const metalayers = r.pos < headerLength ? readMetalayers(r, header, 0, source) : new Map();
  return {
    headerLength,
    frameLength,
    version: general & 0x0f,
    offsetSize: 4 << offsetCode,
    sparse: frameType === 1,
    codecId: codecFlags & 0x0f,
    clevel: codecFlags >> 4,
    nbytes,
    cbytes,
    typesize,
    blocksize,
    chunksize,
    hasVlmetalayers,
    filters,
    filtersMeta,
    metalayers,
  };
}

/** Where the index chunk starts (contiguous frames: after the data chunks; sparse: after the header). */
export function indexOffset(header: FrameHeader): number {
  return header.sparse ? header.headerLength : header.headerLength + header.cbytes;
}

/** trailer_len from the last 23 bytes of a frame. */
export function trailerLength(tail: Uint8Array, frameLength: number, source: string): number {
  if (tail.length < TRAILER_TAIL_LENGTH)
    throw new FormatError(source, "frame too short for a trailer");
  const at = tail.length - TRAILER_TAIL_LENGTH;
  if (tail[at] !== 0xce) throw new FormatError(source, "frame trailer length is missing");
  const len = new DataView(tail.buffer, tail.byteOffset + at + 1, 4).getUint32(0);
  if (len < TRAILER_TAIL_LENGTH || len > frameLength) {
    throw new FormatError(
      source,
      `trailer length ${len} is out of range (frame length ${frameLength})`,
    );
  }
  return len;
}

/** Variable-length metalayers from the trailer bytes; each content is itself a Blosc2 chunk. */
export function parseTrailer(trailer: Uint8Array, source: string): Map<string, Uint8Array> {
  const r = new MsgReader(trailer, source);
  const first = trailer[0];
  if (first === undefined || (first & 0xf0) !== 0x90)
    throw new FormatError(source, "trailer is not a msgpack array");
  r.pos = 1;
  r.read(); // trailer version
  return readMetalayers(r, trailer, 0, source);
}

/** A chunk's location: a byte offset (contiguous) or file number (sparse), or a special fill. */
export type ChunkOffset =
  | { kind: "data"; offset: number }
  | { kind: "zeros" }
  | { kind: "nan" }
  | { kind: "uninit" };

/** Decodes the (decompressed) offsets index: int64 values, negative ones mark special chunks. */
export function parseChunkOffsets(
  index: Uint8Array,
  nchunks: number,
  source: string,
): ChunkOffset[] {
  if (index.length < nchunks * 8) {
    throw new FormatError(
      source,
      `chunk index holds ${index.length / 8} offsets, expected ${nchunks}`,
    );
  }
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const out: ChunkOffset[] = [];
  for (let i = 0; i < nchunks; i++) {
    const v = view.getBigInt64(i * 8, true);
    if (v >= 0n) {
      if (v > BigInt(Number.MAX_SAFE_INTEGER))
        throw new FormatError(source, `chunk ${i} offset ${v} is too large`);
      out.push({ kind: "data", offset: Number(v) });
      continue;
    }
    const special = index[i * 8 + 7]! & 0x07;
    if (special === 1) out.push({ kind: "zeros" });
    else if (special === 2) out.push({ kind: "nan" });
    else if (special === 4) out.push({ kind: "uninit" });
    else
      throw new FormatError(source, `chunk ${i} has an unknown special offset 0x${v.toString(16)}`);
  }
  return out;
}
