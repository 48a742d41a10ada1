// Truncated, corrupt and hostile frames: every failure is a typed error naming the source,
// never a wasm trap, a hang, a RangeError or an allocation of a size the file only claims.
import { describe, expect, it } from "vitest";
import { compress } from "../src/decode/blosc2.js";
import {
  buildFrame,
  chunkOffsets,
  encodeB2ndMeta,
  encodeOffsets,
} from "../src/format/frame-write.js";
import {
  FormatError,
  MemorySource,
  OptionsError,
  openB2nd,
  writeB2nd,
  ZarrBlosc2Error,
} from "../src/index.js";

const shape = [40, 30];
// Compressible data, so chunks are real compressed chunks (not memcpyed).
const values = new Float64Array(40 * 30).map((_, i) => Math.floor(i / 10));
const options = {
  chunkShape: [16, 16],
  blockShape: [8, 8],
  codec: "lz4" as const,
  attrs: { a: 1 },
};

async function validFrame(): Promise<Uint8Array> {
  return writeB2nd(values, shape, options);
}

/** Opens and reads everything; resolves to the error thrown, or undefined on success. */
async function attempt(bytes: Uint8Array, name = "bad.b2nd"): Promise<unknown> {
  try {
    const arr = await openB2nd(new MemorySource(bytes, name));
    await arr.get();
    await arr.get([3, null]);
    return undefined;
  } catch (err) {
    return err;
  }
}

function expectTyped(err: unknown, pattern?: RegExp): void {
  expect(err, String(err)).toBeInstanceOf(ZarrBlosc2Error);
  expect((err as Error).message).toContain("bad.b2nd");
  if (pattern) expect((err as Error).message).toMatch(pattern);
}

describe("bad b2nd input", () => {
  it("reads the valid frame (the control case)", async () => {
    const arr = await openB2nd(await validFrame());
    expect((await arr.get()).data).toEqual(values);
  });

  it("truncated frames", async () => {
    const good = await validFrame();
    for (const n of [
      0,
      10,
      23,
      60,
      120,
      Math.floor(good.length / 2),
      good.length - 30,
      good.length - 1,
    ]) {
      expectTyped(await attempt(good.subarray(0, n)));
    }
  });

  it("not a frame, and a frame length larger than the data", async () => {
    expectTyped(await attempt(new Uint8Array(4096).fill(0x41)), /not a Blosc2 frame/);
    const good = await validFrame();
    const bigger = good.slice();
    new DataView(bigger.buffer).setBigUint64(16, BigInt(good.length + 1000));
    expectTyped(await attempt(bigger), /frame length \d+ exceeds/);
  });

  async function frameWith(mutate: {
    offsets?: (o: number[]) => number[];
    meta?: object;
    chunks?: (c: Uint8Array[]) => void;
  }) {
    const arr = await openB2nd(await validFrame());
    const good = await validFrame();
    const chunks = arr.offsets.map((o, i) => {
      const start = arr.header.headerLength + (o as { offset: number }).offset;
      const next = arr.offsets[i + 1] as { offset: number } | undefined;
      const end = arr.header.headerLength + (next ? next.offset : arr.header.cbytes);
      return good.slice(start, end);
    });
    mutate.chunks?.(chunks);
    const offsets = (mutate.offsets ?? ((o) => o))(chunkOffsets(chunks));
    const index = await compress(encodeOffsets(offsets), { codec: "blosclz", typesize: 8 });
    return buildFrame({
      chunks,
      index,
      nbytes: arr.header.nbytes,
      typesize: 8,
      blocksize: arr.header.blocksize,
      chunksize: arr.header.chunksize,
      codec: "lz4",
      clevel: 5,
      filters: ["shuffle"],
      metalayers: {
        b2nd: encodeB2ndMeta({
          shape,
          chunkShape: [16, 16],
          blockShape: [8, 8],
          dtype: "<f8",
          ...mutate.meta,
        }),
      },
    });
  }

  it("chunk offsets past the end of the data", async () => {
    const frame = await frameWith({
      offsets: (o) => o.map((x, i) => (i === 2 ? x + 10_000_000 : x)),
    });
    expectTyped(await attempt(frame), /chunk 2 offset \d+ is past the chunk data/);
  });

  /** The valid frame with chunk `k`'s bytes edited in place. */
  async function editChunk(k: number, edit: (chunk: DataView) => void): Promise<Uint8Array> {
    const frame = await validFrame();
    const arr = await openB2nd(frame);
    const base = arr.header.headerLength + (arr.offsets[k] as { offset: number }).offset;
    edit(new DataView(frame.buffer, frame.byteOffset + base));
    return frame;
  }

  it("block starts out of range", async () => {
    // Chunk 0's block 3 claims to start far past the chunk's end.
    const frame = await editChunk(0, (c) => c.setInt32(32 + 4 * 3, 1 << 30, true));
    const arr = await openB2nd(new MemorySource(frame, "bad.b2nd"));
    const one = { start: 8, stop: 9, step: null };
    const err = await arr.get([one, one]).catch((e: unknown) => e);
    expectTyped(err, /block 3 starts at 1073741824/);
  });

  it("a shape that disagrees with the number of chunks, or with the chunk sizes", async () => {
    expectTyped(
      await attempt(await frameWith({ meta: { shape: [80, 30] } })),
      /chunk index has 6 chunks, the b2nd shape implies 10/,
    );
    expectTyped(await attempt(await frameWith({ meta: { blockShape: [4, 8] } })), /blocksize/);
  });

  it("a chunk header claiming a huge cbytes is refused before allocating", async () => {
    const frame = await editChunk(1, (c) => c.setInt32(12, 0x7fff0000, true));
    expectTyped(await attempt(frame), /cbytes 2147418112/);
  });

  it("sizes above maxDecodedBytes", async () => {
    const frame = await validFrame();
    await expect(openB2nd(frame, { maxDecodedBytes: 1000 })).rejects.toThrow(
      /above maxDecodedBytes/,
    );
    const arr = await openB2nd(frame, { maxDecodedBytes: 4096 });
    await expect(arr.get()).rejects.toThrow(OptionsError);
    await expect(arr.get([1, null])).resolves.toBeDefined();
  });

  it("random corruption yields typed errors or correct-sized results, never anything else", async () => {
    const good = await validFrame();
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let typed = 0;
    for (let i = 0; i < 400; i++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rand() * bad.length);
        bad[at] = bad[at]! ^ (1 << Math.floor(rand() * 8));
      }
      const err = await attempt(bad);
      if (err === undefined) continue; // a flip in compressed data may still decode
      expect(err instanceof ZarrBlosc2Error, `case ${i}: ${String(err)}`).toBe(true);
      typed++;
    }
    expect(typed).toBeGreaterThan(20);
  });
});

it("FormatError names the source and the problem", () => {
  const e = new FormatError("x.b2nd", "bad thing");
  expect(e.message).toBe("x.b2nd: bad thing");
});
