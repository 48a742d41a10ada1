// Reads do not need chunk-sized wasm memory: the heap of a fresh instance does not grow past
// its initial 16 MiB when one element, one row or all of a 64 MiB chunk is read. (Before
// batched block decoding, it grew by the chunk size.)
import { describe, expect, it } from "vitest";
import { initBlosc2, openB2nd, writeB2nd } from "../src/index.js";

const MiB = 1024 * 1024;

describe("memory of partial reads", () => {
  it("reading one element or one row of a 64 MiB chunk keeps the wasm heap at O(block)", async () => {
    const rows = 4096;
    const cols = 2048; // 4096 x 2048 float64 = 64 MiB, one chunk
    const values = new Float64Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i / 1000) * 100;
    const frame = await writeB2nd(values, [rows, cols], {
      chunkShape: [rows, cols],
      blockShape: [64, 128], // 64 KiB blocks
      codec: "lz4",
      filters: ["shuffle"],
    });
    // A fresh instance starts at its initial memory (16 MiB), well below the chunk size.
    const wasm = await initBlosc2();
    const memory = () => wasm.exports.memory.buffer.byteLength;
    const initial = memory();
    expect(initial).toBeLessThan(32 * MiB);
    const heapBefore = wasm.heapInUse();

    const arr = await openB2nd(frame);
    const one = await arr.get([1234, 567]);
    expect(Array.from(one.data as Float64Array)).toEqual([values[1234 * cols + 567]]);
    expect(one.stats.blocksDecoded).toBe(1);

    const row = await arr.get([3000, null]);
    expect(row.stats.blocksDecoded).toBe(cols / 128);
    expect(Array.from(row.data as Float64Array)).toEqual(
      Array.from(values.subarray(3000 * cols, 3001 * cols)),
    );
    // Sixteen 64 KiB blocks decode in one batch: 1 MiB of scratch, no 64 MiB buffer.
    expect(memory()).toBe(initial);
    // Even the whole chunk goes through wasm in 4 MiB batches (the default batchBytes).
    const all = await arr.get();
    expect(all.stats.blocksDecoded).toBe(1024);
    expect((all.data as Float64Array)[rows * cols - 1]).toBe(values[rows * cols - 1]);
    expect(memory()).toBe(initial);
    // What stays allocated is C-Blosc2's per-context block scratch (4 x blocksize), kept for
    // the next call; a second read allocates nothing more.
    const kept = wasm.heapInUse() - heapBefore;
    expect(kept).toBeLessThanOrEqual(4 * (64 * 128 * 8) + 64 * 1024);
    await arr.get([100, null]);
    expect(wasm.heapInUse() - heapBefore).toBe(kept);
  }, 60_000);
});
