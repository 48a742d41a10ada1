// toArrow: layout (dimension columns from coordinates or indices, one column per variable),
// pushdown of `where` and `columns` proved by stats and by the keys a store was asked for,
// nulls, batching, and the slab planner. Expected values come from NumPy
// (fixtures/generate_table.py) or from independent formulas here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { afterAll, describe, expect, it } from "vitest";
import {
  listTables,
  MissingDependencyError,
  OptionsError,
  openB2nd,
  type ScanStats,
  type ToArrowOptions,
  toArrow,
} from "../src/index.js";
import { loadOptional } from "../src/table/deps.js";
import { planSlabs } from "../src/table/scan.js";
import { conditionToRange } from "../src/table/where.js";
import { FIXTURES, readNpy, runPython } from "./helpers.js";
import {
  close,
  meshColumn,
  npyValues,
  numbersOf,
  openArray,
  openGroup,
  RecordingStore,
  readTableManifest,
} from "./table-helpers.js";

const manifest = readTableManifest();

async function collect(source: Parameters<typeof toArrow>[0], options: ToArrowOptions = {}) {
  const batches: RecordBatch[] = [];
  for await (const b of toArrow<RecordBatch>(source, options)) batches.push(b);
  const names = batches[0]!.schema.fields.map((f) => f.name);
  const columns: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const b of batches) {
    for (const n of names) {
      const v = b.getChild(n)!;
      for (let i = 0; i < v.length; i++) columns[n]!.push(v.get(i));
    }
  }
  return { batches, names, columns, schema: batches[0]!.schema };
}

const num = (xs: unknown[]) => xs.map((x) => (x === null ? null : Number(x)));
const sameNumbers = (a: (number | null)[], b: (number | null)[]) =>
  a.length === b.length && a.every((x, i) => Object.is(x, b[i]) || x === b[i]);

describe("layout", () => {
  it("lists one table per set of arrays sharing dimensions, coordinates excluded", async () => {
    for (const [path, want] of Object.entries(manifest.tables)) {
      const source = path.endsWith("plain.zarr") ? await openArray(path) : await openGroup(path);
      const tables = await listTables(source as never);
      const got = tables
        .map((t) => ({
          name: t.name,
          dims: t.dims.map((d) => d.name),
          variables: t.variables.map((v) => v.name).sort(),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const expected = want
        .map((t) => ({ ...t, variables: [...t.variables].sort() }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(got, path).toEqual(expected);
    }
  });

  it("v3 group: coordinate columns, then variables, equal to NumPy in C order", async () => {
    const g = await openGroup("table/climate.zarr");
    const { names, columns, schema } = await collect(g as never, { table: "time,lat,lon" });
    // Variables in the order the group lists them (by name).
    expect(names).toEqual(["time", "lat", "lon", "precip", "temp"]);
    expect(schema.fields.map((f) => String(f.type))).toEqual([
      "Int64",
      "Float64",
      "Float64",
      "Float64",
      "Float32",
    ]);
    const temp = npyValues("climate", "temp");
    const shape = temp.shape;
    for (const [d, dim] of ["time", "lat", "lon"].entries()) {
      const coords = npyValues("climate", dim).values;
      expect(sameNumbers(num(columns[dim]!), meshColumn(coords, shape, d)), dim).toBe(true);
    }
    expect(sameNumbers(num(columns.temp!), temp.values)).toBe(true);
    expect(sameNumbers(num(columns.precip!), npyValues("climate", "precip").values)).toBe(true);
  });

  it("the second table of the group (elevation over lat, lon)", async () => {
    const g = await openGroup("table/climate.zarr");
    const { names, columns } = await collect(g as never, { columns: ["elevation"] });
    expect(names).toEqual(["lat", "lon", "elevation"]);
    const e = npyValues("climate", "elevation");
    expect(num(columns.elevation!)).toEqual(e.values);
    expect(num(columns.lon!)).toEqual(meshColumn(npyValues("climate", "lon").values, e.shape, 1));
  });

  it("v2 group: _ARRAY_DIMENSIONS and coordinate arrays", async () => {
    const g = await openGroup("table/grid-v2.zarr");
    const { names, columns } = await collect(g as never);
    expect(names).toEqual(["y", "x", "a", "b"]);
    const a = npyValues("grid-v2", "a");
    expect(num(columns.a!)).toEqual(a.values);
    expect(num(columns.b!)).toEqual(npyValues("grid-v2", "b").values);
    expect(num(columns.y!)).toEqual(meshColumn(npyValues("grid-v2", "y").values, a.shape, 0));
    expect(num(columns.x!)).toEqual(meshColumn(npyValues("grid-v2", "x").values, a.shape, 1));
  });

  it("an array without dimension names: dim_0, dim_1 int64 indices and its own name", async () => {
    const arr = await openArray("table/plain.zarr");
    const { names, columns, schema } = await collect(arr as never, { batchRows: 4 });
    expect(names).toEqual(["dim_0", "dim_1", "value"]);
    expect(String(schema.fields[0]!.type)).toBe("Int64");
    const v = npyValues("plain", "value");
    expect(num(columns.value!)).toEqual(v.values);
    const idx = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(num(columns.dim_0!)).toEqual(meshColumn(idx(5), v.shape, 0));
    expect(num(columns.dim_1!)).toEqual(meshColumn(idx(7), v.shape, 1));
  });

  describe("b2nd arrays", () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-table-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    for (const name of ["f8-3d-edges", "i2-2d-aligned", "f8-3d-be", "b1-2d"]) {
      it(`${name}: a lone unnamed array gives dim_0… and value, equal to python-blosc2`, async () => {
        const path = `${FIXTURES}/b2nd/${name}.b2nd`;
        const out = join(dir, `${name}.npy`);
        const r = runPython([
          "-c",
          "import sys, blosc2, numpy as np; a = blosc2.open(sys.argv[1])[...]; np.save(sys.argv[2], a.astype(a.dtype.newbyteorder('<')))",
          path,
          out,
        ]);
        expect(r.status, r.stderr).toBe(0);
        const npy = readNpy(out);
        const want = npy.dtype === "|b1" ? Array.from(npy.data) : numbersOf(npy.dtype, npy.data);
        const arr = await openB2nd(path);
        const { names, columns } = await collect(arr, { batchRows: 97 });
        expect(names).toEqual([...npy.shape.map((_, d) => `dim_${d}`), "value"]);
        const values = columns.value!.map((x) => (typeof x === "boolean" ? Number(x) : Number(x)));
        expect(sameNumbers(values, want)).toBe(true);
        for (let d = 0; d < npy.shape.length; d++) {
          const idx = Array.from({ length: npy.shape[d]! }, (_, i) => i);
          expect(num(columns[`dim_${d}`]!)).toEqual(meshColumn(idx, npy.shape, d));
        }
        await arr.close();
      });
    }
  });
});

/** Chunks and blocks a box touches: counted independently of the planner. */
function touched(box: [number, number][], chunk: number[], block: number[]) {
  let chunks = 1;
  let blocks = 0;
  const perDim = box.map(([lo, hi], d) => {
    const list: number[] = [];
    if (hi <= lo) return list;
    for (let c = Math.floor(lo / chunk[d]!); c * chunk[d]! < hi; c++) {
      const a = Math.max(lo, c * chunk[d]!) - c * chunk[d]!;
      const b = Math.min(hi, (c + 1) * chunk[d]!) - c * chunk[d]!;
      list.push(Math.floor((b - 1) / block[d]!) - Math.floor(a / block[d]!) + 1);
    }
    return list;
  });
  chunks = perDim.reduce((n, l) => n * l.length, 1);
  // blocks: sum over chunk combinations of the product of per-dimension block counts
  blocks = perDim.reduce((acc, l) => acc * l.reduce((a, b) => a + b, 0), 1);
  return { chunks, blocks };
}

describe("where pushdown", () => {
  for (const c of manifest.where) {
    it(`${c.name}: reads only the box NumPy selects`, async () => {
      const g = await openGroup("table/climate.zarr");
      const stats = {} as ScanStats;
      const { columns, batches } = await collect(g as never, {
        where: c.where as ToArrowOptions["where"],
        columns: ["temp"],
        stats,
      });
      expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(c.rows);
      const temp = num(columns.temp!) as number[];
      expect(temp.filter(Number.isNaN).length).toBe(c.temp_nan);
      const sum = temp.filter((x) => !Number.isNaN(x)).reduce((a, b) => a + b, 0);
      expect(close(sum, c.temp_nansum)).toBe(true);
      // Chunks (2, 6, 8) of b2nd frames with blocks (1, 3, 8).
      const want = touched(c.box, [2, 6, 8], [1, 3, 8]);
      expect(stats.chunksTouched).toBe(want.chunks);
      expect(stats.blocksDecoded).toBe(want.blocks);
      expect(stats.variablesRead).toEqual(["temp"]);
    });
  }

  it("reads fewer bytes and blocks than a full scan", async () => {
    const full = {} as ScanStats;
    const part = {} as ScanStats;
    await collect((await openGroup("table/climate.zarr")) as never, {
      columns: ["temp"],
      stats: full,
    });
    await collect((await openGroup("table/climate.zarr")) as never, {
      columns: ["temp"],
      where: { lat: [-20, 30], lon: 90 },
      stats: part,
    });
    expect(full.blocksDecoded).toBe(16 * 4); // every block: 4 x 2 x 2 chunks of 2 x 2 x 1 blocks
    expect(part.blocksDecoded).toBeLessThanOrEqual(full.blocksDecoded / 4);
    // 8 of the 16 chunks are touched; each frame's header and index are read whatever the box.
    expect(part.bytesRead).toBeLessThan(full.bytesRead * 0.75);
    console.log(
      `pushdown: full scan ${full.bytesRead} bytes / ${full.blocksDecoded} blocks; lat in [-20, 30], lon = 90: ${part.bytesRead} bytes / ${part.blocksDecoded} blocks`,
    );
  });

  it("index units on dimensions without coordinates (b2nd)", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`);
    const stats = {} as ScanStats;
    const { columns } = await collect(arr, {
      where: { dim_0: { gte: 3, lt: 5 }, dim_2: 2 },
      stats,
    });
    const n = 2 * arr.shape[1]!;
    expect(columns.value!.length).toBe(n);
    expect(new Set(num(columns.dim_0!))).toEqual(new Set([3, 4]));
    expect(new Set(num(columns.dim_2!))).toEqual(new Set([2]));
    const whole = await arr.get();
    const want: number[] = [];
    for (let i = 3; i < 5; i++)
      for (let j = 0; j < arr.shape[1]!; j++)
        want.push((whole.data as Float64Array)[i * whole.stride[0]! + j * whole.stride[1]! + 2]!);
    expect(num(columns.value!)).toEqual(want);
    await arr.close();
  });

  it("unrequested variables are never fetched", async () => {
    const store = new RecordingStore(`${FIXTURES}/table/climate.zarr`);
    const g = await openGroup("table/climate.zarr", store);
    const stats = {} as ScanStats;
    const { names } = await collect(g as never, { columns: ["precip"], stats });
    expect(names).toEqual(["time", "lat", "lon", "precip"]);
    expect(stats.variablesRead).toEqual(["precip"]);
    expect(store.keys.some((k) => k.startsWith("/precip/c/"))).toBe(true);
    expect(store.keys.filter((k) => k.startsWith("/temp/c/"))).toEqual([]);
    expect(store.keys.filter((k) => k.startsWith("/elevation/c/"))).toEqual([]);
  });

  it("monotonic decreasing and non-monotonic coordinates", () => {
    const dec = [50, 40, 30, 20, 10];
    expect(conditionToRange("lat", [15, 45], 5, dec)).toEqual({ start: 1, stop: 4 });
    expect(conditionToRange("lat", { gt: 40 }, 5, dec)).toEqual({ start: 0, stop: 1 });
    expect(() => conditionToRange("lat", 3, 4, [1, 3, 2, 4])).toThrow(OptionsError);
    expect(() => conditionToRange("lat", 3, 3, [1, Number.NaN, 4])).toThrow(
      /not strictly monotonic/,
    );
  });

  it("bad where and columns are typed errors", async () => {
    const g = await openGroup("table/climate.zarr");
    await expect(
      collect(g as never, { table: "time,lat,lon", where: { temp: 3 } }),
    ).rejects.toThrow(/"temp" is not a dimension column \(a variable/);
    await expect(
      collect(g as never, { table: "time,lat,lon", where: { depth: 3 } }),
    ).rejects.toThrow(OptionsError);
    await expect(collect(g as never, { columns: ["nope"] })).rejects.toThrow(OptionsError);
    await expect(collect(g as never)).rejects.toThrow(/holds 2 tables/);
    await expect(collect(g as never, { batchRows: 0, table: "lat,lon" })).rejects.toThrow(
      /batchRows/,
    );
  });
});

describe("nulls and batches", () => {
  it("nanAsNull and fillAsNull match NumPy's NaN and fill-value counts", async () => {
    const g = await openGroup("table/climate.zarr");
    const { batches } = await collect(g as never, {
      table: "time,lat,lon",
      nanAsNull: true,
      fillAsNull: true,
      batchRows: 500,
    });
    const temp = npyValues("climate", "temp").values;
    const precip = npyValues("climate", "precip").values;
    const nulls = (name: string) => batches.reduce((n, b) => n + b.getChild(name)!.nullCount, 0);
    expect(nulls("temp")).toBe(temp.filter(Number.isNaN).length);
    expect(nulls("precip")).toBe(precip.filter((x) => x === -9999).length);
    expect(nulls("lat")).toBe(0);
    const firstNull = precip.indexOf(-9999);
    const b = Math.floor(firstNull / 500);
    expect(batches[b]!.getChild("precip")!.get(firstNull % 500)).toBeNull();
  });

  it("fillValue gives b2nd arrays (which have none) a value to turn into null", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/u1-2d-clevel0.b2nd`);
    const all = Array.from((await arr.get()).data as Uint8Array);
    const fill = all[3]!;
    const { batches } = await collect(arr, { fillAsNull: true, fillValue: fill, batchRows: 128 });
    const nulls = batches.reduce((n, b) => n + b.getChild("value")!.nullCount, 0);
    expect(nulls).toBe(all.filter((v) => v === fill).length);
    expect(batches[0]!.getChild("value")!.get(3)).toBeNull();
    await arr.close();
  });

  it("batches hold at most batchRows rows and add up to the table", async () => {
    const g = await openGroup("table/climate.zarr");
    for (const batchRows of [1, 7, 100, 1536, 5000]) {
      const { batches, columns } = await collect(g as never, { table: "time,lat,lon", batchRows });
      expect(batches.every((b) => b.numRows <= batchRows)).toBe(true);
      expect(columns.temp!.length).toBe(8 * 12 * 16);
      expect(sameNumbers(num(columns.temp!), npyValues("climate", "temp").values)).toBe(true);
    }
  });

  it("an empty selection yields one empty batch with the schema", async () => {
    const g = await openGroup("table/climate.zarr");
    const { batches, names } = await collect(g as never, {
      table: "lat,lon",
      where: { lat: 1000 },
    });
    expect(batches.length).toBe(1);
    expect(batches[0]!.numRows).toBe(0);
    expect(names).toEqual(["lat", "lon", "elevation"]);
  });
});

describe("slab planner", () => {
  // Every point of the box exactly once, in C order; slabs inside one chunk when not merging.
  function enumerate(ranges: { start: number; stop: number }[]): string[] {
    const out: string[] = [];
    const rec = (d: number, prefix: number[]) => {
      if (d === ranges.length) {
        out.push(prefix.join(","));
        return;
      }
      for (let i = ranges[d]!.start; i < ranges[d]!.stop; i++) rec(d + 1, [...prefix, i]);
    };
    rec(0, []);
    return out;
  }
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  it("covers random boxes in C order with aligned slabs", () => {
    for (let t = 0; t < 300; t++) {
      const ndim = 1 + rand(3);
      const shape = Array.from({ length: ndim }, () => 1 + rand(12));
      const chunk = shape.map((s) => 1 + rand(s));
      const block = chunk.map((c) => 1 + rand(c));
      const ranges = shape.map((s) => {
        const a = rand(s);
        return { start: a, stop: a + 1 + rand(s - a) };
      });
      const maxRows = 1 + rand(40);
      const merge = rand(2) === 0;
      const slabs = planSlabs(ranges, chunk, block, maxRows, merge);
      const got = slabs.flatMap((s) => enumerate(s));
      expect(got).toEqual(enumerate(ranges));
      const counts = ranges.map((r) => r.stop - r.start);
      let k = 0;
      while (k < ndim - 1 && counts.slice(k + 1).reduce((a, b) => a * b, 1) > maxRows) k++;
      for (const s of slabs) {
        expect(s.reduce((n, r) => n * (r.stop - r.start), 1)).toBeLessThanOrEqual(maxRows);
        const r = s[k]!;
        const firstChunk = Math.floor(r.start / chunk[k]!);
        const lastChunk = Math.floor((r.stop - 1) / chunk[k]!);
        if (!merge) expect(lastChunk, JSON.stringify({ s, chunk, ranges })).toBe(firstChunk);
      }
    }
  });
});

describe("optional dependencies", () => {
  it("a missing package is a MissingDependencyError naming it", async () => {
    const name = "zarr-blosc2-no-such-package";
    const err = await loadOptional(name, "toArrow", () => import(name)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDependencyError);
    expect((err as Error).message).toBe(
      `toArrow needs the npm package ${name}: npm install ${name}`,
    );
    // Other failures pass through unchanged.
    const boom = new Error("boom");
    await expect(loadOptional(name, "toArrow", () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
