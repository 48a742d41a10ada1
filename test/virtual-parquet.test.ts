// virtualParquet: the whole virtual file read by pyarrow, DuckDB and polars (Python) and
// hyparquet (Node) equals what python-blosc2 / zarr-python read from the same fixtures, for
// every dtype, b2nd arrays and Zarr groups with coordinates; row-group statistics and the page
// index let readers skip row groups and pages; footer and dimension bytes decode nothing and a
// variable page decodes only the blocks behind it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  parquetMetadataAsync,
  parquetReadObjects,
  readColumnIndex,
  readOffsetIndex,
} from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd, type VirtualParquet, virtualParquet } from "../src/index.js";
import { FIXTURES, readB2ndManifest, runPython } from "./helpers.js";
import { openArray, openGroup, readTableManifest } from "./table-helpers.js";
import { asyncBuffer, checkFiles, download } from "./vparquet-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zb-vparquet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// As in table-dtypes: python-blosc2 cannot read Caterva-era files as arrays, and reads
// uninitialized chunks as whatever memory held.
const b2nds = readB2ndManifest().arrays.filter(
  (a) =>
    !a.unsupported && !a.dtype.includes("c") && a.metalayer === "b2nd" && a.special !== "uninit",
);
const CONFIGS = [{}, { rowGroupRows: 64, pageRows: 7 }] as const;

interface Expect {
  path: string;
  shape: number[];
  values: string[];
}
const expected = new Map<string, Expect>();
beforeAll(() => {
  const r = runPython(["test/py/table_expect.py", ...b2nds.map((a) => `${FIXTURES}/${a.path}`)]);
  expect(r.status, r.stderr).toBe(0);
  for (const line of r.stdout.trim().split("\n")) {
    const e = JSON.parse(line) as Expect;
    expected.set(e.path, e);
  }
});

function variablesOf(vp: VirtualParquet): string[] {
  return vp.layout.columns.filter((c) => c.kind === "variable").map((c) => c.name);
}

/** A hyparquet value against Python's string for it. */
function sameValue(v: unknown, want: string): boolean {
  if (typeof v === "boolean") return String(Number(v)) === want;
  if (typeof v === "bigint") return v.toString() === want;
  const w = want === "inf" ? Infinity : want === "-inf" ? -Infinity : Number(want);
  return Object.is(v, w) || v === w || (Number.isNaN(v as number) && Number.isNaN(w));
}

describe("the whole virtual file is valid Parquet", () => {
  it("b2nd arrays of every dtype: pyarrow, DuckDB and polars read what python-blosc2 reads", async () => {
    const specs: object[] = [];
    for (const [k, config] of CONFIGS.entries()) {
      for (const a of b2nds) {
        const path = `${FIXTURES}/${a.path}`;
        const arr = await openB2nd(path);
        const vp = await virtualParquet(arr, config);
        specs.push({ file: await download(vp, dir, `${a.name}-${k}.parquet`), b2nd: path });
        await arr.close();
      }
    }
    const results = checkFiles(dir, specs);
    results.forEach((r, i) => {
      expect(r.problems, JSON.stringify(specs[i])).toEqual([]);
    });
  });

  it("b2nd arrays of every dtype: hyparquet reads what python-blosc2 reads", async () => {
    for (const a of b2nds) {
      const path = `${FIXTURES}/${a.path}`;
      const e = expected.get(path)!;
      const arr = await openB2nd(path);
      const vp = await virtualParquet(arr, CONFIGS[1]);
      const rows = (await parquetReadObjects({ file: asyncBuffer(vp) })) as Record<
        string,
        unknown
      >[];
      expect(rows.length, a.name).toBe(e.values.length);
      const bad = rows.findIndex((r, i) => !sameValue(r.value, e.values[i]!));
      expect(bad, `${a.name}: first difference at row ${bad}`).toBe(-1);
      // Dimension columns are the C-order indices.
      const strides = e.shape.map((_, d) => e.shape.slice(d + 1).reduce((x, y) => x * y, 1));
      const badIndex = rows.findIndex((r, i) =>
        e.shape.some((n, d) => r[`dim_${d}`] !== BigInt(Math.floor(i / strides[d]!) % n)),
      );
      expect(badIndex, `${a.name}: dimension indices differ at row ${badIndex}`).toBe(-1);
      await arr.close();
    }
  });

  it("Zarr groups with coordinates, arrays, where boxes, missing chunks", async () => {
    const m = readTableManifest();
    const climate = `${FIXTURES}/table/climate.zarr`;
    const cases: { name: string; source: () => Promise<unknown>; options: object; spec: object }[] =
      [];
    for (const [k, config] of CONFIGS.entries()) {
      cases.push(
        {
          name: `climate-${k}`,
          source: () => openGroup("table/climate.zarr"),
          options: { ...config, table: "time,lat,lon" },
          spec: { zarr: climate, dims: ["time", "lat", "lon"], coords: true },
        },
        {
          name: `elevation-${k}`,
          source: () => openGroup("table/climate.zarr"),
          options: { ...config, table: "lat,lon" },
          spec: { zarr: climate, dims: ["lat", "lon"], coords: true },
        },
        {
          name: `grid-v2-${k}`,
          source: () => openGroup("table/grid-v2.zarr"),
          options: config,
          spec: { zarr: `${FIXTURES}/table/grid-v2.zarr`, dims: ["y", "x"], coords: true },
        },
        {
          name: `group-${k}`,
          source: () => openGroup("zarr/group.zarr"),
          options: { ...config, table: "time,lat,lon" },
          spec: { zarr: `${FIXTURES}/zarr/group.zarr`, dims: ["time", "lat", "lon"], coords: true },
        },
      );
      for (const a of [
        "table/plain.zarr",
        "zarr/sharded-b2nd-f8-2d.zarr",
        "zarr/v2-blosc2-f4-2d.zarr",
        "zarr/b2nd-u1-fill7-missing.zarr",
        "zarr/blosc2-i4-2d.zarr",
      ]) {
        cases.push({
          name: `${a.replace(/\W/g, "_")}-${k}`,
          source: () => openArray(a),
          options: config,
          spec: { zarr: `${FIXTURES}/${a}`, dims: ["dim_0", "dim_1"] },
        });
      }
    }
    for (const w of m.where) {
      cases.push({
        name: `where-${w.name}`,
        source: () => openGroup("table/climate.zarr"),
        options: { table: "time,lat,lon", where: w.where, rowGroupRows: 50, pageRows: 9 },
        spec: { zarr: climate, dims: ["time", "lat", "lon"], coords: true, box: w.box },
      });
    }
    const specs: object[] = [];
    for (const c of cases) {
      const vp = await virtualParquet((await c.source()) as never, c.options);
      specs.push({
        ...c.spec,
        file: await download(vp, dir, `${c.name}.parquet`),
        variables: variablesOf(vp),
      });
    }
    // The variables are the tables' (in the manifest) in the file's order.
    expect(new Set((specs[0] as { variables: string[] }).variables)).toEqual(
      new Set(m.tables["table/climate.zarr"]!.find((t) => t.name === "time,lat,lon")!.variables),
    );
    const results = checkFiles(dir, specs);
    results.forEach((r, i) => {
      expect(r.problems, cases[i]!.name).toEqual([]);
    });
    const empty = results[specs.findIndex((_, i) => cases[i]!.name === "where-empty")]!;
    expect([empty.rows, empty.row_groups]).toEqual([0, 0]);
  });

  it("hyparquet reads a Zarr group with coordinates", async () => {
    const vp = await virtualParquet((await openGroup("table/climate.zarr")) as never, {
      table: "time,lat,lon",
      rowGroupRows: 100,
      pageRows: 13,
    });
    const rows = (await parquetReadObjects({ file: asyncBuffer(vp) })) as Record<string, unknown>[];
    const r = runPython([
      "-c",
      `import json, zarr, numpy as np, sys
sys.path.insert(0, "fixtures"); import zarr_codecs
g = zarr.open_group("${FIXTURES}/table/climate.zarr", mode="r")
t, la, lo = (np.asarray(g[n][...]) for n in ("time", "lat", "lon"))
ti, li, oi = (x.ravel() for x in np.meshgrid(np.arange(len(t)), np.arange(len(la)), np.arange(len(lo)), indexing="ij"))
print(json.dumps({"time": t[ti].tolist(), "lat": la[li].tolist(), "lon": lo[oi].tolist(),
  "temp": [None if np.isnan(x) else float(x) for x in np.asarray(g["temp"][...]).ravel()],
  "precip": [None if np.isnan(x) else float(x) for x in np.asarray(g["precip"][...]).ravel()]}))`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const want = JSON.parse(r.stdout) as Record<string, (number | null)[]>;
    expect(rows.length).toBe(want.time!.length);
    for (const name of ["time", "lat", "lon", "temp", "precip"]) {
      const bad = rows.findIndex((row, i) => {
        const v = Number(row[name]);
        const w = want[name]![i];
        return w === null ? !Number.isNaN(v) : v !== w;
      });
      expect(bad, `${name} differs at row ${bad}`).toBe(-1);
    }
  });
});

describe("statistics and the page index", () => {
  it("pyarrow's filters skip row groups by the dimension statistics (reads recorded)", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`);
    const vp = await virtualParquet(arr, { rowGroupRows: 400, pageRows: 50 });
    const g = await openGroup("table/climate.zarr");
    const vc = await virtualParquet(g as never, { table: "time,lat,lon", rowGroupRows: 200 });
    const specs = [
      {
        file: await download(vp, dir, "prune-b2nd.parquet"),
        b2nd: `${FIXTURES}/b2nd/f8-3d-edges.b2nd`,
        prune: { column: "dim_0", value: 20 },
      },
      {
        file: await download(vc, dir, "prune-climate.parquet"),
        zarr: `${FIXTURES}/table/climate.zarr`,
        dims: ["time", "lat", "lon"],
        coords: true,
        variables: variablesOf(vc),
        prune: { column: "time", value: 100 },
      },
    ];
    for (const r of checkFiles(dir, specs)) {
      expect(r.problems).toEqual([]);
      expect(r.pruned).toBeGreaterThan(0);
      expect(r.pruned).toBeLessThan(r.row_groups);
    }
    await arr.close();
  });

  it("the page index read by hyparquet: pages cover each column chunk, dimension bounds exact", async () => {
    const sources = [
      {
        name: "f8-3d-edges",
        open: () => openB2nd(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`),
        options: { rowGroupRows: 600, pageRows: 40 },
      },
      {
        name: "climate",
        open: () => openGroup("table/climate.zarr"),
        options: { table: "time,lat,lon", rowGroupRows: 200, pageRows: 20 },
      },
    ];
    for (const s of sources) {
      const source = await s.open();
      const vp = await virtualParquet(source as never, s.options);
      const file = asyncBuffer(vp);
      const meta = await parquetMetadataAsync(file);
      const rows = (await parquetReadObjects({ file, metadata: meta })) as Record<
        string,
        number | bigint
      >[];
      const dims = vp.layout.columns.filter((c) => c.kind === "dimension").map((c) => c.name);
      let groupStart = 0;
      let pagesChecked = 0;
      for (const rg of meta.row_groups) {
        const n = Number(rg.num_rows);
        for (const chunk of rg.columns) {
          const name = chunk.meta_data!.path_in_schema[0]!;
          const schema = meta.schema.find((e) => e.name === name)!;
          const oi = readOffsetIndex({
            view: new DataView(
              await file.slice(
                Number(chunk.offset_index_offset),
                Number(chunk.offset_index_offset) + chunk.offset_index_length!,
              ),
            ),
            offset: 0,
          });
          const locs = oi.page_locations;
          expect(Number(locs[0]!.offset)).toBe(Number(chunk.meta_data!.data_page_offset));
          expect(locs.reduce((t, p) => t + p.compressed_page_size, 0)).toBe(
            Number(chunk.meta_data!.total_compressed_size),
          );
          for (let p = 1; p < locs.length; p++) {
            expect(Number(locs[p]!.offset)).toBe(
              Number(locs[p - 1]!.offset) + locs[p - 1]!.compressed_page_size,
            );
          }
          if (!dims.includes(name)) {
            expect(chunk.column_index_offset, `${s.name} ${name}: no sidecar, no bounds`).toBe(
              undefined,
            );
            continue;
          }
          const ci = readColumnIndex(
            {
              view: new DataView(
                await file.slice(
                  Number(chunk.column_index_offset),
                  Number(chunk.column_index_offset) + chunk.column_index_length!,
                ),
              ),
              offset: 0,
            },
            schema,
          );
          locs.forEach((loc, p) => {
            const a = groupStart + Number(loc.first_row_index);
            const b = groupStart + (p + 1 < locs.length ? Number(locs[p + 1]!.first_row_index) : n);
            const values = rows.slice(a, b).map((r) => Number(r[name]));
            // (+ 0: a zero minimum is written as -0.0, as Parquet asks)
            expect(Number(ci.min_values[p]) + 0, `${s.name} ${name} page ${p}`).toBe(
              Math.min(...values) + 0,
            );
            expect(Number(ci.max_values[p]) + 0, `${s.name} ${name} page ${p}`).toBe(
              Math.max(...values) + 0,
            );
            expect(ci.null_pages[p]).toBe(false);
            pagesChecked++;
          });
        }
        groupStart += n;
      }
      expect(pagesChecked).toBeGreaterThan(meta.row_groups.length * dims.length);
      if ("close" in source) await source.close();
    }
  });

  it("hyparquet skips pages by the page index; the skipped pages' blocks are not decoded", async () => {
    const path = `${FIXTURES}/b2nd/f8-3d-edges.b2nd`;
    const arr = await openB2nd(path);
    // One row group per chunk slab (16 x 29 x 11 rows), pages of whole blocks along dim_0.
    const vp = await virtualParquet(arr, { pageRows: 5 * 29 * 11 });
    const meta = await parquetMetadataAsync(asyncBuffer(vp));
    const all = (await parquetReadObjects({ file: asyncBuffer(vp) })) as Record<
      string,
      number | bigint
    >[];
    const full = vp.stats.blocksDecoded;
    // A fresh file: nothing decoded is cached yet.
    const fresh = await virtualParquet(arr, { pageRows: 5 * 29 * 11 });
    const file = asyncBuffer(fresh);
    const got = (await parquetReadObjects({
      file,
      metadata: meta,
      filter: { dim_0: { $gte: 27n, $lt: 30n } },
      usePageIndex: true,
    })) as Record<string, number | bigint>[];
    const want = all.filter((r) => (r.dim_0 as bigint) >= 27n && (r.dim_0 as bigint) < 30n);
    expect(got.map((r) => r.value)).toEqual(want.map((r) => r.value));
    const decoded = fresh.stats.blocksDecoded;
    // hyparquet's view of the page index: the value pages it may need, by the bounds of dim_0.
    const slice = async (o: bigint | undefined, l: number | undefined) =>
      new DataView(await vp.read(Number(o), l!).then((b) => b.buffer as ArrayBuffer));
    let skipped = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const rg of meta.row_groups) {
      const dimChunk = rg.columns[0]!;
      const ci = readColumnIndex(
        {
          view: await slice(dimChunk.column_index_offset, dimChunk.column_index_length),
          offset: 0,
        },
        meta.schema[1]!,
      );
      const valueChunk = rg.columns[3]!;
      const locs = readOffsetIndex({
        view: await slice(valueChunk.offset_index_offset, valueChunk.offset_index_length),
        offset: 0,
      }).page_locations;
      locs.forEach((loc, p) => {
        const [min, max] = [Number(ci.min_values[p]), Number(ci.max_values[p])];
        const a = Number(loc.offset);
        const b = a + loc.compressed_page_size;
        const fetched = file.ranges.some(([s, e]) => s < b && e > a);
        if (max >= 27 && min < 30) {
          [lo, hi] = [Math.min(lo, min), Math.max(hi, max + 1)];
          expect(fetched, `needed page ${p} was not fetched`).toBe(true);
        } else {
          skipped++;
          expect(fetched, `page ${p} (dim_0 ${min}..${max}) was fetched`).toBe(false);
        }
      });
    }
    expect(skipped).toBeGreaterThan(0);
    // The pages read hold whole blocks: exactly the blocks B2ndArray.get decodes for their box.
    const box = await arr.get([
      { start: lo, stop: hi, step: 1 },
      { start: 0, stop: 29, step: 1 },
      { start: 0, stop: 11, step: 1 },
    ]);
    expect(decoded).toBe(box.stats.blocksDecoded);
    expect(decoded).toBeLessThan(full / 4);
    await arr.close();
  });
});

describe("what is decoded for which bytes", () => {
  it("footer, page index, page headers and dimension columns decode nothing", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`);
    const vp = await virtualParquet(arr, { rowGroupRows: 500, pageRows: 60 });
    const L = vp.layout;
    const tail = await vp.read(L.pageIndex.offset, vp.size - L.pageIndex.offset);
    // The footer length and magic are where Parquet readers look first.
    expect(new TextDecoder().decode(tail.subarray(tail.length - 4))).toBe("PAR1");
    const footerLength = new DataView(tail.buffer).getUint32(tail.length - 8, true);
    expect(footerLength).toBe(L.footer.size);
    await vp.read(0, 8);
    for (const rg of L.rowGroups) {
      for (const p of rg.columns[3]!.pages) await vp.read(p.offset, p.headerSize);
    }
    const chunks = L.rowGroups.flatMap((rg) =>
      rg.columns.filter((_, i) => L.columns[i]!.kind === "dimension"),
    );
    for await (const _ of vp.stream(chunks[5]!.offset, chunks[5]!.size)) {
      // drained
    }
    await Promise.all(chunks.map((c) => vp.read(c.offset, c.size)));
    expect(vp.stats.blocksDecoded).toBe(0);
    expect(vp.stats.chunksTouched).toBe(0);
    expect(vp.stats.bytesProduced).toBeGreaterThan(L.footer.size);
    await arr.close();
  });

  it("a variable page decodes the blocks B2ndArray.get decodes for the page's box", async () => {
    const path = `${FIXTURES}/b2nd/f8-3d-edges.b2nd`;
    let total = 0;
    for (const options of [
      { rowGroupRows: 500, pageRows: 60 },
      { pageRows: 5 * 29 * 11 },
      { rowGroupRows: 100000 },
    ]) {
      const arr = await openB2nd(path);
      const plan = await virtualParquet(arr, options);
      let pages = 0;
      for (const rg of plan.layout.rowGroups.filter((_, i) => i % 3 === 0)) {
        for (const [p, page] of rg.columns[3]!.pages.entries()) {
          const vp = await virtualParquet(arr, { ...options, cacheBytes: 0 });
          await vp.read(page.offset + page.headerSize, page.dataSize);
          const box = rg.pages[p]!.box;
          const want = await arr.get(box.map((r) => ({ ...r, step: 1 })));
          expect(vp.stats.blocksDecoded, JSON.stringify(box)).toBe(want.stats.blocksDecoded);
          expect(vp.stats.chunksTouched).toBe(want.stats.chunksTouched);
          pages++;
        }
      }
      expect(pages).toBeGreaterThan(0);
      total += pages;
      await arr.close();
    }
    expect(total).toBeGreaterThan(10);
  });
});
