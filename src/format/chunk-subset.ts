// A chunk cut down to some of its blocks: a valid Blosc2 chunk that C-Blosc2 decodes in one
// call into just those blocks. Partial reads use it so that neither the compressed input nor
// the decoded output needs a whole chunk's worth of memory, and so that delta (undone against
// the chunk's block 0) and dictionaries (loaded by the full decoder only) keep working.
import { FormatError } from "../errors.js";
import { type ChunkInfo, EXTENDED_HEADER_LENGTH } from "./chunk.js";

/** A cut chunk's size, and how to write it into `size` bytes of any memory. */
export interface CutChunk {
  readonly size: number;
  write(target: Uint8Array): void;
}

/**
 * Plans a chunk holding only `blocks` (ascending, distinct; include 0 first for delta) of a
 * chunk described by `info`. `prefix` holds the chunk's bytes before its first block (header,
 * block starts, dictionary: at least `dataStart` bytes); `blockBytes(b)` returns block b's
 * stored bytes (from its start to the next larger block start, or cbytes).
 *
 * The header keeps everything but nbytes and cbytes; the starts table is rewritten for the
 * new order. Decoded, the result is the chosen blocks back to back (the chunk's short last
 * block, if chosen, must come last and stays short). Writing is separate from planning so
 * that the decoder can assemble the cut chunk straight in wasm memory.
 */
export function cutChunk(
  info: ChunkInfo,
  prefix: Uint8Array,
  dataStart: number,
  blocks: readonly number[],
  blockBytes: (b: number) => Uint8Array,
  source: string,
): CutChunk {
  if (info.flags.memcpyed || info.special !== "none" || info.flags.variableBlocks) {
    throw new FormatError(source, "only ordinary chunks can be cut into blocks");
  }
  const tableEnd = EXTENDED_HEADER_LENGTH + 4 * info.nblocks;
  if (dataStart < tableEnd || prefix.length < dataStart) {
    throw new FormatError(source, `chunk prefix of ${prefix.length} bytes ends before its data`);
  }
  const lastBlock = info.nblocks - 1;
  const leftover = info.nbytes - lastBlock * info.blocksize;
  let nbytes = 0;
  let size = EXTENDED_HEADER_LENGTH + 4 * blocks.length + (dataStart - tableEnd);
  const parts: Uint8Array[] = [];
  for (const [i, b] of blocks.entries()) {
    if (i > 0 && b <= blocks[i - 1]!) {
      throw new FormatError(source, `blocks to cut must ascend (got ${blocks.join(",")})`);
    }
    const bytes = blockBytes(b);
    parts.push(bytes);
    size += bytes.length;
    nbytes += b === lastBlock ? leftover : info.blocksize;
  }
  const write = (target: Uint8Array): void => {
    if (target.length < size) {
      throw new FormatError(
        source,
        `a cut chunk of ${size} bytes does not fit in ${target.length}`,
      );
    }
    const view = new DataView(target.buffer, target.byteOffset, size);
    target.set(prefix.subarray(0, EXTENDED_HEADER_LENGTH));
    view.setInt32(4, nbytes, true);
    view.setInt32(12, size, true);
    // The dictionary (size + bytes) sits between the starts table and the first block.
    let pos = EXTENDED_HEADER_LENGTH + 4 * blocks.length;
    target.set(prefix.subarray(tableEnd, dataStart), pos);
    pos += dataStart - tableEnd;
    for (const [i, bytes] of parts.entries()) {
      view.setInt32(EXTENDED_HEADER_LENGTH + 4 * i, pos, true);
      target.set(bytes, pos);
      pos += bytes.length;
    }
  };
  return { size, write };
}
