// Reused read buffers: the pool itself, and b2nd reads through a source that reads in place.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd, writeB2nd } from "../src/index.js";
import { FileSource } from "../src/io/file.js";
import { ScratchPool } from "../src/io/scratch.js";
import type { ByteSource } from "../src/io/source.js";

const KiB = 1024;

describe("ScratchPool", () => {
  it("hands out exact lengths and reuses the smallest free buffer that fits", () => {
    const pool = new ScratchPool();
    const a = pool.take(100 * KiB);
    const b = pool.take(300 * KiB);
    expect(a).toHaveLength(100 * KiB);
    expect(a.buffer).not.toBe(b.buffer);
    pool.give(b);
    pool.give(a);
    const c = pool.take(90 * KiB);
    expect(c).toHaveLength(90 * KiB);
    expect(c.buffer).toBe(a.buffer); // best fit, not the first free
    const d = pool.take(200 * KiB);
    expect(d.buffer).toBe(b.buffer);
    // Nothing free is large enough: a new buffer.
    const e = pool.take(400 * KiB);
    expect([a.buffer, b.buffer]).not.toContain(e.buffer);
  });

  it("keeps neither small buffers nor more than 16 free ones", () => {
    const pool = new ScratchPool();
    const small = pool.take(KiB);
    pool.give(small);
    expect(pool.take(KiB).buffer).not.toBe(small.buffer);
    const given = Array.from({ length: 20 }, (_, i) => pool.take((64 + i) * KiB));
    for (const g of given) pool.give(g);
    const again = Array.from({ length: 20 }, () => pool.take(64 * KiB));
    const reused = again.filter((x) => given.some((g) => g.buffer === x.buffer));
    expect(reused).toHaveLength(16);
    // The four smallest went first.
    const kept = new Set(reused.map((x) => x.buffer.byteLength / KiB));
    expect([...kept].sort((p, q) => p - q)[0]).toBe(68);
  });
});

describe("b2nd reads with reused buffers", () => {
  let dir: string;
  let path: string;
  const rows = 2048;
  const cols = 256;
  const values = new Float64Array(rows * cols);
  beforeAll(async () => {
    // Noise compresses to about its size, so each chunk's reads are well above 64 KiB.
    let x = 12345;
    for (let i = 0; i < values.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      values[i] = x / 2 ** 32 - 0.5;
    }
    dir = mkdtempSync(join(tmpdir(), "zarr-blosc2-scratch-"));
    path = join(dir, "noise.b2nd");
    const frame = await writeB2nd(values, [rows, cols], {
      chunkShape: [128, cols], // 16 chunks of 256 KiB, more than the 4 read at a time
      blockShape: [64, cols], // blocks of 128 KiB
      codec: "lz4",
    });
    writeFileSync(path, frame);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A FileSource that records the buffers it is asked to read into. */
  function recording(): { source: ByteSource; targets: ArrayBufferLike[] } {
    const file = new FileSource(path);
    const targets: ArrayBufferLike[] = [];
    const source: ByteSource = {
      name: file.name,
      stats: file.stats,
      size: () => file.size(),
      read: (offset, length, options) => file.read(offset, length, options),
      readInto: (offset, target, options) => {
        targets.push(target.buffer);
        return file.readInto(offset, target, options);
      },
      close: () => file.close(),
    };
    return { source, targets };
  }

  it("read every selection equal to the data, reusing buffers across chunks", async () => {
    const { source, targets } = recording();
    const arr = await openB2nd(source);
    const column = Array.from({ length: rows }, (_, r) => values[r * cols + 77]);
    const strided: number[] = [];
    for (let r = 100; r < 1900; r += 3)
      for (let c = 5; c < 250; c += 7) strided.push(values[r * cols + c]!);
    try {
      const all = await arr.get();
      expect(all.data).toEqual(values);
      const col = await arr.get([null, 77]);
      expect(Array.from(col.data as Float64Array)).toEqual(column);
      const sel = [
        { start: 100, stop: 1900, step: 3 },
        { start: 5, stop: 250, step: 7 },
      ];
      const got = await arr.get(sel);
      expect(Array.from(got.data as Float64Array)).toEqual(strided);
      expect(targets.length).toBeGreaterThan(16);
      // 16 chunks per read, at most 4 in flight: far fewer buffers than reads.
      expect(new Set(targets).size).toBeLessThan(targets.length / 2);
    } finally {
      await arr.close?.();
    }
  });
});
