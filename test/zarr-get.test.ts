// Partial reads of Zarr arrays with b2nd chunks: over real HTTP (zarrita's FetchStore and a
// local server), written from TypeScript and read back by zarr-python, and bad input.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  FormatError,
  get,
  OptionsError,
  registerBlosc2Codecs,
  writeB2nd,
  type ZarrGetStats,
} from "../src/index.js";
import { readNpy, runPython, valuesOf } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

registerBlosc2Codecs(zarr.registry);
type Chunk = zarr.Chunk<zarr.DataType> & { stats: ZarrGetStats };

function pyWrite(out: string, spec: object): { sample: { index: number[]; value: number } } {
  const specPath = `${out}.spec.json`;
  writeFileSync(specPath, JSON.stringify(spec));
  const r = runPython(["fixtures/pyzarr.py", "write", out, specPath]);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("over HTTP with 64 MiB b2nd chunks", () => {
  let dir: string;
  let server: TestServer;
  let sample1d: { index: number[]; value: number };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zb-zhttp-"));
    sample1d = pyWrite(join(dir, "big1d.zarr"), {
      zarr_format: 3,
      generate: { kind: "sine", shape: [8388608], dtype: "float64", seed: 1 },
      chunks: [8388608],
      codec: "b2nd",
      b2nd: { blocks: [1024], cname: "zstd", clevel: 1 },
    }).sample;
    pyWrite(join(dir, "big2d.zarr"), {
      zarr_format: 3,
      generate: { kind: "sine", shape: [4096, 2048], dtype: "float64", seed: 2 },
      chunks: [4096, 2048],
      codec: "b2nd",
      b2nd: { blocks: [64, 128], cname: "zstd", clevel: 1 },
    });
    server = await startServer(dir);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });
  const served = () => server.requests.reduce((n, q) => n + q.bytes, 0);

  it("one element transfers < 1% of the chunk", async () => {
    const chunkBytes = statSync(join(dir, "big1d.zarr", "c", "0")).size;
    const store = new zarr.FetchStore(`${server.url}/big1d.zarr`);
    const arr = await zarr.open(store, { kind: "array" });
    const before = served();
    const stats = {} as ZarrGetStats;
    const value = await get(arr, sample1d.index, { stats });
    expect(value).toBe(sample1d.value);
    expect(stats).toMatchObject({ path: "b2nd", chunksTouched: 1, blocksDecoded: 1 });
    expect(served() - before).toBeLessThan(chunkBytes / 100);
    expect(stats.bytesRead).toBe(served() - before);
    // zarr.get decodes the whole chunk: the same value, all the bytes.
    const whole = served();
    expect(await zarr.get(arr, sample1d.index)).toBe(value);
    expect(served() - whole).toBeGreaterThanOrEqual(chunkBytes);
  });

  it("a row slice decodes only its blocks, and equals zarr.get", async () => {
    const store = new zarr.FetchStore(`${server.url}/big2d.zarr`);
    const arr = await zarr.open(store, { kind: "array" });
    const row = (await get(arr, [100, null])) as Chunk;
    // Row 100 lies in block row 1 (64-row blocks); 2048 / 128 = 16 blocks across.
    expect(row.stats.blocksDecoded).toBe(16);
    const chunkBytes = statSync(join(dir, "big2d.zarr", "c", "0", "0")).size;
    expect(row.stats.bytesRead).toBeLessThan(chunkBytes / 10);
    const plain = (await zarr.get(arr, [100, null])) as zarr.Chunk<"float64">;
    expect(row.data).toEqual(plain.data);
  });

  it("zarrita's range coalescing: same values, and what it changes", async () => {
    const plainStore = new zarr.FetchStore(`${server.url}/big2d.zarr`);
    const coalesced = zarr.withRangeCoalescing(new zarr.FetchStore(`${server.url}/big2d.zarr`));
    const a = await zarr.open(plainStore, { kind: "array" });
    const b = await zarr.open(coalesced, { kind: "array" });
    const sel = [null, 700];
    const x = (await get(a, sel)) as Chunk;
    const before = server.requests.length;
    const y = (await get(b, sel)) as Chunk;
    const serverRequests = server.requests.length - before;
    expect(y.data).toEqual(x.data);
    // Our get already merges nearby blocks, so coalescing can only lower the request count.
    expect(serverRequests).toBeLessThanOrEqual(x.stats.requests);
    console.log(
      `column of big2d: ${x.stats.requests} requests / ${x.stats.bytesRead} bytes without coalescing; ` +
        `${serverRequests} server requests with zarrita's withRangeCoalescing`,
    );
  });
});

describe("written from TypeScript, read by zarr-python", () => {
  it("b2nd, blosc2 and numcodecs-style codecs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-zwrite-"));
    const store = new FileSystemStore(dir);
    const values = new Float64Array(45 * 37).map((_, i) => Math.cos(i / 9) * 50);
    const cases: [string, zarr.CodecMetadata[]][] = [
      [
        "b2nd",
        [
          {
            name: "b2nd",
            configuration: { blocks: [5, 8], cname: "lz4", clevel: 5, filters: ["shuffle"] },
          },
        ],
      ],
      [
        "blosc2",
        [
          { name: "bytes", configuration: { endian: "little" } },
          { name: "blosc2", configuration: { cname: "zstd", clevel: 3, shuffle: "bitshuffle" } },
        ],
      ],
      [
        "numcodecs",
        [
          { name: "bytes", configuration: { endian: "little" } },
          { name: "numcodecs.blosc2", configuration: { cname: "zlib", clevel: 5, shuffle: 1 } },
        ],
      ],
      [
        "imagecodecs",
        [
          { name: "bytes", configuration: { endian: "little" } },
          {
            name: "numcodecs.imagecodecs_blosc2", // the name zarr-python 3 uses in v3
            configuration: { level: 5, compressor: "zstd", shuffle: 1 },
          },
        ],
      ],
    ];
    for (const [name, codecs] of cases) {
      const arr = await zarr.create(zarr.root(store).resolve(name), {
        shape: [45, 37],
        chunkShape: [20, 16],
        dtype: "float64",
        codecs,
        fillValue: 0,
      });
      await zarr.set(arr, null, { data: values, shape: [45, 37], stride: [37, 1] });
      const out = join(dir, `${name}.npy`);
      const r = runPython(["fixtures/pyzarr.py", "read", join(dir, name), out]);
      expect(r.status, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
      const npy = readNpy(out);
      expect(npy.shape).toEqual([45, 37]);
      expect(valuesOf(new Float64Array(npy.data.slice().buffer))).toEqual(valuesOf(values));
    }
  });
});

describe("bad input names the array and the chunk", () => {
  it("a frame whose shape disagrees with the chunk, and a truncated frame", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-zbad-"));
    const store = new FileSystemStore(dir);
    const arr = await zarr.create(zarr.root(store).resolve("temp"), {
      shape: [20, 20],
      chunkShape: [10, 10],
      dtype: "int32",
      codecs: [{ name: "b2nd", configuration: {} }],
      fillValue: 0,
    });
    await zarr.set(arr, null, {
      data: new Int32Array(400).map((_, i) => i),
      shape: [20, 20],
      stride: [20, 1],
    });
    // Chunk (0, 1) replaced by a frame of the wrong shape.
    writeFileSync(join(dir, "temp", "c", "0", "1"), await writeB2nd(new Int32Array(90), [9, 10]));
    const err = await get(arr, [5, null]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(
      /\/temp\/c\/0\/1: b2nd frame of shape \[9,10\] in a Zarr chunk of shape \[10,10\]/,
    );
    // Chunk (1, 0) truncated.
    const key = join(dir, "temp", "c", "1", "0");
    writeFileSync(key, readFileSync(key).subarray(0, 100));
    const err2 = await get(arr, [15, 3]).catch((e: unknown) => e);
    expect((err2 as Error).message).toContain("/temp/c/1/0");
    // Untouched chunks still read.
    expect(await get(arr, [15, 15])).toBe(315);
  });

  it("an inconsistent b2nd configuration names the array and the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-zcfg-"));
    const store = new FileSystemStore(dir);
    const arr = await zarr.create(zarr.root(store).resolve("cfg"), {
      shape: [8, 8],
      chunkShape: [4, 4],
      dtype: "float32",
      codecs: [{ name: "b2nd", configuration: { blocks: [8, 2] } }],
      fillValue: 0,
    });
    const err = await get(arr, [1, 1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as Error).message).toMatch(/^\/cfg\/zarr\.json: .*blocks/);
  });

  it("a store without getRange falls back to zarr.get and says so", async () => {
    const store = new Map<string, Uint8Array>();
    const arr = await zarr.create(zarr.root(store).resolve("a"), {
      shape: [10],
      chunkShape: [5],
      dtype: "uint8",
      codecs: [{ name: "b2nd", configuration: {} }],
      fillValue: 0,
    });
    await zarr.set(arr, null, {
      data: new Uint8Array(10).map((_, i) => i * 3),
      shape: [10],
      stride: [1],
    });
    const r = (await get(arr, [zarr.slice(2, 8)])) as Chunk;
    expect(Array.from(r.data as Uint8Array)).toEqual([6, 9, 12, 15, 18, 21]);
    expect(r.stats.path).toBe("zarr.get");
    expect(r.stats.fallback).toMatch(/no getRange/);
    expect(r.stats.chunksTouched).toBe(2);
  });
});
