// Servers without Range support (Python's http.server): openB2nd refuses them with a clear
// error by default, and with allowFullRead downloads each file once (up to a limit) and reads
// from memory. And get() on a Zarr v2 array over servers that answer missing files with an
// HTML page (404, or 200 as single-page-app servers do) falls back to zarr.get as zarrita's
// open does, instead of failing on zarr.json.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  get,
  openB2nd,
  registerBlosc2Codecs,
  SourceError,
  writeB2nd,
  type ZarrGetStats,
} from "../src/index.js";
import { type ExternalServer, startPythonHttp } from "./external-servers.js";
import { FIXTURES, readNpy, readZarrManifest } from "./helpers.js";
import { startServer } from "./http-server.js";

const SHAPE = [300, 200];
const values = new Float64Array(300 * 200).map((_, i) => Math.sin(i / 13) * 1000 + (i % 7));
let dir: string;
let frame: Uint8Array;
let py: ExternalServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "zb2-fullread-"));
  frame = await writeB2nd(values, SHAPE, { chunkShape: [64, 64], blockShape: [16, 64] });
  writeFileSync(join(dir, "f.b2nd"), frame);
  cpSync(`${FIXTURES}/b2nd/sparse-3d.b2frame`, join(dir, "sparse.b2frame"), { recursive: true });
  cpSync(`${FIXTURES}/zarr/v2-blosc2-i4-be.zarr`, join(dir, "v2.zarr"), { recursive: true });
  py = await startPythonHttp(dir);
}, 60_000);

afterAll(async () => {
  await py?.close();
  rmSync(dir, { recursive: true, force: true });
});

let markers = 0;
/**
 * Requests python's http.server logged for `path`. It logs from its threads a moment after
 * answering: a marker request made now shows up after every earlier line.
 */
async function logged(method: string, path: string): Promise<number> {
  const marker = `/marker-${++markers}`;
  await (await fetch(`${py.url}${marker}`)).arrayBuffer();
  const deadline = Date.now() + 30_000;
  while (!py.log().includes(`"GET ${marker} `) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return py
    .log()
    .split("\n")
    .filter((l) => l.includes(`"${method} ${path} `)).length;
}

describe("openB2nd over python -m http.server (no Range support)", () => {
  it("is refused by default, saying why and what to do", async () => {
    const err = (await openB2nd(`${py.url}/f.b2nd`).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.status).toBe(200);
    expect(err.message).toMatch(
      /f\.b2nd bytes 0-8191: server ignored the Range header \(HTTP 200\): partial reads need a server that supports Range requests \(or allowFullRead: true/,
    );
  });

  it("allowFullRead: the file is downloaded once and every read is right", async () => {
    const before = await logged("GET", "/f.b2nd");
    const arr = await openB2nd(`${py.url}/f.b2nd`, { allowFullRead: true });
    const all = await arr.get();
    expect(all.data).toEqual(values);
    const row = await arr.get([123, null]);
    expect(row.data).toEqual(values.subarray(123 * 200, 124 * 200));
    const box = await arr.get([
      { start: 70, stop: 140, step: 3 },
      { start: 190, stop: 10, step: -7 },
    ]);
    const want: number[] = [];
    for (let i = 70; i < 140; i += 3)
      for (let j = 190; j > 10; j -= 7) want.push(values[i * 200 + j]!);
    expect(Array.from(box.data as Float64Array)).toEqual(want);
    expect((await logged("GET", "/f.b2nd")) - before, py.log()).toBe(1);
    expect(arr.sourceStats.bytesRead).toBe(frame.length);
  });

  it("a sparse frame directory, each file downloaded whole", async () => {
    const local = await openB2nd(`${FIXTURES}/b2nd/sparse-3d.b2frame`);
    const want = await local.get();
    await local.close();
    const arr = await openB2nd(`${py.url}/sparse.b2frame/`, { allowFullRead: true });
    expect((await arr.get()).data).toEqual(want.data);
    expect(await logged("GET", "/sparse.b2frame/chunks.b2frame")).toBe(1);
  });

  it("refuses a file above maxFullReadBytes, or above maxDecodedBytes by default", async () => {
    const err = (await openB2nd(`${py.url}/f.b2nd`, {
      allowFullRead: true,
      maxFullReadBytes: 1000,
    }).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(
      `the whole file (${frame.length} bytes) is above maxFullReadBytes (1000)`,
    );
    const limit = frame.length - 1;
    const err2 = (await openB2nd(`${py.url}/f.b2nd`, {
      allowFullRead: true,
      maxDecodedBytes: limit,
    }).catch((e: unknown) => e)) as Error;
    expect(err2.message).toContain(`above maxFullReadBytes (${limit})`);
  });
});

describe("get() on a Zarr v2 array where missing files are HTML pages", () => {
  registerBlosc2Codecs(zarr.registry);
  const entry = readZarrManifest().arrays.find((a) => a.name === "v2-blosc2-i4-be")!;
  /** The fixture's values from its NumPy file (big-endian int32). */
  function expected(): number[] {
    const npy = readNpy(`${FIXTURES}/${entry.npy}`);
    expect(npy.dtype).toBe(">i4");
    const view = new DataView(npy.data.buffer, npy.data.byteOffset, npy.data.byteLength);
    return Array.from({ length: npy.data.length / 4 }, (_, i) => view.getInt32(4 * i, false));
  }

  async function check(base: string): Promise<void> {
    const store = new zarr.FetchStore(`${base}/v2.zarr`);
    // open.v2 without attributes: a 200 page for .zattrs would not be JSON either.
    const arr = await zarr.open.v2(store, { kind: "array", attrs: false });
    const stats = {} as ZarrGetStats;
    const got = (await get(arr, null, { stats })) as { data: Int32Array; shape: number[] };
    expect(stats.path).toBe("zarr.get");
    expect(got.shape).toEqual(entry.shape);
    expect(Array.from(got.data)).toEqual(expected());
    const direct = (await zarr.get(arr, null)) as { data: Int32Array };
    expect(Array.from(direct.data)).toEqual(Array.from(got.data));
  }

  it("python -m http.server (404 with HTML)", async () => {
    await check(py.url);
  });

  for (const status of [404, 200]) {
    it(`a server answering missing files with ${status} text/html`, async () => {
      const server = await startServer(dir, { missingPage: status });
      try {
        expect((await fetch(`${server.url}/v2.zarr/zarr.json`)).status).toBe(status);
        await check(server.url);
      } finally {
        await server.close();
      }
    });
  }

  it("a v3 b2nd array on such a server still takes the b2nd path", async () => {
    cpSync(`${FIXTURES}/zarr/b2nd-f8-2d.zarr`, join(dir, "v3.zarr"), { recursive: true });
    const server = await startServer(dir, { missingPage: 200 });
    try {
      const arr = await zarr.open.v3(new zarr.FetchStore(`${server.url}/v3.zarr`), {
        kind: "array",
      });
      const stats = {} as ZarrGetStats;
      const got = (await get(arr, [5, null], { stats })) as { data: Float64Array };
      expect(stats.path).toBe("b2nd");
      const direct = (await zarr.get(arr, [5, null])) as { data: Float64Array };
      expect(got.data).toEqual(direct.data);
    } finally {
      await server.close();
    }
  });
});
