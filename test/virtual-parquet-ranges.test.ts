// virtualParquet byte ranges: any range (a fast-check property, biased to page, column chunk,
// row group and footer boundaries, with tiny and huge pages and read parts) equals the same
// bytes of the full download, from read() and from stream(), one at a time and 64 at once;
// streams come in pieces of at most 1 MiB, pulled lazily, and decode each block once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  openB2nd,
  SourceError,
  type VirtualParquet,
  virtualParquet,
  writeB2ndFile,
} from "../src/index.js";
import { FIXTURES } from "./helpers.js";
import { openGroup } from "./table-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zb-vparquet-ranges-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOURCES = ["f8-3d-edges", "b1-2d", "f2-2d", "u8-2d", "i1-1d-delta", "climate"] as const;

async function open(name: (typeof SOURCES)[number]) {
  if (name === "climate") return (await openGroup("table/climate.zarr")) as never;
  return openB2nd(`${FIXTURES}/b2nd/${name}.b2nd`);
}

/** Offsets where something changes: pages, headers, column chunks, the page index, the footer. */
function boundaries(vp: VirtualParquet): number[] {
  const L = vp.layout;
  const out = [0, 4, L.pageIndex.offset, L.footer.offset, vp.size - 8, vp.size];
  for (const rg of L.rowGroups) {
    for (const c of rg.columns) {
      out.push(c.offset, c.offset + c.size);
      for (const p of c.pages)
        out.push(p.offset + p.headerSize, p.offset + p.headerSize + p.dataSize);
    }
  }
  return out;
}

async function concat(it: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; max: number }> {
  const parts: Uint8Array[] = [];
  let max = 0;
  for await (const p of it) {
    parts.push(p);
    max = Math.max(max, p.length);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, max };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe("random ranges equal the full download", () => {
  it("read and stream, any layout, ranges across page, column and row-group boundaries", async () => {
    const config = fc.record({
      source: fc.constantFrom(...SOURCES),
      rowGroupRows: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 3000 })),
      pageRows: fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(1, 2, 3, 7, 8, 9, 50, 100000),
        fc.integer({ min: 1, max: 2000 }),
      ),
      readBytes: fc.oneof(fc.constant(undefined), fc.constantFrom(1, 8, 100, 1000)),
      cacheBytes: fc.constantFrom(undefined, 0, 64),
    });
    const range = fc.record({
      near: fc.nat(),
      delta: fc.integer({ min: -20, max: 20 }),
      length: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.nat(), fc.constant(Infinity)),
    });
    await fc.assert(
      fc.asyncProperty(config, fc.array(range, { minLength: 1, maxLength: 25 }), async (c, rs) => {
        const options = Object.fromEntries(
          Object.entries(c).filter(([k, v]) => k !== "source" && v !== undefined),
        );
        const source = await open(c.source);
        if (c.source === "climate") Object.assign(options, { table: "time,lat,lon" });
        const vp = await virtualParquet(source, options);
        const full = await vp.read(0, vp.size);
        const edges = boundaries(vp);
        const picks = rs.map((r) => {
          const offset = Math.min(vp.size, Math.max(0, edges[r.near % edges.length]! + r.delta));
          const length = Math.min(
            vp.size - offset,
            r.length === Infinity ? vp.size : r.length % (vp.size + 1),
          );
          return { offset, length };
        });
        // A second file with the same layout, read many ranges at once.
        const other = await virtualParquet(source, options);
        expect(other.etag).toBe(vp.etag);
        const got = await Promise.all(picks.map((p) => other.read(p.offset, p.length)));
        for (const [i, p] of picks.entries()) {
          const want = full.subarray(p.offset, p.offset + p.length);
          expect(same(got[i]!, want), `read ${p.offset}+${p.length}`).toBe(true);
          const s = await concat(vp.stream(p.offset, p.length));
          expect(same(s.bytes, want), `stream ${p.offset}+${p.length}`).toBe(true);
        }
        if (source instanceof Object && "close" in source)
          await (source as { close(): Promise<void> }).close();
      }),
      { numRuns: 30, seed: 20240611, endOnFailure: true },
    );
  });
});

describe("large pages", () => {
  it("stream in pieces of at most 1 MiB, decode lazily and each block once; 64 readers at once", async () => {
    // 600 x 1000 float64 (4.8 MB), chunks 200 rows, blocks 20 rows: 30 blocks in all.
    const rows = 600;
    const cols = 1000;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 1000;
    const path = join(dir, "large.b2nd");
    await writeB2ndFile(path, data, [rows, cols], {
      chunkShape: [200, cols],
      blockShape: [20, cols],
    });
    const arr = await openB2nd(path);
    // One page per row group (1.6 MB of values), read in parts of 400 KB (two blocks).
    const vp = await virtualParquet(arr, { pageRows: 200000, readBytes: 400000, cacheBytes: 0 });
    const value = vp.layout.rowGroups.map((rg) => rg.columns[2]!);
    expect(value.every((c) => c.pages.length === 1 && c.pages[0]!.dataSize === 1600000)).toBe(true);
    // The first piece decodes the first part of the page only.
    const it = vp.stream(value[0]!.offset, value[0]!.size)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value.length).toBe(1 << 20);
    expect(vp.stats.blocksDecoded).toBeGreaterThan(0);
    // 131072 values of the page's 200000: four parts of 40 rows (two blocks each) of its ten.
    expect(vp.stats.blocksDecoded).toBe(8);
    await it.return?.();
    const before = vp.stats.blocksDecoded;
    const whole = await concat(vp.stream(0, vp.size));
    expect(whole.max).toBeLessThanOrEqual(1 << 20);
    expect(vp.stats.blocksDecoded - before).toBe(30);
    // The value bytes are the array's, little-endian float64.
    const v0 = value[1]!;
    const bytes = whole.bytes.subarray(v0.offset + v0.pages[0]!.headerSize, v0.offset + v0.size);
    const values = new Float64Array(bytes.slice().buffer);
    expect(values.length).toBe(200 * cols);
    expect(Array.from(values.subarray(0, 5))).toEqual(
      Array.from(data.subarray(200 * cols, 200 * cols + 5)),
    );
    expect(
      same(
        new Uint8Array(values.buffer),
        new Uint8Array(data.buffer, 200 * cols * 8, 200 * cols * 8),
      ),
    ).toBe(true);
    // 64 concurrent readers of random ranges on a shared file (with a cache) agree.
    const shared = await virtualParquet(arr, { pageRows: 200000, readBytes: 400000 });
    const picks = Array.from({ length: 64 }, (_, i) => {
      const offset = Math.floor((((i * 7919) % 1000) / 1000) * vp.size);
      return { offset, length: Math.min(vp.size - offset, 300000 + i * 1000) };
    });
    const got = await Promise.all(picks.map((p) => concat(shared.stream(p.offset, p.length))));
    picks.forEach((p, i) => {
      expect(same(got[i]!.bytes, whole.bytes.subarray(p.offset, p.offset + p.length))).toBe(true);
    });
    await arr.close();
  });

  it("an aborted stream stops with a SourceError", async () => {
    const data = new Float64Array(400 * 1000).map((_, i) => i);
    const path = join(dir, "abort.b2nd");
    await writeB2ndFile(path, data, [400, 1000], {
      chunkShape: [100, 1000],
      blockShape: [10, 1000],
    });
    const arr = await openB2nd(path);
    const vp = await virtualParquet(arr);
    const ac = new AbortController();
    let pieces = 0;
    const run = async () => {
      for await (const _ of vp.stream(0, vp.size, ac.signal)) {
        pieces++;
        ac.abort(new Error("client went away"));
      }
    };
    await expect(run()).rejects.toThrow(/aborted \(client went away\)/);
    expect(pieces).toBe(1);
    await expect(vp.read(0, vp.size, ac.signal)).rejects.toThrow(SourceError);
    await arr.close();
  });
});
