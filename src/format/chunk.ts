// Blosc2 chunk header: pure parsing, no wasm. Layout in README_CHUNK_FORMAT of C-Blosc2.
import { FormatError } from "../errors.js";

export const MIN_HEADER_LENGTH = 16; // Blosc1 header
export const EXTENDED_HEADER_LENGTH = 32; // Blosc2 header
/** Largest buffer C-Blosc2 accepts (INT32_MAX minus the header). */
export const MAX_BUFFERSIZE = 0x7fffffff - EXTENDED_HEADER_LENGTH;
export const MAX_BLOCKSIZE = 536866816;
export const MAX_FILTERS = 6;

export type CodecName = "blosclz" | "lz4" | "lz4hc" | "zlib" | "zstd";
/** Whether blocks are split into typesize streams (C-Blosc2's BLOSC_*_SPLIT). */
export type SplitMode = "always" | "never" | "auto" | "forward_compat";
/** Split mode ids as cparams take them. */
export const SPLIT_MODES: Readonly<Record<SplitMode, number>> = {
  always: 1,
  never: 2,
  auto: 3,
  forward_compat: 4,
};
export type FilterName = "shuffle" | "bitshuffle" | "delta" | "trunc_prec" | "bytedelta";
/**
 * How the chunk's special value kind is named: "zeros", "nan", "value" (one repeated value,
 * stored after the header), "uninit" (content undefined), or "none" for ordinary chunks.
 */
export type SpecialKind = "none" | "zeros" | "nan" | "value" | "uninit";

/** Codec ids as C-Blosc2's cparams take them (BLOSC_BLOSCLZ ...). */
export const CODEC_IDS: Readonly<Record<CodecName, number>> = {
  blosclz: 0,
  lz4: 1,
  lz4hc: 2,
  zlib: 4,
  zstd: 5,
};

/** Filter ids as stored in the header's filter pipeline. */
export const FILTER_IDS: Readonly<Record<FilterName, number>> = {
  shuffle: 1,
  bitshuffle: 2,
  delta: 3,
  trunc_prec: 4,
  bytedelta: 35,
};

// The header stores the codec *format* (bits 5-7 of flags), not the codec: LZ4HC writes the
// LZ4 format, so it reads back as "lz4".
const CODEC_FORMATS: Readonly<Record<number, string>> = {
  0: "blosclz",
  1: "lz4",
  2: "snappy",
  3: "zlib",
  4: "zstd",
  6: "user",
};

const SPECIAL_KINDS: readonly SpecialKind[] = ["none", "zeros", "nan", "value", "uninit"];

const FILTER_NAMES = new Map<number, string>([
  ...Object.entries(FILTER_IDS).map(([name, id]) => [id, name] as [number, string]),
  [36, "int_trunc"],
]);

/** Name of a filter id ("filter<id>" for ids this library does not know). */
export function filterName(id: number): string {
  return FILTER_NAMES.get(id) ?? `filter${id}`;
}

const CODEC_NAMES = new Map<number, string>(
  Object.entries(CODEC_IDS).map(([name, id]) => [id, name] as [number, string]),
);

/** Name of a cparams codec id, as frame headers store it ("codec<id>" when unknown). */
export function codecName(id: number): string {
  return CODEC_NAMES.get(id) ?? `codec${id}`;
}

export interface ChunkFlags {
  /** Raw flags byte (offset 2). */
  raw: number;
  /** Stored without compression: the data follows the header as is. */
  memcpyed: boolean;
  /** Blocks are not split into typesize streams. */
  dontSplit: boolean;
  /** A codec dictionary is stored after the block starts. */
  dictionary: boolean;
  /** The data was marked big-endian by its writer. */
  bigEndian: boolean;
  /** Blocks have variable lengths (Blosc2 3.x chunk format 6). */
  variableBlocks: boolean;
  /** Lazy chunk (only found in memory, never in files). */
  lazy: boolean;
}

export interface ChunkInfo {
  /** Chunk format version (5 for ordinary Blosc2 chunks, 2 for Blosc1). */
  version: number;
  versionlz: number;
  /** Uncompressed size in bytes. */
  nbytes: number;
  /** Compressed size in bytes, header included. */
  cbytes: number;
  blocksize: number;
  typesize: number;
  /** Number of blocks: ceil(nbytes / blocksize). */
  nblocks: number;
  /** Codec format name; LZ4HC chunks report "lz4". "user" for a user codec. */
  codec: string;
  /** User codec id when codec is "user". */
  userCodec: number;
  /** Filters applied at compression, in pipeline order (empty slots dropped). */
  filters: string[];
  /** Filter meta bytes, aligned with `filters`. */
  filtersMeta: number[];
  flags: ChunkFlags;
  special: SpecialKind;
  /** Header length: 32 for Blosc2 chunks, 16 for Blosc1 ones. */
  headerLength: number;
}

/**
 * Parses and checks a chunk header. Throws FormatError when the header is inconsistent with
 * itself or with the buffer (e.g. cbytes larger than the bytes at hand). With `headerOnly`,
 * `chunk` may be just the first bytes of a longer chunk.
 */
export function chunkInfo(
  chunk: Uint8Array,
  source = "chunk",
  options: { headerOnly?: boolean } = {},
): ChunkInfo {
  if (chunk.length < MIN_HEADER_LENGTH) {
    throw new FormatError(source, `${chunk.length} bytes is shorter than a chunk header (16)`);
  }
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const version = chunk[0]!;
  const versionlz = chunk[1]!;
  const rawFlags = chunk[2]!;
  let typesize = chunk[3]!;
  const nbytes = view.getInt32(4, true);
  let blocksize = view.getInt32(8, true);
  const cbytes = view.getInt32(12, true);
  const extended = (rawFlags & 0x05) === 0x05;
  const headerLength = extended ? EXTENDED_HEADER_LENGTH : MIN_HEADER_LENGTH;

  if (version === 0 || version > 6)
    throw new FormatError(source, `unknown chunk version ${version}`);
  if (nbytes < 0) throw new FormatError(source, `negative nbytes ${nbytes}`);
  if (cbytes < headerLength) {
    throw new FormatError(
      source,
      `cbytes ${cbytes} is smaller than the ${headerLength}-byte header`,
    );
  }
  if (!options.headerOnly && cbytes > chunk.length) {
    throw new FormatError(source, `cbytes ${cbytes} exceeds the ${chunk.length} bytes available`);
  }
  if (chunk.length < headerLength) {
    throw new FormatError(source, `truncated header: ${chunk.length} < ${headerLength} bytes`);
  }
  if (blocksize <= 0 || blocksize > MAX_BLOCKSIZE) {
    throw new FormatError(source, `blocksize ${blocksize} out of range`);
  }
  if (typesize === 0) throw new FormatError(source, "typesize is 0");

  const filters: string[] = [];
  const filtersMeta: number[] = [];
  let flags2 = 0;
  let blosc2Flags = 0;
  let userCodec = 0;
  if (extended) {
    for (let slot = 0; slot < MAX_FILTERS; slot++) {
      const id = chunk[16 + slot]!;
      if (id === 0) continue;
      filters.push(filterName(id));
      filtersMeta.push(chunk[24 + slot]!);
    }
    userCodec = chunk[22]!;
    flags2 = chunk[30]!;
    blosc2Flags = chunk[31]!;
  } else {
    // Blosc1 keeps its filters in the flags byte.
    if (rawFlags & 0x08) filters.push("delta");
    if (rawFlags & 0x01) filters.push("shuffle");
    if (rawFlags & 0x04) filters.push("bitshuffle");
    for (const _ of filters) filtersMeta.push(0);
  }

  const specialCode = (blosc2Flags >> 4) & 0x07;
  const special = SPECIAL_KINDS[specialCode];
  if (special === undefined)
    throw new FormatError(source, `unknown special value kind ${specialCode}`);
  if (special === "value") {
    // The repeated value follows the header; its length is the real typesize.
    typesize = cbytes - EXTENDED_HEADER_LENGTH;
    if (typesize <= 0 || typesize > nbytes || nbytes % typesize !== 0) {
      throw new FormatError(source, `repeated-value chunk with inconsistent typesize ${typesize}`);
    }
  }
  const variableBlocks = (flags2 & 0x01) !== 0;
  // C-Blosc2 clamps the block size of fixed-block chunks to nbytes.
  if (!variableBlocks && nbytes > 0 && blocksize > nbytes) blocksize = nbytes;
  const codecFormat = rawFlags >> 5;
  return {
    version,
    versionlz,
    nbytes,
    cbytes,
    blocksize,
    typesize,
    nblocks: nbytes === 0 ? 0 : Math.ceil(nbytes / blocksize),
    codec: CODEC_FORMATS[codecFormat] ?? `format${codecFormat}`,
    userCodec,
    filters,
    filtersMeta,
    flags: {
      raw: rawFlags,
      memcpyed: (rawFlags & 0x02) !== 0,
      dontSplit: (rawFlags & 0x10) !== 0,
      dictionary: (blosc2Flags & 0x01) !== 0,
      bigEndian: (blosc2Flags & 0x02) !== 0,
      variableBlocks,
      lazy: (blosc2Flags & 0x08) !== 0,
    },
    special,
    headerLength,
  };
}

/**
 * Where each block's stored bytes end: at the next larger block start (blocks written by
 * several threads are not stored in index order), the last at `cbytes`.
 */
export function blockEnds(bstarts: Int32Array, cbytes: number): Int32Array {
  const n = bstarts.length;
  const ends = new Int32Array(n);
  let increasing = true;
  for (let i = 1; i < n && increasing; i++) increasing = bstarts[i]! > bstarts[i - 1]!;
  if (increasing) {
    for (let i = 0; i < n; i++) ends[i] = i + 1 < n ? bstarts[i + 1]! : cbytes;
    return ends;
  }
  const order = Array.from(bstarts.keys()).sort((a, b) => bstarts[a]! - bstarts[b]!);
  let end = cbytes; // the smallest start strictly greater than the current one
  for (let i = n - 1; i >= 0; i--) {
    const next = order[i + 1];
    if (next !== undefined && bstarts[next]! > bstarts[order[i]!]!) end = bstarts[next]!;
    ends[order[i]!] = end;
  }
  return ends;
}
