// Scatters decoded blocks into a selection's output. Shared by the b2nd reader (main thread)
// and the pool workers, which scatter straight into a SharedArrayBuffer output when they can.
import { FormatError } from "../errors.js";
import type { ChunkPlan } from "../plan/b2nd-plan.js";

export interface CopyContext {
  out: Uint8Array;
  outStrides: number[];
  bgrid: number[];
  bstrides: number[];
  steps: number[];
}

/** Bytes copied per element move: 4 or 2 when items are multiples of that, else 1. */
function copyUnit(itemsize: number): 1 | 2 | 4 {
  return itemsize % 4 === 0 ? 4 : itemsize % 2 === 0 ? 2 : 1;
}

type UnitArray = Uint8Array | Uint16Array | Uint32Array;

function unitView(bytes: Uint8Array, unit: 1 | 2 | 4): UnitArray {
  if (unit === 4)
    return new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  if (unit === 2)
    return new Uint16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2));
  return bytes;
}

/**
 * Runs of at least this many bytes are copied with set(); shorter ones unit by unit. Measured
 * in Node 20: set() wins from about 100-130 bytes on, for 2- and 4-byte units alike.
 */
const SET_THRESHOLD_BYTES = 128;

/**
 * Copies the part of the selection that lies in block `b` of a chunk (whose plan has
 * `segments`) into the output.
 * Blocks are small, so runs are short: they are copied as 4- or 2-byte units in a plain loop
 * (a subarray + set per run costs more than the copy itself for runs of a few items).
 */
export function copyBlock(
  ctx: CopyContext,
  segments: ChunkPlan["segments"],
  b: number,
  block: Uint8Array,
  itemsize: number,
): void {
  const ndim = segments.length;
  const counts = new Array<number>(ndim);
  const outStart = new Array<number>(ndim);
  const inStart = new Array<number>(ndim);
  let rest = b;
  for (let d = ndim - 1; d >= 0; d--) {
    const bc = rest % ctx.bgrid[d]!;
    rest = Math.floor(rest / ctx.bgrid[d]!);
    const seg = segments[d]!.find((s) => s.block === bc);
    if (!seg) return; // not part of the selection (cannot happen for planned blocks)
    counts[d] = seg.k1 - seg.k0;
    outStart[d] = seg.k0;
    inStart[d] = seg.local;
  }
  let o0 = 0;
  let i0 = 0;
  for (let d = 0; d < ndim; d++) {
    o0 += outStart[d]! * ctx.outStrides[d]!;
    i0 += inStart[d]! * ctx.bstrides[d]!;
  }
  // Typed views need aligned offsets; blocks from wasm or our own buffers always are, bytes
  // straight from a source (memcpyed chunks) may not be.
  let unit = copyUnit(itemsize);
  if (block.byteOffset % unit !== 0 || ctx.out.byteOffset % unit !== 0) unit = 1;
  const per = itemsize / unit; // units per item
  const src = unitView(block, unit);
  const dst = unitView(ctx.out, unit);
  const last = ndim - 1;
  const innerCount = ndim === 0 ? 1 : counts[last]!;
  const innerOut = ndim === 0 ? 0 : ctx.outStrides[last]! * per;
  const innerIn = ndim === 0 ? 0 : ctx.steps[last]! * ctx.bstrides[last]! * per;
  const contiguous = innerOut === per && innerIn === per;
  const run = innerCount * per;
  // Outer dimensions advance like an odometer; offsets are updated, not recomputed.
  const outer = Math.max(ndim - 1, 0);
  const outStep = new Array<number>(outer);
  const inStep = new Array<number>(outer);
  for (let d = 0; d < outer; d++) {
    outStep[d] = ctx.outStrides[d]! * per;
    inStep[d] = ctx.steps[d]! * ctx.bstrides[d]! * per;
  }
  const idx = new Array<number>(outer).fill(0);
  let ou0 = o0 * per;
  let iu0 = i0 * per;
  for (;;) {
    if (contiguous) {
      if (run * unit >= SET_THRESHOLD_BYTES) dst.set(src.subarray(iu0, iu0 + run), ou0);
      else for (let k = 0; k < run; k++) dst[ou0 + k] = src[iu0 + k]!;
    } else {
      let ou = ou0;
      let iu = iu0;
      for (let k = 0; k < innerCount; k++) {
        for (let j = 0; j < per; j++) dst[ou + j] = src[iu + j]!;
        ou += innerOut;
        iu += innerIn;
      }
    }
    let d = outer - 1;
    for (; d >= 0; d--) {
      ou0 += outStep[d]!;
      iu0 += inStep[d]!;
      if (++idx[d]! < counts[d]!) break;
      ou0 -= outStep[d]! * counts[d]!;
      iu0 -= inStep[d]! * counts[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}

/** A batch of decoded blocks to scatter, as sent to a pool worker. */
export interface ScatterJob {
  ctx: CopyContext;
  segments: ChunkPlan["segments"];
  /** For each decoded block in order, its index in the chunk, or -1 to skip it. */
  blocks: number[];
  blocksize: number;
  itemsize: number;
}

/** Scatters a decoded batch; a batch of the wrong size is a FormatError naming `source`. */
export function scatterBatch(job: ScatterJob, bytes: Uint8Array, source: string): void {
  const expected = job.blocks.length * job.blocksize;
  if (bytes.length !== expected) {
    throw new FormatError(source, `decoded to ${bytes.length} bytes, expected ${expected}`);
  }
  job.blocks.forEach((b, i) => {
    if (b >= 0) {
      const block = bytes.subarray(i * job.blocksize, (i + 1) * job.blocksize);
      copyBlock(job.ctx, job.segments, b, block, job.itemsize);
    }
  });
}
