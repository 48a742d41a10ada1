import { describe, expect, it } from "vitest";
import { blosc2Wasm, withBlosc2 } from "../src/decode/wasm.js";
import {
  Blosc2Error,
  chunkInfo,
  compress,
  decompress,
  decompressBlocks,
  decompressItems,
  FormatError,
  OptionsError,
  WasmTrapError,
} from "../src/index.js";

const data = new Float64Array(10_000).map((_, i) => Math.cos(i / 50));

describe("dictionaries", () => {
  it("are kept when C-Blosc2 can read them back, dropped when it cannot", async () => {
    const smooth = new Float64Array(40_000).map((_, i) => Math.sin(i / 40) * 100);
    const good = await compress(smooth, { codec: "zstd", useDict: true });
    expect(chunkInfo(good).flags.dictionary).toBe(true);
    expect(new Float64Array((await decompress(good)).buffer)).toEqual(smooth);
    // LZ4 with typesize 1: C-Blosc2 writes a dictionary chunk it cannot decompress.
    const bytes = new Uint8Array(smooth.buffer);
    const fallback = await compress(bytes, { codec: "lz4", useDict: true, typesize: 1 });
    expect(chunkInfo(fallback).flags.dictionary).toBe(false);
    expect(await decompress(fallback)).toEqual(bytes);
  });
});

describe("typed errors", () => {
  it("rejects bad compress options with OptionsError naming the option", async () => {
    const cases: [object, RegExp][] = [
      [{ codec: "snappy" }, /unknown codec "snappy"/],
      [{ clevel: 10 }, /clevel/],
      [{ clevel: 1.5 }, /clevel/],
      [{ typesize: 0 }, /typesize/],
      [{ filters: ["shuffle", "nope"] }, /unknown filter "nope"/],
      [{ filters: Array(7).fill("shuffle") }, /at most 6/],
      [{ filters: ["trunc_prec"], typesize: 8 }, /precision/],
      [{ filters: ["trunc_prec"], filtersMeta: [10], typesize: 2 }, /typesize 4 or 8/],
      [{ splitmode: "sometimes" }, /splitmode/],
      [{ codec: "zlib", useDict: true }, /useDict/],
      [{ blocksize: -1 }, /blocksize/],
    ];
    const ragged = new Uint8Array(8 * 1000 + 3);
    for (const filters of [["delta"], ["shuffle", "bytedelta"]] as const) {
      await expect(compress(ragged, { typesize: 8, filters: [...filters] })).rejects.toThrow(
        /filter needs a size that is a multiple of typesize \(8003 bytes, typesize 8\)/,
      );
    }
    for (const [options, message] of cases) {
      await expect(compress(data, options as never)).rejects.toThrow(OptionsError);
      await expect(compress(data, options as never)).rejects.toThrow(message);
    }
  });

  it("rejects headers that lie about their sizes before calling wasm", async () => {
    const chunk = await compress(data, { codec: "lz4" });
    await expect(decompress(chunk.subarray(0, 10))).rejects.toThrow(/shorter than a chunk header/);
    await expect(decompress(chunk.subarray(0, chunk.length - 1))).rejects.toThrow(FormatError);
    await expect(decompress(chunk.subarray(0, chunk.length - 1))).rejects.toThrow(
      /cbytes \d+ exceeds/,
    );
    const zeroBlock = chunk.slice();
    new DataView(zeroBlock.buffer).setInt32(8, 0, true);
    await expect(decompress(zeroBlock)).rejects.toThrow(/blocksize 0 out of range/);
    expect(() => chunkInfo(new Uint8Array(32))).toThrow(/unknown chunk version 0/);
  });

  it("turns C-Blosc2 error codes into Blosc2Error with the operation and meaning", async () => {
    const chunk = await compress(data, { codec: "zstd" });
    const corrupt = chunk.slice();
    // Damage the first compressed stream's payload, leaving the header, the block starts and
    // the stream sizes intact (those are checked in TypeScript: see chunk-validate.test.ts).
    const view = new DataView(corrupt.buffer);
    const { blocksize, typesize } = chunkInfo(chunk);
    let at = view.getInt32(32, true); // block 0's first stream
    let csize = view.getInt32(at, true);
    // Skip streams stored raw (csize == stream size) or as runs: find a compressed one.
    while (csize <= 16 || csize >= blocksize / typesize) {
      at += 4 + Math.max(csize, 0) + (csize < 0 ? 1 : 0);
      csize = view.getInt32(at, true);
    }
    for (let i = at + 8; i < at + 4 + csize; i += 7) corrupt[i] = (corrupt[i]! ^ 0x5a) & 0xff;
    const err = await decompress(corrupt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Blosc2Error);
    const b = err as Blosc2Error;
    expect(b.operation).toBe("decompress");
    expect(b.code).toBeLessThan(0);
    expect(b.message).toContain(b.meaning);
    expect(b.meaning).not.toBe("unknown error");
  });

  it("checks item and block ranges", async () => {
    const chunk = await compress(data, { blocksize: 8192 });
    await expect(decompressItems(chunk, 9_995, 10)).rejects.toThrow(
      /outside the chunk's 10000 items/,
    );
    await expect(decompressItems(chunk, -1, 1)).rejects.toThrow(OptionsError);
    await expect(decompressBlocks(chunk, [10])).rejects.toThrow(
      /block 10 outside the chunk's 10 blocks/,
    );
  });

  it("replaces the instance after a trap, and later calls work", async () => {
    const before = await blosc2Wasm();
    const err = await withBlosc2("poke", (w) =>
      w.exports.zb_decompress(0x7ffffff0, 1 << 30, 0x7ffffff0, 1 << 30),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasmTrapError);
    expect((err as Error).message).toMatch(/^poke: the WebAssembly module trapped/);
    const after = await blosc2Wasm();
    expect(after).not.toBe(before);
    const chunk = await compress(data);
    expect(new Float64Array((await decompress(chunk)).buffer)).toEqual(data);
  });
});
