// Every chunk python-blosc2 made (fixtures/generate.py) decodes byte-identical here, and the
// header parser reports what the generator asked for.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chunkInfo, decompress, decompressBlocks, decompressItems } from "../src/index.js";
import { equalBytes, FIXTURES, readBytes, readManifest } from "./helpers.js";

const manifest = readManifest();
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const expectedOf = (input: string | null) =>
  input === null ? undefined : readBytes(`${FIXTURES}/${manifest.inputs[input]!.file}`);

describe("python-blosc2 fixtures", () => {
  it("cover every codec, filter, typesize and special kind", () => {
    const chunks = manifest.chunks;
    expect(new Set(chunks.map((c) => c.codec))).toEqual(
      new Set(["blosclz", "lz4", "lz4hc", "zlib", "zstd"]),
    );
    expect(new Set(chunks.flatMap((c) => c.filters))).toEqual(
      new Set(["shuffle", "bitshuffle", "delta", "trunc_prec", "bytedelta"]),
    );
    expect(new Set(chunks.map((c) => c.typesize))).toEqual(new Set([1, 2, 4, 8, 16]));
    expect(new Set(chunks.map((c) => c.special))).toEqual(
      new Set(["none", "zeros", "nan", "value", "uninit"]),
    );
    expect(chunks.some((c) => c.memcpyed)).toBe(true);
    expect(chunks.some((c) => c.useDict)).toBe(true);
  });

  for (const c of manifest.chunks) {
    it(`${c.name}`, async () => {
      const chunk = readBytes(`${FIXTURES}/${c.file}`);
      const info = chunkInfo(chunk);
      expect(info.nbytes).toBe(c.nbytes);
      expect(info.cbytes).toBe(chunk.length);
      expect(info.special).toBe(c.special);
      expect(info.flags.memcpyed).toBe(c.memcpyed);
      if (c.special === "none") {
        expect(info.typesize).toBe(c.typesize);
        if (!c.memcpyed) expect(info.codec).toBe(c.codec === "lz4hc" ? "lz4" : c.codec);
        expect(info.filters).toEqual(c.filters);
        expect(info.flags.dictionary).toBe(c.useDict);
      }

      const decoded = await decompress(chunk);
      expect(decoded.length).toBe(c.nbytes);
      if (c.sha256 === null) return; // uninitialized content is undefined
      expect(sha256(decoded)).toBe(c.sha256);
      const expected = expectedOf(c.input)!;
      expect(equalBytes(decoded, expected)).toBe(true);

      // Partial paths agree with the whole-chunk decode.
      const items = Math.floor(c.nbytes / info.typesize);
      if (items > 0) {
        const start = Math.floor(items / 3);
        const n = Math.max(1, Math.min(items - start, Math.ceil(items / 4)));
        const part = await decompressItems(chunk, start, n);
        expect(
          equalBytes(part, expected.subarray(start * info.typesize, (start + n) * info.typesize)),
        ).toBe(true);
      }
      if (info.nblocks > 1 && c.special === "none") {
        const picked = [info.nblocks - 1, Math.floor(info.nblocks / 2)];
        const some = await decompressBlocks(chunk, picked);
        for (const b of picked) {
          const lo = b * info.blocksize;
          const hi = Math.min(lo + info.blocksize, info.nbytes);
          expect(equalBytes(some.subarray(lo, hi), expected.subarray(lo, hi))).toBe(true);
        }
      }
    });
  }
});
