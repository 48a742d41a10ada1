// The package in a real browser: headless Chromium (the Debian package, driven by
// playwright-core) loads test/browser/index.html, which imports dist/ unbundled through an
// import map, opens a b2nd-chunked Zarr v3 fixture over HTTP with zarrita's FetchStore and
// reads selections with the package's `get`. Values are compared with the NumPy fixture, the
// blocks decoded with a count made here from the shapes alone, and the bytes the server sent
// with the chunks' stored sizes. Any page error or console error fails the test.
import { statSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, FIXTURES, ROOT, readNpy, readZarrManifest } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

const CHROMIUM = "/usr/bin/chromium";
const NAME = "b2nd-f8-browser";
const fixture = readZarrManifest().arrays.find((a) => a.name === NAME)!;
const ARRAY_URL_PATH = `/fixtures/data/${fixture.path}`;

// Page runs: on the calling thread, and with a pool of two module Web Workers. The page is
// not cross-origin isolated (no SharedArrayBuffer), so workers send decoded batches back.
const PAGE_RUNS = [{ workers: 0 }, { workers: 2 }];

type DimSel = number | null | { start: number | null; stop: number | null; step: number | null };

interface PageRead {
  shape: number[];
  dtype: string;
  bytes: string;
  stats: { path: string; chunksTouched: number; blocksDecoded: number; bytesRead: number };
  /** Decodes the page's pool has completed so far (0 without workers). */
  poolTasks: number;
  sharedResult: boolean;
}

/** The indices a selection entry picks along a dimension of length n (NumPy semantics). */
function indicesOf(sel: DimSel | undefined, n: number): number[] {
  if (sel === null || sel === undefined) return Array.from({ length: n }, (_, i) => i);
  if (typeof sel === "number") return [sel < 0 ? sel + n : sel];
  const step = sel.step ?? 1;
  const out: number[] = [];
  if (step > 0) {
    const start = Math.max(
      0,
      Math.min(n, (sel.start ?? 0) < 0 ? (sel.start ?? 0) + n : (sel.start ?? 0)),
    );
    const stop = Math.max(
      0,
      Math.min(n, (sel.stop ?? n) < 0 ? (sel.stop ?? n) + n : (sel.stop ?? n)),
    );
    for (let i = start; i < stop; i += step) out.push(i);
  } else {
    const start = Math.min(
      n - 1,
      (sel.start ?? n - 1) < 0 ? (sel.start ?? n - 1) + n : (sel.start ?? n - 1),
    );
    const stop =
      sel.stop === null || sel.stop === undefined
        ? -1
        : sel.stop < 0
          ? Math.max(-1, sel.stop + n)
          : sel.stop;
    for (let i = start; i > stop; i += step) out.push(i);
  }
  return out;
}

/** Expected float64 values of a 2-D selection, taken from the NumPy array in C order. */
function expectedValues(full: Float64Array, shape: number[], sel: DimSel[]) {
  const rows = indicesOf(sel[0], shape[0]!);
  const cols = indicesOf(sel[1], shape[1]!);
  const values: number[] = [];
  for (const r of rows) for (const c of cols) values.push(full[r * shape[1]! + c]!);
  const outShape: number[] = [];
  if (typeof sel[0] !== "number") outShape.push(rows.length);
  if (typeof sel[1] !== "number") outShape.push(cols.length);
  return { values: new Float64Array(values), shape: outShape };
}

/**
 * b2nd blocks a selection touches: along each dimension, the distinct (chunk, block-in-chunk)
 * pairs of the selected indices; the touched blocks are every combination of those.
 */
function touchedBlocks(shape: number[], chunks: number[], blocks: number[], sel: DimSel[]) {
  let blocksTouched = 1;
  const chunkSets: Set<number>[] = [];
  shape.forEach((n, d) => {
    const pairs = new Set<string>();
    const chunkIds = new Set<number>();
    for (const i of indicesOf(sel[d], n)) {
      const c = Math.floor(i / chunks[d]!);
      chunkIds.add(c);
      pairs.add(`${c}:${Math.floor((i % chunks[d]!) / blocks[d]!)}`);
    }
    blocksTouched *= pairs.size;
    chunkSets.push(chunkIds);
  });
  const chunksTouched = chunkSets.reduce((n, s) => n * s.size, 1);
  const keys: string[] = [];
  const walk = (d: number, prefix: number[]) => {
    if (d === shape.length) {
      keys.push(`c/${prefix.join("/")}`);
      return;
    }
    for (const c of chunkSets[d]!) walk(d + 1, [...prefix, c]);
  };
  walk(0, []);
  return { blocksTouched, chunksTouched, keys };
}

function float64s(base64: string): Float64Array {
  const b = Buffer.from(base64, "base64");
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Float64Array(copy.buffer);
}

describe.each(PAGE_RUNS)("in headless Chromium (workers=$workers)", ({ workers }) => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const npy = readNpy(join(FIXTURES, fixture.npy!));
  const full = new Float64Array(npy.data.slice().buffer);
  const b2nd = (fixture as unknown as { b2nd: { chunks: number[]; blocks: number[] } }).b2nd;

  beforeAll(async () => {
    ensureBuilt();
    server = await startServer(ROOT, { contentTypes: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    page = await browser.newPage();
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.stack ?? err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") {
        problems.push(`console.error: ${msg.text()} (${msg.location().url || "no location"})`);
      }
    });
    page.on("requestfailed", (req) =>
      problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`),
    );
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    const query = new URLSearchParams({ array: ARRAY_URL_PATH, workers: `${workers}` });
    await page.goto(`${server.url}/test/browser/index.html?${query}`);
    const info = await page.evaluate(() => (window as unknown as PageWindow).zbTest.ready);
    expect(info).toEqual({
      shape: fixture.shape,
      chunks: fixture.chunks,
      dtype: "float64",
      workers,
    });
  });

  afterAll(async () => {
    if (page) await page.evaluate(() => (window as unknown as PageWindow).zbTest.close?.());
    await browser?.close();
    await server?.close();
    expect(problems).toEqual([]);
  });

  const served = (prefix: string) =>
    server.requests.filter((q) => q.path.startsWith(prefix)).reduce((n, q) => n + q.bytes, 0);

  async function read(sel: DimSel[], options: { mergeGap?: number } = {}): Promise<PageRead> {
    return page.evaluate(([s, o]) => (window as unknown as PageWindow).zbTest.read(s, o), [
      sel,
      options,
    ] as const);
  }

  const selections: [string, DimSel[]][] = [
    ["one element", [100, 300]],
    ["a row across both chunk columns", [37, null]],
    ["a column in the ragged chunk column", [null, 270]],
    [
      "a box across four chunks",
      [
        { start: 12, stop: 80, step: null },
        { start: 200, stop: 290, step: null },
      ],
    ],
    [
      "a strided grid, columns reversed",
      [
        { start: 5, stop: 125, step: 7 },
        { start: 499, stop: 3, step: -45 },
      ],
    ],
  ];

  it.each(selections)("%s: NumPy's values, only the touched blocks", async (_label, sel) => {
    const tasksBefore = await page.evaluate(() => (window as unknown as PageWindow).zbTest.tasks());
    const before = served(ARRAY_URL_PATH);
    const got = await read(sel);
    const bytesServed = served(ARRAY_URL_PATH) - before;
    // With workers, every decode of this read ran in them (and came back, not shared).
    if (workers > 0) expect(got.poolTasks).toBeGreaterThan(tasksBefore);
    else expect(got.poolTasks).toBe(0);
    expect(got.sharedResult).toBe(false);
    const want = expectedValues(full, fixture.shape, sel);
    expect(got.dtype).toBe("float64");
    if (want.shape.length > 0) expect(got.shape).toEqual(want.shape);
    expect(Array.from(float64s(got.bytes))).toEqual(Array.from(want.values));

    const touched = touchedBlocks(fixture.shape, b2nd.chunks, b2nd.blocks, sel);
    expect(got.stats.path).toBe("b2nd");
    expect(got.stats.chunksTouched).toBe(touched.chunksTouched);
    expect(got.stats.blocksDecoded).toBe(touched.blocksTouched);
    expect(got.stats.bytesRead).toBe(bytesServed);
    const storedOfTouched = touched.keys.reduce(
      (n, key) => n + statSync(join(FIXTURES, fixture.path, key)).size,
      0,
    );
    const blocksPerChunk = b2nd.chunks.reduce((n, c, d) => n * Math.ceil(c / b2nd.blocks[d]!), 1);
    if (touched.blocksTouched * 4 <= touched.chunksTouched * blocksPerChunk) {
      // At most a quarter of each chunk's blocks: with block ranges fetched one by one
      // (mergeGap 0; the default merges ranges closer than 64 KiB, so a column of these small
      // chunks is fetched whole), well under the chunks' stored bytes cross the wire, each
      // chunk also costing an 8 KiB prefix read and its index.
      const start = served(ARRAY_URL_PATH);
      const again = await read(sel, { mergeGap: 0 });
      expect(again.bytes).toBe(got.bytes);
      expect(again.stats.blocksDecoded).toBe(touched.blocksTouched);
      expect(served(ARRAY_URL_PATH) - start).toBeLessThan(storedOfTouched / 2);
    }
  });

  it("one element crosses the wire as a small part of its chunk", async () => {
    const stats = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      const r = await w.zbTest.read([
        { start: 100, stop: 101, step: null },
        { start: 300, stop: 301, step: null },
      ]);
      return r.stats;
    });
    const chunkSize = statSync(join(FIXTURES, fixture.path, "c/1/1")).size;
    expect(stats.blocksDecoded).toBe(1);
    expect(stats.chunksTouched).toBe(1);
    expect(stats.bytesRead).toBeLessThan(chunkSize / 3);
  });

  it("a failing read in the page reaches the test", async () => {
    const before = problems.length;
    await expect(read([1000, 0])).rejects.toThrow(/out of bounds|outside|range|index/i);
    // An error thrown and not caught in the page is collected as a problem.
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error("deliberate page error");
      }, 0);
    });
    await expect
      .poll(() => problems.slice(before).some((p) => p.includes("deliberate page error")))
      .toBe(true);
    problems.splice(before);
  });
});

interface PageWindow {
  zbTest: {
    ready: Promise<{ shape: number[]; chunks: number[]; dtype: string; workers: number }>;
    tasks: () => number;
    read(selection: DimSel[], options?: { mergeGap?: number }): Promise<PageRead>;
    close?(): Promise<void>;
  };
}
