// The Blosc2 Zarr codecs through zarrita's own create / set / get / open (whole-chunk decode).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  chunkInfo,
  compress,
  decompress,
  FormatError,
  OptionsError,
  openB2nd,
  writeB2nd,
} from "../src/index.js";
import { B2ndCodec, parseB2ndConfig } from "../src/zarr/codecs/b2nd.js";
import { Blosc2Codec } from "../src/zarr/codecs/blosc2.js";
import { ImagecodecsBlosc2Codec } from "../src/zarr/codecs/imagecodecs-blosc2.js";
import { NumcodecsBlosc2Codec } from "../src/zarr/codecs/numcodecs-blosc2.js";
import { bytesOfChunkData, numpyDtypeOf, toZarritaData } from "../src/zarr/dtype.js";
import { registerBlosc2Codecs } from "../src/zarr/register.js";

registerBlosc2Codecs(zarr.registry);

type Numeric = "float64" | "int16" | "uint8" | "bool" | "int64";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const cStrides = (shape: readonly number[]) => {
  const out = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = acc;
    acc *= shape[d]!;
  }
  return out;
};

/** Deterministic values of `dataType`, as the array zarrita holds them. */
function values(dataType: Numeric, n: number, seed = 1) {
  const at = (i: number) => Math.sin(i * 0.37 + seed) * 1000;
  switch (dataType) {
    case "float64":
      return Float64Array.from({ length: n }, (_, i) => at(i) / 7);
    case "int16":
      return Int16Array.from({ length: n }, (_, i) => Math.round(at(i) * 30));
    case "uint8":
      return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
    case "bool":
      return new zarr.BoolArray(Array.from({ length: n }, (_, i) => (i * seed) % 3 === 0));
    case "int64":
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.round(at(i))) * 2n ** 40n);
  }
}

/** Plain JS values of chunk data (BoolArray and BigInt64Array included) for toEqual. */
function plain(data: unknown): unknown[] {
  return Array.from(data as Iterable<unknown>);
}

async function roundtrip(
  dataType: Numeric,
  codecs: zarr.CodecMetadata[],
  shape = [13, 10],
  chunkShape = [5, 4],
) {
  const store = new Map<string, Uint8Array>();
  const arr = await zarr.create(zarr.root(store), {
    shape,
    chunkShape,
    dtype: dataType,
    codecs,
    // (0 for int64 too: zarrita cannot JSON-encode a bigint fill value; it reads 0 as 0n.)
    fillValue: (dataType === "bool" ? false : 0) as never,
  });
  const data = values(dataType, prod(shape));
  await zarr.set(arr, null, { data, shape, stride: cStrides(shape) } as never);
  const reopened = await zarr.open(zarr.root(store), { kind: "array" });
  const got = await zarr.get(reopened, null);
  expect(got.shape).toEqual(shape);
  // zarrita returns the array's native order (F after a transpose codec): go by the strides.
  const flat = plain(got.data);
  const inC = Array.from({ length: prod(shape) }, (_, k) => {
    const i = Math.floor(k / shape[1]!);
    const j = k % shape[1]!;
    return flat[i * got.stride[0]! + j * got.stride[1]!];
  });
  expect(inC).toEqual(plain(data));
  // A selection that crosses chunk boundaries and drops a dimension.
  const part = await zarr.get(reopened, [zarr.slice(2, 12, 3), 7]);
  const expected = [2, 5, 8, 11].map((i) => plain(data)[i * shape[1]! + 7]);
  expect(plain(part.data)).toEqual(expected);
  return { store, arr, data };
}

const DTYPES: Numeric[] = ["float64", "int16", "uint8", "bool", "int64"];
const NUMPY: Record<Numeric, string> = {
  float64: "<f8",
  int16: "<i2",
  uint8: "|u1",
  bool: "|b1",
  int64: "<i8",
};

describe("registry", () => {
  it("registers lazy factories under the five names", async () => {
    const registry = new Map<string, () => unknown>();
    expect(registerBlosc2Codecs(registry)).toBe(registry);
    expect([...registry.keys()].sort()).toEqual([
      "b2nd",
      "blosc2",
      "imagecodecs_blosc2",
      "numcodecs.blosc2",
      "numcodecs.imagecodecs_blosc2",
    ]);
    expect(await registry.get("b2nd")!()).toBe(B2ndCodec);
    expect(await registry.get("blosc2")!()).toBe(Blosc2Codec);
    expect(await registry.get("numcodecs.blosc2")!()).toBe(NumcodecsBlosc2Codec);
    expect(await registry.get("imagecodecs_blosc2")!()).toBe(ImagecodecsBlosc2Codec);
    expect(await registry.get("numcodecs.imagecodecs_blosc2")!()).toBe(ImagecodecsBlosc2Codec);
  });
});

describe("zarr dtype mapping", () => {
  it("maps Zarr data types to little-endian NumPy dtypes", () => {
    expect(numpyDtypeOf("bool")).toBe("|b1");
    expect(numpyDtypeOf("int8")).toBe("|i1");
    expect(numpyDtypeOf("uint64")).toBe("<u8");
    expect(numpyDtypeOf("float16")).toBe("<f2");
    expect(numpyDtypeOf("float32")).toBe("<f4");
    for (const t of ["string", "v2:U4", "v2:object", "complex64"]) {
      expect(() => numpyDtypeOf(t)).toThrow(OptionsError);
      expect(() => numpyDtypeOf(t)).toThrow(t);
    }
  });

  it("views bytes as zarrita's arrays and back", () => {
    const bytes = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    const b = toZarritaData("bool", bytes);
    expect(b).toBeInstanceOf(zarr.BoolArray);
    expect(plain(b)).toEqual([true, false, false, false, true, false, false, false]);
    expect(toZarritaData("int64", bytes)).toEqual(new BigInt64Array([8589934593n]));
    const f16 = toZarritaData("float16", new Uint8Array([0, 0x3c]));
    const F16 = (globalThis as { Float16Array?: unknown }).Float16Array;
    if (F16) expect(plain(f16)).toEqual([1]);
    else expect(f16).toEqual(new Uint16Array([0x3c00]));
    // Unaligned input is copied into an aligned buffer.
    const unaligned = new Uint8Array(9).subarray(1);
    unaligned.set(new Uint8Array(new Float64Array([2.5]).buffer));
    expect(toZarritaData("float64", unaligned)).toEqual(new Float64Array([2.5]));
    expect(bytesOfChunkData(new Int16Array([1, 256]))).toEqual(new Uint8Array([1, 0, 0, 1]));
    expect(bytesOfChunkData(new zarr.BoolArray([true, false]))).toEqual(new Uint8Array([1, 0]));
    expect(() => bytesOfChunkData(["a"])).toThrow(OptionsError);
  });
});

describe("b2nd codec through zarrita", () => {
  for (const dataType of DTYPES) {
    it(`round-trips ${dataType} with edge chunks`, async () => {
      const { store } = await roundtrip(dataType, [
        {
          name: "b2nd",
          configuration: { chunks: [3, 4], blocks: [2, 2], cname: "lz4", clevel: 7 },
        },
      ]);
      // Edge chunk (2, 2) covers rows 10..14 and columns 8..11 of a 13 x 10 array: the frame
      // still has the full chunk shape.
      const frame = await openB2nd(store.get("/c/2/2")!);
      expect(frame.shape).toEqual([5, 4]);
      expect(frame.chunkShape).toEqual([3, 4]);
      expect(frame.blockShape).toEqual([2, 2]);
      expect(frame.dtype).toBe(NUMPY[dataType]);
      expect(frame.header.codecId).toBe(1); // lz4
    });
  }

  it("uses the chunk shape and default blocks when configuration is empty or absent", async () => {
    for (const codecs of [[{ name: "b2nd", configuration: {} }], [{ name: "b2nd" }]]) {
      const { store } = await roundtrip("float64", codecs as unknown as zarr.CodecMetadata[]);
      const frame = await openB2nd(store.get("/c/0/0")!);
      expect(frame.chunkShape).toEqual([5, 4]);
      expect(frame.blockShape).toEqual([5, 4]);
    }
  });

  it("round-trips int8, uint16, int32, uint32, uint64 and float32", async () => {
    const cases: [string, ArrayLike<number | bigint>][] = [
      ["int8", Int8Array.from([-128, 127, 0, 5, -7, 9])],
      ["uint16", Uint16Array.from([0, 65535, 3, 4, 5, 6])],
      ["int32", Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, 1, 2, 3])],
      ["uint32", Uint32Array.from([2 ** 32 - 1, 0, 1, 2, 3, 4])],
      ["uint64", BigUint64Array.from([2n ** 64n - 1n, 0n, 1n, 2n, 3n, 4n])],
      ["float32", Float32Array.from([1.5, -2.25, 0, 3, 4, 5])],
    ];
    for (const [dtype, data] of cases) {
      const store = new Map<string, Uint8Array>();
      const arr = await zarr.create(zarr.root(store), {
        shape: [6],
        chunkShape: [4],
        dtype: dtype as zarr.DataType,
        fillValue: 0 as never,
        codecs: [{ name: "b2nd", configuration: { filters: ["bitshuffle"] } }],
      });
      await zarr.set(arr, null, { data, shape: [6], stride: [1] } as never);
      const got = await zarr.get(arr, null);
      expect(plain(got.data)).toEqual(plain(data));
    }
  });

  it("keeps existing values on partial writes (decode, modify, encode)", async () => {
    const { arr, data } = await roundtrip("int16", [{ name: "b2nd", configuration: {} }]);
    await zarr.set(arr, [zarr.slice(4, 6), zarr.slice(3, 9)], 42);
    const got = await zarr.get(arr, null);
    const expected = plain(data);
    for (let i = 4; i < 6; i++) for (let j = 3; j < 9; j++) expected[i * 10 + j] = 42;
    expect(plain(got.data)).toEqual(expected);
  });

  it("fills missing chunks with the fill value", async () => {
    const store = new Map<string, Uint8Array>();
    const arr = await zarr.create(zarr.root(store), {
      shape: [6, 6],
      chunkShape: [3, 3],
      dtype: "float64",
      fillValue: -1,
      codecs: [{ name: "b2nd", configuration: {} }],
    });
    await zarr.set(arr, [zarr.slice(0, 3), zarr.slice(0, 3)], 2);
    expect([...store.keys()].filter((k) => k.startsWith("/c/"))).toEqual(["/c/0/0"]);
    const got = await zarr.get(arr, [1, null]);
    expect(plain(got.data)).toEqual([2, 2, 2, -1, -1, -1]);
  });

  it("round-trips a 0-d array", async () => {
    const store = new Map<string, Uint8Array>();
    const arr = await zarr.create(zarr.root(store), {
      shape: [],
      chunkShape: [],
      dtype: "float32",
      codecs: [{ name: "b2nd", configuration: {} }],
    });
    await zarr.set(arr, null, 3.5);
    expect(await zarr.get(arr, null)).toBe(3.5);
    expect((await openB2nd(store.get("/c")!)).shape).toEqual([]);
  });

  it("stores the transposed chunk after a transpose codec (frame shape permuted)", async () => {
    const { store, data } = await roundtrip("float64", [
      { name: "transpose", configuration: { order: "F" } },
      { name: "b2nd", configuration: { chunks: [2, 5] } },
    ]);
    const frame = await openB2nd(store.get("/c/0/0")!);
    expect(frame.shape).toEqual([4, 5]);
    const { data: stored } = await frame.get(null);
    // frame[j][i] = chunk[i][j] = array[i][j] for chunk (0, 0).
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 4; j++)
        expect(stored[j * 5 + i]).toBe((data as Float64Array)[i * 10 + j]);
    }
  });

  it("encodes and decodes float16 directly (raw bits without Float16Array)", async () => {
    const codec = B2ndCodec.fromConfig({}, { dataType: "float16", shape: [2, 2] });
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]);
    const F16 = (globalThis as { Float16Array?: new (b: ArrayBuffer) => unknown }).Float16Array;
    const input = F16 ? new F16(bits.buffer) : bits;
    const frame = await codec.encode({ data: input, shape: [2, 2], stride: [2, 1] } as never);
    expect((await openB2nd(frame)).dtype).toBe("<f2");
    const chunk = await codec.decode(frame);
    expect(chunk.shape).toEqual([2, 2]);
    expect(chunk.stride).toEqual([2, 1]);
    expect(bytesOfChunkData(chunk.data)).toEqual(new Uint8Array(bits.buffer));
  });

  it("reads b2nd as the inner codec of sharding_indexed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-zarr-shard-"));
    try {
      const store = new FileSystemStore(dir);
      const inner = [4, 4];
      const innerCodecs = [{ name: "b2nd", configuration: { chunks: [2, 4], blocks: [1, 2] } }];
      await store.set(
        "/zarr.json",
        enc({
          zarr_format: 3,
          node_type: "array",
          shape: [8, 6],
          data_type: "int16",
          chunk_grid: { name: "regular", configuration: { chunk_shape: [8, 8] } },
          chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
          codecs: [
            {
              name: "sharding_indexed",
              configuration: {
                chunk_shape: inner,
                codecs: innerCodecs,
                index_codecs: [{ name: "bytes", configuration: { endian: "little" } }],
                index_location: "end",
              },
            },
          ],
          fill_value: -1,
          attributes: {},
        }),
      );
      const codec = B2ndCodec.fromConfig(innerCodecs[0]!.configuration, {
        dataType: "int16",
        shape: inner,
        codecs: innerCodecs,
      });
      // Inner chunk (i, j) holds 100 * i + 10 * j + k; inner chunk (1, 1) is left out.
      const frames: Uint8Array[] = [];
      const index = new BigUint64Array(2 * 2 * 2).fill(2n ** 64n - 1n);
      let offset = 0;
      for (const [i, j] of [
        [0, 0],
        [0, 1],
        [1, 0],
      ] as const) {
        const data = Int16Array.from({ length: 16 }, (_, k) => 100 * i + 10 * j + k);
        const frame = await codec.encode({ data, shape: inner, stride: [4, 1] } as never);
        index[(i * 2 + j) * 2] = BigInt(offset);
        index[(i * 2 + j) * 2 + 1] = BigInt(frame.length);
        frames.push(frame);
        offset += frame.length;
      }
      const shard = new Uint8Array(offset + index.byteLength);
      let at = 0;
      for (const f of frames) {
        shard.set(f, at);
        at += f.length;
      }
      shard.set(new Uint8Array(index.buffer), at);
      await store.set("/c/0/0", shard);

      const arr = await zarr.open(zarr.root(store), { kind: "array" });
      const got = await zarr.get(arr, null);
      expect(got.shape).toEqual([8, 6]);
      const v = (r: number, c: number) => {
        const i = Math.floor(r / 4);
        const j = Math.floor(c / 4);
        if (i === 1 && j === 1) return -1;
        return 100 * i + 10 * j + (r % 4) * 4 + (c % 4);
      };
      const expected = Array.from({ length: 48 }, (_, k) => v(Math.floor(k / 6), k % 6));
      expect(plain(got.data)).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("blosc2 codec (v3) through zarrita", () => {
  for (const dataType of DTYPES) {
    it(`round-trips ${dataType} with edge chunks`, async () => {
      const { store } = await roundtrip(dataType, [
        { name: "bytes", configuration: { endian: "little" } },
        { name: "blosc2", configuration: { cname: "zstd", clevel: 3, shuffle: "bitshuffle" } },
      ]);
      const info = chunkInfo(store.get("/c/2/2")!);
      expect(info.nbytes).toBe(5 * 4 * Number(NUMPY[dataType].slice(2)));
      expect(info.typesize).toBe(Number(NUMPY[dataType].slice(2)));
      expect(info.filters).toContain("bitshuffle");
      if (dataType === "float64") expect(info.codec).toBe("zstd");
    });
  }

  it("applies the defaults and numcodecs' shuffle ints (-1 = AUTOSHUFFLE)", async () => {
    const meta = { dataType: "float64", shape: [4] };
    expect(Blosc2Codec.fromConfig({}, meta).config).toEqual({
      cname: "zstd",
      clevel: 5,
      shuffle: "shuffle",
      typesize: 8,
      blocksize: 0,
    });
    expect(Blosc2Codec.fromConfig({ shuffle: -1 }, meta).config.shuffle).toBe("shuffle");
    expect(Blosc2Codec.fromConfig({ shuffle: -1 }, { ...meta, dataType: "uint8" }).config).toEqual({
      cname: "zstd",
      clevel: 5,
      shuffle: "bitshuffle",
      typesize: 1,
      blocksize: 0,
    });
    expect(Blosc2Codec.fromConfig({ shuffle: 0 }, meta).config.shuffle).toBe("noshuffle");
    expect(Blosc2Codec.fromConfig({}, { dataType: "string", shape: [] }).config.typesize).toBe(1);
  });

  it("decodes any Blosc2 chunk whatever the configuration says", async () => {
    const bytes = new Uint8Array(new Float64Array([1, 2, 3, 4]).buffer);
    const chunk = await compress(bytes, { codec: "lz4", filters: ["delta"], typesize: 8 });
    const codec = Blosc2Codec.fromConfig({ cname: "zlib", shuffle: "noshuffle" });
    expect(await codec.decode(chunk)).toEqual(bytes);
    expect(await decompress(await codec.encode(bytes))).toEqual(bytes);
  });
});

describe("imagecodecs_blosc2 as a Zarr v3 codec", () => {
  it("round-trips with imagecodecs-style enum names and nulls", async () => {
    const { store } = await roundtrip("int16", [
      { name: "bytes", configuration: { endian: "little" } },
      {
        name: "imagecodecs_blosc2",
        configuration: {
          level: 12,
          compressor: "LZ4HC",
          shuffle: "bitshuffle",
          splitmode: null,
          typesize: null,
          blocksize: null,
          numthreads: 4,
        },
      },
    ]);
    const info = chunkInfo(store.get("/c/0/0")!);
    expect(info.typesize).toBe(2);
    expect(info.filters).toContain("bitshuffle");
    expect(info.codec).toBe("lz4"); // LZ4HC writes the LZ4 format
  });

  it("resolves imagecodecs' defaults", () => {
    const codec = ImagecodecsBlosc2Codec.fromConfig({}, { dataType: "float32", shape: [3] });
    expect(codec.configuration).toEqual({
      level: 1,
      compressor: "ZSTD",
      shuffle: "SHUFFLE",
      splitmode: "ALWAYS",
      typesize: 4,
      blocksize: 0,
    });
    const ints = ImagecodecsBlosc2Codec.fromConfig(
      { compressor: 4, shuffle: 0, splitmode: false, level: -3 },
      { dataType: "uint8", shape: [3] },
    );
    expect(ints.configuration).toMatchObject({
      level: 0,
      compressor: "ZLIB",
      shuffle: "NOSHUFFLE",
      splitmode: "NEVER",
      typesize: 1,
    });
  });
});

/** Writes a Zarr v2 array by hand: .zarray, and chunks compressed with our compress. */
async function v2Array(
  compressor: Record<string, unknown>,
  options: { codec?: "lz4" | "zstd" | "blosclz"; filters?: ("shuffle" | "bitshuffle")[] } = {},
) {
  const store = new Map<string, Uint8Array>();
  const shape = [10, 7];
  const chunks = [4, 4];
  store.set(
    "/.zarray",
    enc({
      zarr_format: 2,
      shape,
      chunks,
      dtype: "<i4",
      compressor,
      fill_value: -5,
      order: "C",
      filters: null,
      dimension_separator: ".",
    }),
  );
  const value = (r: number, c: number) => r * 1000 - c * 7;
  for (let ci = 0; ci < 3; ci++) {
    for (let cj = 0; cj < 2; cj++) {
      if (ci === 1 && cj === 1) continue; // missing: fill value
      // v2 chunks are always full size; values outside the array are don't-care.
      const data = Int32Array.from({ length: 16 }, (_, k) =>
        value(ci * 4 + Math.floor(k / 4), cj * 4 + (k % 4)),
      );
      store.set(
        `/${ci}.${cj}`,
        await compress(data, { codec: options.codec ?? "zstd", filters: options.filters }),
      );
    }
  }
  const expected = Array.from({ length: 70 }, (_, k) => {
    const r = Math.floor(k / 7);
    const c = k % 7;
    return Math.floor(r / 4) === 1 && Math.floor(c / 4) === 1 ? -5 : value(r, c);
  });
  return { store, expected };
}

describe("Zarr v2 compressors", () => {
  it('reads {"id": "blosc2"} and ignores keys it does not know', async () => {
    const { store, expected } = await v2Array(
      { id: "blosc2", cname: "lz4", clevel: 3, shuffle: 2, blocksize: 0, typesize: 4, extra: [1] },
      { codec: "lz4", filters: ["bitshuffle"] },
    );
    const arr = await zarr.open.v2(zarr.root(store), { kind: "array" });
    expect(plain((await zarr.get(arr, null)).data)).toEqual(expected);
  });

  it('reads {"id": "blosc2", "cname": "blosc2"} (an ad-hoc producer), but will not write it', async () => {
    const { store, expected } = await v2Array(
      { id: "blosc2", cname: "blosc2", clevel: 5 },
      { codec: "blosclz" },
    );
    const arr = await zarr.open(zarr.root(store), { kind: "array" });
    expect(plain((await zarr.get(arr, null)).data)).toEqual(expected);
    const err = await zarr.set(arr, [0, 0], 1).catch((e: unknown) => e);
    expect(zarr.isZarritaError(err, "CodecPipelineError")).toBe(true);
    const cause = (err as Error).cause;
    expect(cause).toBeInstanceOf(OptionsError);
    expect(String((cause as Error).message)).toMatch(/"cname"/);
  });

  it("writes v2 blosc2 chunks with the configured settings", async () => {
    const { store } = await v2Array({
      id: "blosc2",
      cname: "zlib",
      clevel: 1,
      shuffle: 0,
      blocksize: 0,
    });
    const arr = await zarr.open.v2(zarr.root(store), { kind: "array" });
    await zarr.set(arr, [zarr.slice(0, 4), zarr.slice(0, 4)], 9);
    const info = chunkInfo(store.get("/0.0")!);
    expect(info.codec).toBe("zlib");
    expect(info.typesize).toBe(4);
    expect(info.filters).toEqual([]);
    expect(plain((await zarr.get(arr, [0, zarr.slice(0, 5)])).data)).toEqual([9, 9, 9, 9, -28]);
  });

  it('reads {"id": "imagecodecs_blosc2"} as imagecodecs writes it', async () => {
    const { store, expected } = await v2Array(
      {
        id: "imagecodecs_blosc2",
        level: null,
        compressor: "ZSTD",
        splitmode: null,
        typesize: null,
        blocksize: null,
        shuffle: "SHUFFLE",
        numthreads: null,
      },
      { codec: "zstd", filters: ["shuffle"] },
    );
    const arr = await zarr.open.v2(zarr.root(store), { kind: "array" });
    expect(plain((await zarr.get(arr, null)).data)).toEqual(expected);
    await zarr.set(arr, [9, zarr.slice(null)], 3);
    expect(plain((await zarr.get(arr, [9, null])).data)).toEqual([3, 3, 3, 3, 3, 3, 3]);
    expect(chunkInfo(store.get("/2.1")!).typesize).toBe(4);
  });
});

describe("bad configuration", () => {
  async function createAndWrite(codecs: zarr.CodecMetadata[], dtype: zarr.DataType = "float64") {
    const arr = await zarr.create(zarr.root(new Map()), {
      shape: [6, 6],
      chunkShape: [3, 3],
      dtype,
      codecs,
    });
    return zarr.set(arr, null, 1 as never);
  }

  const b2ndCases: [Record<string, unknown>, RegExp][] = [
    [{ clevel: 12 }, /"clevel"/],
    [{ foo: 1 }, /"foo"/],
    [{ chunks: [3] }, /"chunks".*1 dimensions/],
    [{ chunks: [3, 0] }, /"chunks"/],
    [{ blocks: [2, 4] }, /"blocks".*exceeds chunks/],
    [{ cname: "snappy" }, /"cname"/],
    [{ filters: ["shuffle", "nope"] }, /"filters".*nope/],
    [{ filters: "shuffle" }, /"filters"/],
    [{ filters: ["shuffle"], filters_meta: [0, 0] }, /"filters_meta"/],
    [{ filters: ["trunc_prec"] }, /"filters_meta"/],
  ];
  for (const [configuration, message] of b2ndCases) {
    it(`b2nd ${JSON.stringify(configuration)} names the key`, async () => {
      const write = createAndWrite([{ name: "b2nd", configuration }]);
      // Thrown while zarrita builds the pipeline: not wrapped in a CodecPipelineError.
      await expect(write).rejects.toBeInstanceOf(OptionsError);
      await expect(write).rejects.toThrow(message);
      expect(() => parseB2ndConfig(configuration, [3, 3], "float64")).toThrow(OptionsError);
    });
  }

  it("b2nd refuses data types it cannot store, naming the type", async () => {
    expect(() => B2ndCodec.fromConfig({}, { dataType: "v2:U3", shape: [2] })).toThrow(/v2:U3/);
    expect(() => parseB2ndConfig({ filters: ["trunc_prec"] }, [3], "int16")).toThrow(
      /trunc_prec needs float32 or float64/,
    );
  });

  it("parseB2ndConfig resolves defaults and nulls", () => {
    expect(parseB2ndConfig(undefined, [8, 6], "int16")).toEqual({
      chunks: [8, 6],
      blocks: undefined,
      cname: "zstd",
      clevel: 5,
      filters: ["shuffle"],
      filtersMeta: [0],
    });
    expect(
      parseB2ndConfig(
        { chunks: null, blocks: null, filters: ["delta", "bytedelta"], filters_meta: [0, 2] },
        [8],
        "int16",
      ),
    ).toMatchObject({ chunks: [8], blocks: undefined, filtersMeta: [0, 2] });
  });

  const blosc2Cases: [Record<string, unknown>, RegExp][] = [
    [{ shuffle: "wrong" }, /"shuffle"/],
    [{ shuffle: 3 }, /"shuffle"/],
    [{ typesize: 0 }, /"typesize"/],
    [{ clevel: "5" }, /"clevel"/],
    [{ cname: "snappy" }, /"cname"/],
    [{ blocksize: -1 }, /"blocksize"/],
    [{ level: 5 }, /"level"/],
  ];
  for (const [configuration, message] of blosc2Cases) {
    it(`blosc2 ${JSON.stringify(configuration)} names the key`, async () => {
      await expect(
        createAndWrite([
          { name: "bytes", configuration: { endian: "little" } },
          { name: "blosc2", configuration },
        ]),
      ).rejects.toThrow(message);
    });
  }

  it("imagecodecs_blosc2 reports an unusable key when encoding", async () => {
    const err = await createAndWrite([
      { name: "bytes", configuration: { endian: "little" } },
      { name: "imagecodecs_blosc2", configuration: { compressor: "SNAPPY" } },
    ]).catch((e: unknown) => e);
    expect(zarr.isZarritaError(err, "CodecPipelineError")).toBe(true);
    expect((err as Error).cause).toBeInstanceOf(OptionsError);
    expect(((err as Error).cause as Error).message).toMatch(/"compressor"/);
    const trunc = ImagecodecsBlosc2Codec.fromConfig({ shuffle: "TRUNC_PREC" });
    await expect(trunc.encode(new Uint8Array(8))).rejects.toThrow(/"shuffle"/);
    // ... while decoding never looks at the configuration.
    const chunk = await compress(new Uint8Array([1, 2, 3]));
    expect(await trunc.decode(chunk)).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe("b2nd frames that disagree with the chunk", () => {
  async function readWith(frame: Uint8Array, dtype: zarr.DataType = "float64") {
    const store = new Map<string, Uint8Array>();
    const arr = await zarr.create(zarr.root(store), {
      shape: [8, 8],
      chunkShape: [4, 4],
      dtype,
      codecs: [{ name: "b2nd", configuration: {} }],
    });
    store.set("/c/0/0", frame);
    return zarr.get(arr, null).catch((e: unknown) => e);
  }

  it("a frame of another shape is a FormatError naming both shapes", async () => {
    const err = await readWith(await writeB2nd(new Float64Array(12), [3, 4]));
    expect(zarr.isZarritaError(err, "CodecPipelineError")).toBe(true);
    expect((err as Error).message).toMatch(/decode.*"b2nd"/);
    const cause = (err as Error).cause;
    expect(cause).toBeInstanceOf(FormatError);
    expect((cause as Error).message).toContain("expected [4, 4]");
    expect((cause as Error).message).toContain("found [3, 4]");
  });

  it("a frame of another dtype is a FormatError naming both dtypes", async () => {
    const err = await readWith(await writeB2nd(new Int32Array(16), [4, 4]));
    const cause = (err as Error).cause as Error;
    expect(cause).toBeInstanceOf(FormatError);
    expect(cause.message).toContain('"<f8"');
    expect(cause.message).toContain('"<i4"');
  });

  it("bytes that are not a frame are a FormatError", async () => {
    const err = await readWith(new Uint8Array(100));
    expect(zarr.isZarritaError(err, "CodecPipelineError")).toBe(true);
    expect((err as Error).cause).toBeInstanceOf(FormatError);
  });
});
