// Selection + b2nd array meta → the chunks and inner blocks a read touches, and, once a
// chunk's block starts are known, the byte ranges of exactly those blocks. No I/O.
import { FormatError } from "../errors.js";
import { blockEnds } from "../format/chunk.js";
import type { DimRange } from "./selection.js";

export interface GridMeta {
  shape: readonly number[];
  chunkShape: readonly number[];
  blockShape: readonly number[];
}

/**
 * A run of consecutive selected indices of one dimension that fall in one block:
 * k in [k0, k1) are output positions; `local` is the index of k0 inside the block.
 */
export interface Segment {
  chunk: number;
  block: number;
  k0: number;
  k1: number;
  local: number;
}

export interface ChunkPlan {
  /** Linear chunk index (C order over the chunk grid). */
  chunk: number;
  /** Chunk coordinates in the chunk grid. */
  coords: number[];
  /** Linear indices (C order over the chunk's block grid) of the touched blocks, ascending. */
  blocks: number[];
  /** True when every block holding array data is touched: read and decode the whole chunk. */
  whole: boolean;
  /** Per dimension, the segments of the selection inside this chunk. */
  segments: Segment[][];
}

export interface ReadPlan {
  ranges: DimRange[];
  chunks: ChunkPlan[];
  /** Blocks per chunk along each dimension (ceil(chunk / block)). */
  blocksPerChunk: number[];
  /** Chunks along each dimension. */
  chunkGrid: number[];
}

export function chunkGrid(meta: GridMeta): number[] {
  return meta.shape.map((n, d) => (n === 0 ? 0 : Math.ceil(n / meta.chunkShape[d]!)));
}

export function blockGrid(meta: GridMeta): number[] {
  return meta.chunkShape.map((c, d) => (c === 0 ? 0 : Math.ceil(c / meta.blockShape[d]!)));
}

/** Splits one dimension's selected indices into per-block runs, arithmetically. */
function segmentsOf(r: DimRange, chunk: number, block: number): Segment[] {
  const out: Segment[] = [];
  let k = 0;
  while (k < r.count) {
    const idx = r.start + k * r.step;
    const c = Math.floor(idx / chunk);
    const inChunk = idx - c * chunk;
    const b = Math.floor(inChunk / block);
    const lo = c * chunk + b * block; // first index of this block
    const hi = c * chunk + Math.min((b + 1) * block, chunk); // end of its valid part
    const n = r.step > 0 ? Math.ceil((hi - idx) / r.step) : Math.floor((idx - lo) / -r.step) + 1;
    const k1 = Math.min(r.count, k + n);
    out.push({ chunk: c, block: b, k0: k, k1, local: idx - lo });
    k = k1;
  }
  return out;
}

/** Number of blocks holding array data in chunk `c` along one dimension. */
function validBlocks(meta: GridMeta, d: number, c: number): number {
  const extent = Math.min(meta.chunkShape[d]!, meta.shape[d]! - c * meta.chunkShape[d]!);
  return Math.ceil(extent / meta.blockShape[d]!);
}

export function planRead(meta: GridMeta, ranges: DimRange[]): ReadPlan {
  const ndim = meta.shape.length;
  const grid = chunkGrid(meta);
  const bgrid = blockGrid(meta);
  const chunks: ChunkPlan[] = [];
  if (ranges.some((r) => r.count === 0))
    return { ranges, chunks, blocksPerChunk: bgrid, chunkGrid: grid };

  // Per dimension: segments grouped by chunk index, in selection order.
  const byDim = ranges.map((r, d) => {
    const groups = new Map<number, Segment[]>();
    for (const s of segmentsOf(r, meta.chunkShape[d]!, meta.blockShape[d]!)) {
      const g = groups.get(s.chunk);
      if (g) g.push(s);
      else groups.set(s.chunk, [s]);
    }
    return [...groups.entries()].sort((a, b) => a[0] - b[0]);
  });

  // Cartesian product over the touched chunks of each dimension.
  const pick = new Array<number>(ndim).fill(0);
  for (;;) {
    const coords = pick.map((p, d) => byDim[d]![p]![0]);
    const segments = pick.map((p, d) => byDim[d]![p]![1]);
    let linear = 0;
    for (let d = 0; d < ndim; d++) linear = linear * grid[d]! + coords[d]!;
    const perDimBlocks = segments.map((segs) =>
      [...new Set(segs.map((s) => s.block))].sort((a, b) => a - b),
    );
    const blocks: number[] = [];
    const bpick = new Array<number>(ndim).fill(0);
    for (;;) {
      let b = 0;
      for (let d = 0; d < ndim; d++) b = b * bgrid[d]! + perDimBlocks[d]![bpick[d]!]!;
      blocks.push(b);
      let d = ndim - 1;
      while (d >= 0 && ++bpick[d]! === perDimBlocks[d]!.length) bpick[d--] = 0;
      if (d < 0) break;
    }
    blocks.sort((a, b) => a - b);
    const whole = perDimBlocks.every((bs, d) => bs.length === validBlocks(meta, d, coords[d]!));
    chunks.push({ chunk: linear, coords, blocks, whole, segments });
    let d = ndim - 1;
    while (d >= 0 && ++pick[d]! === byDim[d]!.length) pick[d--] = 0;
    if (d < 0) break;
  }
  return { ranges, chunks, blocksPerChunk: bgrid, chunkGrid: grid };
}

/** A byte range [start, end) of a chunk and the blocks whose data it covers. */
export interface ByteRange {
  start: number;
  end: number;
  blocks: number[];
}

/**
 * Byte ranges of the given blocks, from the chunk's block-start table. A block ends where
 * the next larger start begins (starts may be out of order), the last at `cbytes`.
 * Ranges closer than `mergeGap` bytes are merged into one read. `ends` (from blockEnds) can be
 * passed when the caller already has it.
 */
export function blockByteRanges(
  bstarts: Int32Array,
  cbytes: number,
  blocks: readonly number[],
  mergeGap: number,
  source: string,
  ends: Int32Array = blockEnds(bstarts, cbytes),
): ByteRange[] {
  const n = bstarts.length;
  const dataStart = 32 + 4 * n;
  for (let i = 0; i < n; i++) {
    const s = bstarts[i]!;
    if (s < dataStart || s > cbytes) {
      throw new FormatError(
        source,
        `block ${i} starts at ${s}, outside the chunk's data [${dataStart}, ${cbytes}]`,
      );
    }
  }
  const pieces = blocks
    .map((b) => ({ start: bstarts[b]!, end: ends[b]!, block: b }))
    .sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last && p.start - last.end <= mergeGap) {
      last.end = Math.max(last.end, p.end);
      last.blocks.push(p.block);
    } else out.push({ start: p.start, end: p.end, blocks: [p.block] });
  }
  return out;
}
