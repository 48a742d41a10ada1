// Structural checks of a Blosc2 chunk, so that no chunk reaches the wasm module with a layout
// C-Blosc2 would misread. Pure TypeScript, no data scan: the cost is O(blocks × streams) int32
// reads plus a sort of the block starts when they are not already increasing.
//
// What is checked mirrors C-Blosc2 3.3.2's decoder (blosc/blosc2.c: read_chunk_header,
// initialize_context_decompression, serial_blosc, blosc_d, _blosc_getitem), tightened where
// no C-Blosc2 writer produces what the decoder would tolerate; see validateChunk.
import { FormatError, OptionsError } from "../errors.js";
import { blockEnds, type ChunkInfo } from "./chunk.js";

/** Largest dictionary C-Blosc2 reads (BLOSC2_MAXDICTSIZE in 3.3.2 and 3.3.5). */
export const MAX_DICT_SIZE = 32 * 1024;

/** Blosc1/Blosc2 header flag (byte 2): blocks are stored as one stream, not typesize. */
const DONT_SPLIT = 0x10;
const TYPESIZE_OFFSET = 3;

export interface ValidateChunkOptions {
  /**
   * The blocks that will be decoded: only their streams are walked (default "all"). A masked
   * decode or a getitem touches only some blocks, and the b2nd reader hands over chunks whose
   * other blocks are zero-filled. Delta-filtered partial decodes must include block 0.
   */
  blocks?: Iterable<number> | "all";
  /** What is being read, for error messages (default "chunk"). */
  source?: string;
  /**
   * For a chunk cut to some blocks of a larger one (cutChunk): each block's number in the
   * original chunk, which error messages name instead of its position in the cut.
   */
  blockNumbers?: readonly number[];
}

/**
 * Checks that `bytes` (a chunk whose header parsed to `info`) can be handed to C-Blosc2:
 *
 * - header: nbytes ≥ 0 and cbytes within the buffer; no VL-block chunks (format 6, flags2
 *   bit 0: refused, they are not validated here and b2nd never writes them) and no lazy
 *   chunks (in-memory C-Blosc2 objects whose blocks live in a frame); memcpyed chunks have
 *   cbytes == nbytes + header; zeros/NaN/uninitialized chunks are exactly the 32-byte
 *   header (a repeated value is header + value, checked by chunkInfo); NaN chunks have
 *   typesize 4 or 8 and, like uninitialized ones, nbytes a multiple of typesize;
 * - the block starts table (ordinary chunks) fits in cbytes;
 * - a dictionary (flag set): its int32 size follows the starts table, 0 < size ≤ 32 KiB, and
 *   it ends inside cbytes (as C-Blosc2 parses it, for every chunk kind);
 * - every block start lies in [end of starts table and dictionary, cbytes) and no two
 *   blocks start at the same offset;
 * - for the blocks that will be decoded: the streams (typesize of them when the header
 *   does not say "don't split" and the block is not the short last one, else one) have
 *   equal sizes, and each stream header lies inside the block's extent (from its start to
 *   the next larger block start, or cbytes). A positive csize is at most the stream size
 *   (equal means stored raw) and ends inside the extent; 0 is a run of zeros; -1..-255 is a
 *   run of that byte followed by a token byte with bit 0 set.
 *
 * Throws FormatError naming `options.source` and the first problem found.
 */
export function validateChunk(
  bytes: Uint8Array,
  info: ChunkInfo,
  options: ValidateChunkOptions = {},
): void {
  const source = options.source ?? "chunk";
  const fail = (problem: string): never => {
    throw new FormatError(source, problem);
  };
  const { nbytes, cbytes, headerLength, special, flags } = info;
  if (nbytes < 0) fail(`negative nbytes ${nbytes}`);
  if (cbytes < headerLength || cbytes > bytes.length) {
    fail(`cbytes ${cbytes} outside [${headerLength}, ${bytes.length}] (header to buffer length)`);
  }
  if (flags.variableBlocks) {
    fail("VL-block chunks (variable-length blocks, flags2 bit 0) are not supported");
  }
  if (flags.lazy) fail("lazy chunk (flag only C-Blosc2's in-memory frame reader sets)");
  if (flags.memcpyed && cbytes !== nbytes + headerLength) {
    fail(
      `memcpyed chunk of ${nbytes} bytes has cbytes ${cbytes} (expected ${nbytes + headerLength})`,
    );
  }
  const typesize = bytes[TYPESIZE_OFFSET]!;
  if (special === "zeros" || special === "nan" || special === "uninit") {
    if (cbytes !== headerLength) {
      fail(`${special} chunk has cbytes ${cbytes} (expected the ${headerLength}-byte header)`);
    }
    if (special !== "zeros" && nbytes % typesize !== 0) {
      fail(`${special} chunk of ${nbytes} bytes is not a whole number of ${typesize}-byte items`);
    }
    if (special === "nan" && typesize !== 4 && typesize !== 8) {
      fail(`NaN chunk with typesize ${typesize} (C-Blosc2 fills NaN for typesize 4 or 8 only)`);
    }
  }
  // C-Blosc2 decodes a header-only chunk of 0 bytes without looking further.
  if (nbytes === 0 && cbytes === headerLength && special === "none") return;

  const view = new DataView(bytes.buffer, bytes.byteOffset, cbytes);
  const regular = special === "none" && !flags.memcpyed;
  const nblocks = info.nblocks;
  const tableEnd = headerLength + (regular ? 4 * nblocks : 0);
  if (tableEnd > cbytes) {
    fail(`cbytes ${cbytes} cannot hold the header and ${nblocks} block starts (${tableEnd} bytes)`);
  }
  let dataStart = tableEnd;
  if (flags.dictionary) {
    if (tableEnd + 4 > cbytes) {
      fail(`dictionary flag set but its size (at ${tableEnd}) lies past cbytes ${cbytes}`);
    }
    const dictSize = view.getInt32(tableEnd, true);
    if (dictSize <= 0 || dictSize > MAX_DICT_SIZE) {
      fail(`dictionary size ${dictSize} outside 1..${MAX_DICT_SIZE} (C-Blosc2's maximum)`);
    }
    dataStart = tableEnd + 4 + dictSize;
    if (dataStart > cbytes) {
      fail(`dictionary of ${dictSize} bytes at ${tableEnd + 4} runs past cbytes ${cbytes}`);
    }
  }
  if (!regular || nblocks === 0) return;
  const numbers = options.blockNumbers;
  const label = (b: number): number => numbers?.[b] ?? b;

  const starts = new Int32Array(nblocks);
  let increasing = true;
  for (let i = 0; i < nblocks; i++) {
    const s = view.getInt32(headerLength + 4 * i, true);
    if (s < dataStart || s >= cbytes) {
      fail(`block ${label(i)} starts at ${s}, outside the block data [${dataStart}, ${cbytes})`);
    }
    if (i > 0 && s <= starts[i - 1]!) increasing = false;
    starts[i] = s;
  }
  // Distinct starts, so that every block has bytes of its own; where each ends: blockEnds.
  if (!increasing) {
    const sorted = starts.slice().sort();
    for (let i = 1; i < nblocks; i++) {
      if (sorted[i] === sorted[i - 1]) fail(`two blocks start at ${sorted[i]}`);
    }
  }
  const ends = blockEnds(starts, cbytes);

  const { blocksize } = info;
  const leftover = nbytes % blocksize;
  const split = (info.flags.raw & DONT_SPLIT) === 0;
  const checkBlock = (b: number): void => {
    if (!Number.isInteger(b) || b < 0 || b >= nblocks) {
      throw new OptionsError(`${source}: block ${b} outside the chunk's ${nblocks} blocks`);
    }
    const short = b === nblocks - 1 && leftover > 0;
    const bsize = short ? leftover : blocksize;
    const nstreams = split && !short ? typesize : 1;
    if (bsize % nstreams !== 0) {
      fail(`block ${label(b)} of ${bsize} bytes does not split into ${nstreams} equal streams`);
    }
    const neblock = bsize / nstreams;
    const end = ends[b]!;
    let pos = starts[b]!;
    for (let j = 0; j < nstreams; j++) {
      if (pos + 4 > end) {
        fail(`block ${label(b)} stream ${j} header at ${pos} runs past the block (ends at ${end})`);
      }
      const csize = view.getInt32(pos, true);
      pos += 4;
      if (csize > 0) {
        if (csize > neblock) {
          fail(
            `block ${label(b)} stream ${j} csize ${csize} exceeds the stream's ${neblock} bytes`,
          );
        }
        if (pos + csize > end) {
          fail(`block ${label(b)} stream ${j} csize ${csize} runs past the block (ends at ${end})`);
        }
        pos += csize;
      } else if (csize < 0) {
        if (csize < -255) fail(`block ${label(b)} stream ${j} run value ${-csize} is not a byte`);
        if (pos >= end)
          fail(`block ${label(b)} stream ${j} run token lies past the block (ends at ${end})`);
        if ((bytes[pos]! & 1) === 0) {
          fail(`block ${label(b)} stream ${j} has unknown run token ${bytes[pos]}`);
        }
        pos += 1;
      }
    }
  };
  const wanted = options.blocks ?? "all";
  if (wanted === "all") {
    for (let b = 0; b < nblocks; b++) checkBlock(b);
  } else {
    for (const b of wanted) checkBlock(b);
  }
}
