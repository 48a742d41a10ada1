// Chunks are checked in TypeScript (src/format/chunk-validate.ts) before C-Blosc2 sees them
// (the b2nd reader assembles batch chunks in wasm memory, with only the allocator called):
// hand-mutated headers, block starts, stream sizes and dictionaries end as a FormatError with
// no call into C-Blosc2, valid chunks (every codec and layout) always pass, and
// thousands of random mutations only ever end as typed errors.
import { beforeAll, describe, expect, it } from "vitest";
import { blosc2CallCount, blosc2Wasm } from "../src/decode/wasm.js";
import { MAX_DICT_SIZE, validateChunk } from "../src/format/chunk-validate.js";
import {
  Blosc2Error,
  type ChunkInfo,
  chunkInfo,
  compress,
  decompress,
  decompressBlocks,
  decompressItems,
  FormatError,
  MemorySource,
  OptionsError,
  openB2nd,
  WasmTrapError,
  writeB2nd,
  ZarrBlosc2Error,
} from "../src/index.js";

const smooth = new Float64Array(10_000).map((_, i) => Math.sin(i / 300) * 100);
const ramp = new Int32Array(30_000).map((_, i) => (i * 7) % 1000);

function int32(chunk: Uint8Array, at: number): number {
  return new DataView(chunk.buffer, chunk.byteOffset).getInt32(at, true);
}

function setInt32(chunk: Uint8Array, at: number, value: number): void {
  new DataView(chunk.buffer, chunk.byteOffset).setInt32(at, value, true);
}

function blockStart(chunk: Uint8Array, b: number): number {
  return int32(chunk, chunkInfo(chunk).headerLength + 4 * b);
}

/** Offsets of the stream headers (csize int32s) of block `b` of a valid chunk. */
function streamHeaders(chunk: Uint8Array, b: number): number[] {
  const info = chunkInfo(chunk);
  const split = !info.flags.dontSplit && !(b === info.nblocks - 1 && info.nbytes % info.blocksize);
  const out: number[] = [];
  let pos = blockStart(chunk, b);
  for (let j = 0; j < (split ? info.typesize : 1); j++) {
    out.push(pos);
    const csize = int32(chunk, pos);
    pos += 4 + (csize > 0 ? csize : csize < 0 ? 1 : 0);
  }
  return out;
}

/** Byte equality (vitest's toEqual is slow on long typed arrays). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A special chunk: 32-byte header (+ the repeated value). */
function specialChunk(kind: number, nbytes: number, typesize: number, value?: Uint8Array) {
  const chunk = new Uint8Array(32 + (value?.length ?? 0));
  chunk.set([5, 1, 0x05, typesize]);
  setInt32(chunk, 4, nbytes);
  setInt32(chunk, 8, nbytes);
  setInt32(chunk, 12, chunk.length);
  chunk[31] = kind << 4;
  if (value) chunk.set(value, 32);
  return chunk;
}

/** Rewrites a filterless, non-memcpyed Blosc2 chunk with the 16-byte Blosc1 header. */
function toBlosc1(chunk: Uint8Array): Uint8Array {
  const info = chunkInfo(chunk);
  const out = new Uint8Array(chunk.length - 16);
  out.set(chunk.subarray(0, 16));
  out.set(chunk.subarray(32), 16);
  out[0] = 2;
  out[2] = chunk[2]! & ~0x05;
  setInt32(out, 12, out.length);
  for (let b = 0; b < info.nblocks; b++) setInt32(out, 16 + 4 * b, int32(out, 16 + 4 * b) - 16);
  return out;
}

/** Asserts that `run` fails with a FormatError matching `pattern` without calling wasm. */
async function rejectedBeforeWasm(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const instance = await blosc2Wasm();
  const calls = blosc2CallCount();
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a FormatError").toBeInstanceOf(FormatError);
  expect(err).not.toBeInstanceOf(WasmTrapError);
  expect((err as Error).message).toMatch(pattern);
  expect(blosc2CallCount(), "wasm was called").toBe(calls);
  expect(await blosc2Wasm()).toBe(instance);
}

const allOps = (chunk: Uint8Array) => [
  () => decompress(chunk),
  () => decompressBlocks(chunk, [0, 1]),
  () => decompressItems(chunk, 0, 10),
];

let lz4: Uint8Array; // 8 streams per block, 10 blocks
let lz4Info: ChunkInfo;

beforeAll(async () => {
  await blosc2Wasm();
  lz4 = await compress(smooth, { codec: "lz4", blocksize: 8192, splitmode: "always" });
  lz4Info = chunkInfo(lz4);
  expect(lz4Info.nblocks).toBe(10);
  expect(lz4Info.flags.dontSplit).toBe(false);
});

describe("hand-mutated chunks fail in TypeScript, before wasm", () => {
  it("header fields", async () => {
    const cases: [(c: Uint8Array) => void, RegExp][] = [
      [(c) => setInt32(c, 4, -8), /negative nbytes -8/],
      [(c) => setInt32(c, 12, c.length + 1), /cbytes \d+ exceeds/],
      [(c) => setInt32(c, 8, 8193), /block 0 of 8193 bytes does not split into 8 equal streams/],
      [(c) => setInt32(c, 8, 2), /cannot hold the header and 40000 block starts/],
      [(c) => (c[30] = 1), /VL-block chunks .* are not supported/],
      [(c) => (c[31] = c[31]! | 0x08), /lazy chunk/],
      [
        (c) => (c[2] = c[2]! | 0x02),
        /memcpyed chunk of 80000 bytes has cbytes \d+ \(expected 80032\)/,
      ],
      [
        (c) => (c[31] = c[31]! | (1 << 4)),
        /zeros chunk has cbytes \d+ \(expected the 32-byte header\)/,
      ],
    ];
    for (const [mutate, pattern] of cases) {
      const chunk = lz4.slice();
      mutate(chunk);
      for (const op of allOps(chunk)) await rejectedBeforeWasm(op, pattern);
    }
    const memcpyed = await compress(smooth, { clevel: 0 });
    expect(chunkInfo(memcpyed).flags.memcpyed).toBe(true);
    setInt32(memcpyed, 4, 80_000 - 8);
    for (const op of allOps(memcpyed)) {
      await rejectedBeforeWasm(op, /memcpyed chunk of 79992 bytes has cbytes 80032/);
    }
  });

  it("special chunks", async () => {
    const zeros = specialChunk(1, 800, 8);
    expect(await decompress(zeros)).toEqual(new Uint8Array(800));
    const longZeros = new Uint8Array(40);
    longZeros.set(zeros);
    setInt32(longZeros, 12, 40);
    await rejectedBeforeWasm(() => decompress(longZeros), /zeros chunk has cbytes 40/);
    await rejectedBeforeWasm(
      () => decompress(specialChunk(2, 800, 2)),
      /NaN chunk with typesize 2 \(C-Blosc2 fills NaN for typesize 4 or 8 only\)/,
    );
    await rejectedBeforeWasm(
      () => decompress(specialChunk(4, 801, 8)),
      /uninit chunk of 801 bytes is not a whole number of 8-byte items/,
    );
    const nan = new Float64Array((await decompress(specialChunk(2, 800, 8))).buffer);
    expect(nan.every(Number.isNaN)).toBe(true);
    // C-Blosc2 writes nothing for uninitialized chunks: they decode to zeros, without wasm
    // (which would return stale heap bytes).
    const calls = blosc2CallCount();
    const uninit = specialChunk(4, 800, 8);
    expect(await decompress(uninit)).toEqual(new Uint8Array(800));
    expect(await decompressItems(uninit, 3, 5)).toEqual(new Uint8Array(40));
    expect(await decompressBlocks(uninit, [0])).toEqual(new Uint8Array(800));
    expect(blosc2CallCount()).toBe(calls);
  });

  it("large special chunks are filled without C-Blosc2, whatever their typesize", async () => {
    // The regression behind fuzz input a430b47d96075325.b2: C-Blosc2 fills a repeated value one
    // item at a time (22 s for 1 GiB of typesize 1 in wasm). The fill must never reach it; a
    // call count says so without timing anything.
    const nbytes = 48 * 2 ** 20 + 3 * 5; // not a power of two, a whole number of items
    for (const typesize of [1, 3, 5]) {
      const value = Uint8Array.from({ length: typesize }, (_, i) => 0xa0 + i);
      const chunk = specialChunk(3, nbytes - (nbytes % typesize), typesize, value);
      const calls = blosc2CallCount();
      const out = await decompress(chunk);
      expect(blosc2CallCount(), `typesize ${typesize}`).toBe(calls);
      expect(out.length).toBe(nbytes - (nbytes % typesize));
      const expected = new Uint8Array(out.length);
      for (let i = 0; i < expected.length; i++) expected[i] = 0xa0 + (i % typesize);
      expect(same(out, expected), `typesize ${typesize}`).toBe(true);
      const items = await decompressItems(chunk, 1_000_001, 7);
      expect(Array.from(items)).toEqual(
        Array.from(expected.subarray(1_000_001 * typesize, 1_000_008 * typesize)),
      );
      expect(blosc2CallCount()).toBe(calls);
    }
  });

  it("block starts", async () => {
    const table = 32 + 4 * lz4Info.nblocks;
    const cases: [number, RegExp][] = [
      [10, /block 3 starts at 10, outside the block data \[72, \d+\)/],
      [table - 1, /block 3 starts at 71, outside/],
      [lz4Info.cbytes, new RegExp(`block 3 starts at ${lz4Info.cbytes}, outside`)],
      [-1, /block 3 starts at -1, outside/],
      [blockStart(lz4, 2), new RegExp(`two blocks start at ${blockStart(lz4, 2)}`)],
    ];
    for (const [value, pattern] of cases) {
      const chunk = lz4.slice();
      setInt32(chunk, 32 + 4 * 3, value);
      // All starts are checked, even for a decode that skips block 3: they bound the others.
      for (const op of allOps(chunk)) await rejectedBeforeWasm(op, pattern);
    }
    // A start moved into the previous block's data cuts that block short.
    const chunk = lz4.slice();
    setInt32(chunk, 32 + 4 * 4, blockStart(lz4, 3) + 6);
    await rejectedBeforeWasm(
      () => decompressBlocks(chunk, [3]),
      /block 3 stream 1 header at \d+ runs past the block \(ends at \d+\)|block 3 stream 0 csize \d+ runs past/,
    );
  });

  it("stream sizes", async () => {
    const neblock = 8192 / 8;
    const [s0, s1, s2] = streamHeaders(lz4, 3);
    const streams = streamHeaders(lz4, 3);
    const last = streams[7]!;
    const end = blockStart(lz4, 4);
    const cases: [number, number, RegExp][] = [
      [
        s2!,
        99_999,
        new RegExp(`block 3 stream 2 csize 99999 exceeds the stream's ${neblock} bytes`),
      ],
      [
        last,
        end - last - 4 + 1,
        new RegExp(
          `block 3 stream 7 csize ${end - last - 4 + 1} runs past the block \\(ends at ${end}\\)`,
        ),
      ],
      [s0!, -300, /block 3 stream 0 run value 300 is not a byte/],
    ];
    expect(end - last - 4 + 1).toBeLessThanOrEqual(neblock); // compressed, so not "exceeds"
    for (const [at, value, pattern] of cases) {
      const chunk = lz4.slice();
      setInt32(chunk, at, value);
      for (const op of [
        () => decompress(chunk),
        () => decompressBlocks(chunk, [3]),
        () => decompressItems(chunk, 3 * 1024 + 5, 10),
      ]) {
        await rejectedBeforeWasm(op, pattern);
      }
    }
    // A run with a token whose bit 0 is clear: C-Blosc2 knows no such encoding.
    const chunk = lz4.slice();
    setInt32(chunk, s1!, -7);
    chunk[s1! + 4] = 0x02;
    await rejectedBeforeWasm(() => decompress(chunk), /block 3 stream 1 has unknown run token 2/);
  });

  it("dictionaries", async () => {
    const dict = await compress(smooth, { codec: "zstd", useDict: true, blocksize: 16_384 });
    const info = chunkInfo(dict);
    expect(info.flags.dictionary).toBe(true);
    const at = 32 + 4 * info.nblocks;
    const size = int32(dict, at);
    expect(size).toBeGreaterThan(0);
    const cases: [(c: Uint8Array) => void, RegExp][] = [
      [(c) => setInt32(c, at, 0), /dictionary size 0 outside 1\.\.32768/],
      [(c) => setInt32(c, at, -5), /dictionary size -5 outside/],
      [(c) => setInt32(c, at, MAX_DICT_SIZE + 1), /dictionary size 32769 outside/],
      // A larger dictionary swallows block 0.
      [(c) => setInt32(c, at, size + 4), /block 0 starts at \d+, outside the block data/],
      // A dictionary running past cbytes.
      [
        (c) => setInt32(c, 12, at + 4 + size - 1),
        /dictionary of \d+ bytes at \d+ runs past cbytes/,
      ],
      // No room left for the size.
      [
        (c) => setInt32(c, 12, at + 2),
        /dictionary flag set but its size \(at \d+\) lies past cbytes/,
      ],
    ];
    for (const [mutate, pattern] of cases) {
      const chunk = dict.slice();
      mutate(chunk);
      for (const op of allOps(chunk)) await rejectedBeforeWasm(op, pattern);
    }
    const flagged = lz4.slice();
    flagged[31] = flagged[31]! | 0x01;
    for (const op of allOps(flagged)) {
      await rejectedBeforeWasm(
        op,
        /dictionary size \d+ outside|block 0 starts at \d+, outside the block data/,
      );
    }
  });

  it("maxDecodedBytes is checked against the header before allocating", async () => {
    const instance = await blosc2Wasm();
    const calls = blosc2CallCount();
    const opts = { maxDecodedBytes: 1000 };
    await expect(decompress(lz4, opts)).rejects.toThrow(
      /decompress: decoding needs 80000 bytes, above maxDecodedBytes \(1000\)/,
    );
    await expect(decompressBlocks(lz4, [1], opts)).rejects.toThrow(OptionsError);
    await expect(decompressItems(lz4, 0, 200, opts)).rejects.toThrow(/needs 1600 bytes/);
    await expect(decompress(lz4, { maxDecodedBytes: -1 })).rejects.toThrow(OptionsError);
    expect(blosc2CallCount()).toBe(calls);
    expect(await blosc2Wasm()).toBe(instance);
    // Small reads of a large chunk stay possible.
    const items = await decompressItems(lz4, 100, 50, opts);
    expect(new Float64Array(items.buffer)).toEqual(smooth.subarray(100, 150));
    // The source option names what is read.
    const bad = lz4.slice();
    setInt32(bad, 32, 3);
    await expect(decompress(bad, { source: "my.bin chunk 7" })).rejects.toThrow(
      /^my\.bin chunk 7: block 0 starts at 3/,
    );
  });
});

describe("only the blocks a decode uses are walked", () => {
  it("a damaged block does not stop a decode of the others, except block 0 under delta", async () => {
    const chunk = lz4.slice();
    setInt32(chunk, streamHeaders(lz4, 5)[2]!, 99_999);
    await rejectedBeforeWasm(() => decompress(chunk), /block 5 stream 2 csize 99999/);
    await rejectedBeforeWasm(() => decompressBlocks(chunk, [1, 5]), /block 5 stream 2/);
    const blocks = await decompressBlocks(chunk, [1, 2]);
    expect(new Float64Array(blocks.buffer, 1024 * 8, 2048)).toEqual(smooth.subarray(1024, 3072));
    const items = await decompressItems(chunk, 1000, 2000);
    expect(new Float64Array(items.buffer)).toEqual(smooth.subarray(1000, 3000));
    expect(() => validateChunk(chunk, chunkInfo(chunk), { blocks: [0, 1, 2, 3, 4] })).not.toThrow();
    expect(() => validateChunk(chunk, chunkInfo(chunk), { source: "x" })).toThrow(
      /^x: block 5 stream 2 csize 99999/,
    );

    const delta = await compress(ramp, { codec: "zstd", filters: ["delta"], blocksize: 16_000 });
    const dinfo = chunkInfo(delta);
    expect(dinfo.nblocks).toBe(8);
    const damaged = delta.slice();
    setInt32(damaged, blockStart(delta, 0), 1 << 20);
    await rejectedBeforeWasm(() => decompressBlocks(damaged, [3]), /block 0 stream 0 csize/);
    await rejectedBeforeWasm(() => decompressItems(damaged, 12_000, 10), /block 0 stream 0/);
    const ok = delta.slice();
    setInt32(ok, blockStart(delta, 5), 1 << 20);
    const got = await decompressItems(ok, 12_000, 10);
    expect(new Int32Array(got.buffer)).toEqual(ramp.subarray(12_000, 12_010));
  });

  it("sparse buffers (header, starts and wanted blocks only, the rest zero) pass", async () => {
    const wanted = [2, 7];
    const sparse = new Uint8Array(lz4Info.cbytes);
    sparse.set(lz4.subarray(0, 32 + 4 * lz4Info.nblocks));
    for (const b of wanted) {
      const end = b + 1 < lz4Info.nblocks ? blockStart(lz4, b + 1) : lz4Info.cbytes;
      sparse.set(lz4.subarray(blockStart(lz4, b), end), blockStart(lz4, b));
    }
    expect(() => validateChunk(sparse, chunkInfo(sparse), { blocks: wanted })).not.toThrow();
    const got = new Float64Array((await decompressBlocks(sparse, wanted)).buffer);
    for (const b of wanted) {
      expect(got.subarray(b * 1024, (b + 1) * 1024)).toEqual(
        smooth.subarray(b * 1024, (b + 1) * 1024),
      );
    }
  });

  it("the b2nd reader is covered: a damaged chunk fails naming it, before wasm", async () => {
    const values = new Float64Array(64 * 64).map((_, i) => Math.floor(i / 10));
    const frame = await writeB2nd(values, [64, 64], {
      chunkShape: [32, 32],
      blockShape: [16, 16],
      codec: "lz4",
    });
    const arr = await openB2nd(new MemorySource(frame, "bad.b2nd"));
    const o = arr.offsets[1] as { offset: number };
    const base = arr.header.headerLength + o.offset;
    const chunk = frame.subarray(base);
    // Block 2 of chunk 1: its first stream claims far more bytes than the block holds.
    setInt32(chunk, int32(chunk, 32 + 4 * 2), 100_000);
    const damaged = await openB2nd(new MemorySource(frame, "bad.b2nd"));
    // Block 2 of chunk 1 is rows 16-31, columns 32-47 of the array.
    await rejectedBeforeWasm(
      () =>
        damaged.get([
          { start: 20, stop: 21, step: null },
          { start: 40, stop: 41, step: null },
        ]),
      /^bad\.b2nd: chunk 1 \(bytes \d+-\d+\): block 2 stream 0 csize 100000/,
    );
    // The whole chunk 1 (rows 0-31, columns 32-63) is checked as a whole.
    await rejectedBeforeWasm(
      () =>
        damaged.get([
          { start: 0, stop: 32, step: null },
          { start: 32, stop: 64, step: null },
        ]),
      /^bad\.b2nd: chunk 1 \(bytes \d+-\d+\): block 2 stream 0 csize 100000/,
    );
    // Other blocks of the same chunk still read (a partial chunk holds only those).
    const { data } = await damaged.get([{ start: 0, stop: 16, step: null }, null]);
    expect(data).toEqual(values.subarray(0, 16 * 64));
  });
});

describe("valid chunks are never rejected", () => {
  it("every codec, split mode, filter, block size and typesize; dictionaries; specials; Blosc1", async () => {
    const inputs: [ArrayBufferView, number][] = [
      [smooth, 8],
      [ramp, 4],
      [new Uint8Array(50_001).map((_, i) => (i * 31) & 0xff), 1],
      [new Uint8Array(30_003).map((_, i) => (i >> 6) & 0xff), 3],
      [new Uint16Array(20_000).map((_, i) => i & 0x3ff), 2],
    ];
    const chunks: Uint8Array[] = [];
    for (const [data, typesize] of inputs) {
      for (const codec of ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] as const) {
        for (const splitmode of ["always", "never", "forward_compat"] as const) {
          // Block sizes that are multiples of every typesize here: C-Blosc2 writes chunks it
          // cannot read back otherwise (checked against the code before this validation).
          for (const blocksize of [0, 4104, 6000]) {
            for (const filters of [["shuffle"], ["bitshuffle"], []] as const) {
              chunks.push(
                await compress(data, {
                  codec,
                  splitmode,
                  blocksize,
                  typesize,
                  filters: [...filters],
                }),
              );
            }
          }
        }
        if (codec === "zstd" || codec === "lz4") {
          chunks.push(await compress(data, { codec, typesize, useDict: true }));
        }
      }
      if (data.byteLength % typesize === 0) {
        chunks.push(await compress(data, { typesize, filters: ["delta"], blocksize: 4104 }));
        chunks.push(await compress(data, { typesize, filters: ["shuffle", "bytedelta"] }));
      }
      chunks.push(await compress(data, { typesize, clevel: 0 }));
    }
    chunks.push(await compress(smooth, { filters: ["trunc_prec"], filtersMeta: [20] }));
    chunks.push(await compress(new Uint8Array(0)));
    chunks.push(await compress(new Uint8Array(31)));
    chunks.push(specialChunk(1, 8000, 8), specialChunk(2, 8000, 4), specialChunk(4, 8000, 8));
    chunks.push(specialChunk(3, 8000, 8, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])));
    const plain = await compress(ramp, { codec: "lz4", filters: [], blocksize: 8192 });
    expect(chunkInfo(plain).flags.memcpyed).toBe(false);
    chunks.push(toBlosc1(plain));
    expect(chunks.some((c) => chunkInfo(c).flags.dictionary)).toBe(true);

    for (const chunk of chunks) {
      const info = chunkInfo(chunk);
      expect(() => validateChunk(chunk, info)).not.toThrow();
      const whole = await decompress(chunk);
      expect(whole.length).toBe(info.nbytes);
      if (info.nblocks === 0) continue;
      const blocks = [info.nblocks - 1, Math.floor(info.nblocks / 2)];
      const some = await decompressBlocks(chunk, blocks);
      for (const b of blocks) {
        const [lo, hi] = [b * info.blocksize, Math.min((b + 1) * info.blocksize, info.nbytes)];
        expect(same(some.subarray(lo, hi), whole.subarray(lo, hi))).toBe(true);
      }
      const nitems = Math.floor(info.nbytes / info.typesize);
      const start = Math.floor(nitems / 3);
      const count = Math.min(nitems - start, 777);
      const items = await decompressItems(chunk, start, count);
      const from = start * info.typesize;
      expect(same(items, whole.subarray(from, from + count * info.typesize))).toBe(true);
    }
  });

  it("getitem is not misled by state a previous decode left in C-Blosc2's context", async () => {
    // A dictionary chunk read item-wise after another chunk (C's getitem ignores dictionaries).
    const dict = await compress(smooth, { codec: "zstd", useDict: true, blocksize: 16_384 });
    expect(chunkInfo(dict).flags.dictionary).toBe(true);
    await decompress(lz4);
    const got = await decompressItems(dict, 5000, 100);
    expect(new Float64Array(got.buffer)).toEqual(smooth.subarray(5000, 5100));
    // A Blosc1 chunk read item-wise after a repeated-value chunk.
    const blosc1 = toBlosc1(await compress(ramp, { codec: "lz4", filters: [], blocksize: 8192 }));
    const value = specialChunk(3, 80, 8, new Uint8Array(8).fill(7));
    expect(await decompress(value)).toEqual(new Uint8Array(80).fill(7));
    const items = await decompressItems(blosc1, 100, 10);
    expect(new Int32Array(items.buffer)).toEqual(ramp.subarray(100, 110));
  });
});

describe("random mutations", () => {
  it("end as typed errors (most caught in TypeScript), never a trap", async () => {
    let seed = 0x2b1d_5eed;
    const rnd = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const bases = [
      await compress(smooth, { codec: "blosclz", blocksize: 8192 }),
      await compress(smooth, { codec: "lz4", blocksize: 8192, splitmode: "always" }),
      await compress(smooth, { codec: "lz4hc", blocksize: 8192, splitmode: "never" }),
      await compress(smooth, { codec: "zlib", blocksize: 16_384 }),
      await compress(smooth, { codec: "zstd", useDict: true, blocksize: 16_384 }),
      await compress(smooth, { codec: "zstd", clevel: 0, blocksize: 8192 }),
      await compress(ramp, { codec: "zstd", filters: ["delta"], blocksize: 16_000 }),
      await compress(ramp, { codec: "lz4", filters: ["bitshuffle"], blocksize: 8000 }),
      await compress(ramp, { codec: "blosclz", filters: ["shuffle", "bytedelta"] }),
      await compress(smooth.subarray(0, 2001), { codec: "lz4", blocksize: 4096, typesize: 8 }),
      toBlosc1(await compress(ramp, { codec: "lz4", filters: [], blocksize: 8192 })),
    ];
    const kinds = bases.map((c) => chunkInfo(c));
    expect(kinds.some((i) => i.flags.dictionary)).toBe(true);
    expect(kinds.some((i) => i.flags.memcpyed)).toBe(true);
    expect(kinds.some((i) => i.flags.dontSplit)).toBe(true);
    expect(kinds.some((i) => !i.flags.dontSplit && i.typesize > 1)).toBe(true);
    expect(kinds.some((i) => i.filters.includes("delta"))).toBe(true);
    expect(kinds.some((i) => i.headerLength === 16)).toBe(true);

    const counts = { formatError: 0, blosc2Error: 0, optionsError: 0, decoded: 0 };
    const instance = await blosc2Wasm();
    const N = 2000;
    for (let n = 0; n < N; n++) {
      const base = bases[n % bases.length]!;
      const info = chunkInfo(base);
      const chunk = base.slice();
      const table = info.headerLength + 4 * info.nblocks;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const r = rnd();
        if (r < 0.3) {
          const at = Math.floor(rnd() * info.headerLength);
          chunk[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : chunk[at]! ^ (1 << (rnd() * 8));
        } else if (r < 0.6) {
          // An int32 in the starts table, the dictionary size or a block's stream headers.
          const block = Math.floor(rnd() * Math.max(info.nblocks, 1));
          const spots = [
            info.headerLength + 4 * block,
            table,
            ...(info.flags.memcpyed ? [] : streamHeaders(base, block)),
          ];
          const at = pick(spots);
          const value = pick([
            0,
            -1,
            -255,
            -256,
            1,
            info.blocksize,
            info.blocksize / Math.max(info.typesize, 1) + 1,
            info.cbytes,
            2 ** 31 - 1,
            -(2 ** 31),
            Math.floor(rnd() * 2 ** 32) | 0,
            int32(chunk, Math.min(at, chunk.length - 4)) + Math.floor(rnd() * 64) - 32,
          ]);
          if (at + 4 <= chunk.length) setInt32(chunk, at, value);
        } else {
          const at = Math.floor(rnd() * chunk.length);
          chunk[at] = Math.floor(rnd() * 256);
        }
      }
      const op = n % 3;
      const calls = blosc2CallCount();
      try {
        if (op === 0) await decompress(chunk);
        else if (op === 1) await decompressItems(chunk, 10, 500);
        else await decompressBlocks(chunk, [1, 2]);
        counts.decoded++;
      } catch (err) {
        if (!(err instanceof ZarrBlosc2Error) || err instanceof WasmTrapError) {
          throw new Error(`mutation ${n} (op ${op}): ${String(err)}`, { cause: err });
        }
        if (err instanceof FormatError) {
          counts.formatError++;
          expect(blosc2CallCount(), `mutation ${n}: FormatError after a wasm call`).toBe(calls);
        } else if (err instanceof Blosc2Error) counts.blosc2Error++;
        else if (err instanceof OptionsError) counts.optionsError++;
        else throw err;
      }
    }
    console.log(
      `chunk-validate: ${N} mutations → ${counts.formatError} FormatError (caught in TypeScript), ` +
        `${counts.blosc2Error} Blosc2Error (caught by C-Blosc2), ${counts.optionsError} ` +
        `OptionsError (item/block range no longer in the chunk), ${counts.decoded} decoded`,
    );
    expect(await blosc2Wasm()).toBe(instance);
    expect(counts.formatError).toBeGreaterThan(counts.blosc2Error);
  });
});
