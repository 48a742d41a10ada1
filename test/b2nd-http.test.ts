// Partial reads over real HTTP: a local server honouring Range, bytes counted on the server side.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd } from "../src/index.js";
import { runPython } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

interface Big {
  shape: number[];
  chunks: number[];
  blocks: number[];
  cbytes: number;
  sample: { index: number[]; value: number };
}

describe("b2nd over HTTP", () => {
  let dir: string;
  let server: TestServer;
  let big: Big;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zb-http-"));
    // One 64 MiB float64 chunk in 8 KiB blocks, made by python-blosc2.
    const r = runPython([
      "fixtures/pyb2nd.py",
      "big",
      join(dir, "big.b2nd"),
      "--chunk-mib",
      "64",
      "--block-kib",
      "8",
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    big = JSON.parse(r.stdout) as Big;
    server = await startServer(dir);
  });
  afterAll(async () => {
    await server?.close();
  });

  const served = () => server.requests.reduce((n, q) => n + q.bytes, 0);

  it("reads one element of a 64 MiB chunk transferring < 1% of its compressed bytes", async () => {
    expect(big.chunks[0]! * 8).toBe(64 * 2 ** 20);
    const before = served();
    const arr = await openB2nd(`${server.url}/big.b2nd`);
    const opened = served() - before;
    const got = await arr.get(big.sample.index);
    const total = served() - before;
    expect(got.shape).toEqual([]);
    expect(got.data[0]).toBe(big.sample.value);
    // Opening is bounded: size, header, index + trailer.
    expect(arr.sourceStats.requests).toBeLessThanOrEqual(4 + got.stats.requests);
    expect(opened).toBeLessThan(64 * 1024);
    expect(total).toBeLessThan(big.cbytes / 100);
    expect(got.stats.blocksDecoded).toBe(1);
    expect(got.stats.chunksTouched).toBe(1);
    // Our counters agree with what the server sent.
    expect(got.stats.bytesRead).toBe(total - opened);
  });

  it("reads a contiguous range decoding only its blocks", async () => {
    const arr = await openB2nd(`${server.url}/big.b2nd`);
    const perBlock = big.blocks[0]!;
    const start = 3 * perBlock + 17; // inside block 3
    const stop = start + 2 * perBlock; // ends inside block 5
    const got = await arr.get([{ start, stop, step: null }]);
    expect(got.shape).toEqual([stop - start]);
    expect(got.stats.blocksDecoded).toBe(3);
    const whole = await openB2nd(join(dir, "big.b2nd"));
    const reference = await whole.get([{ start: 3 * perBlock, stop: 6 * perBlock, step: null }]);
    expect(got.data).toEqual((reference.data as Float64Array).subarray(17, 17 + 2 * perBlock));
    expect(got.stats.bytesRead).toBeLessThan(big.cbytes / 100);
  });
});
