// toParquet: files read back by pyarrow and DuckDB (Python) equal to NumPy, row groups
// aligned to chunks with min/max statistics on dimension columns (test/py/check_parquet.py).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openB2nd, toParquet } from "../src/index.js";
import { FIXTURES, runPython } from "./helpers.js";
import { openGroup, readTableManifest } from "./table-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zb-parquet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(
  file: string,
  spec: object,
): { problems: string[]; row_groups: number; rows: number } {
  const specPath = `${file}.json`;
  writeFileSync(specPath, JSON.stringify(spec));
  const r = runPython(["test/py/check_parquet.py", file, specPath]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const climate = {
  zarr: `${FIXTURES}/table/climate.zarr`,
  dims: ["time", "lat", "lon"],
  variables: ["precip", "temp"],
  chunks: [4, 6, 16], // precip's, the first variable: slabs follow its chunks
};

describe("toParquet", () => {
  it("a group table with nulls reads back equal in pyarrow and DuckDB, one row group per chunk", async () => {
    const file = join(dir, "climate.parquet");
    const g = await openGroup("table/climate.zarr");
    const r = await toParquet(g as never, file, {
      table: "time,lat,lon",
      nanAsNull: true,
      fillAsNull: true,
    });
    const got = check(file, { ...climate, nan_as_null: true, fill_as_null: true });
    expect(got.problems).toEqual([]);
    expect(got.rows).toBe(8 * 12 * 16);
    expect(got.row_groups).toBe(Math.ceil(8 / climate.chunks[0]!));
    expect(r.rowGroups).toBe(got.row_groups);
  });

  it("small row groups split chunk slabs, still inside one chunk", async () => {
    const file = join(dir, "climate-small.parquet");
    const g = await openGroup("table/climate.zarr");
    const r = await toParquet(g as never, file, { table: "time,lat,lon", rowGroupRows: 100 });
    const got = check(file, climate);
    expect(got.problems).toEqual([]);
    // 12 x 16 = 192 rows per time step > 100: one time step x one lat chunk (6 x 16 = 96 rows)
    expect(got.row_groups).toBe(8 * 2);
    expect(r.rowGroupRows.every((n) => n <= 100)).toBe(true);
  });

  it("a v2 group and a b2nd array", async () => {
    const file = join(dir, "grid.parquet");
    await toParquet((await openGroup("table/grid-v2.zarr")) as never, file, { fillAsNull: true });
    const got = check(file, {
      zarr: `${FIXTURES}/table/grid-v2.zarr`,
      dims: ["y", "x"],
      variables: ["a", "b"],
      chunks: [3, 5],
      fill_as_null: true,
    });
    expect(got.problems).toEqual([]);
    for (const name of ["f8-3d-edges", "b1-2d", "i4-2d-be"]) {
      const path = `${FIXTURES}/b2nd/${name}.b2nd`;
      const arr = await openB2nd(path);
      const out = join(dir, `${name}.parquet`);
      await toParquet(arr, out, { rowGroupRows: 64 });
      const res = check(out, { b2nd: path, chunks: arr.chunkShape });
      expect(res.problems, name).toEqual([]);
      await arr.close();
    }
  });

  it("where and columns are pushed down", async () => {
    const c = readTableManifest().where.find((w) => w.name === "time-gte-lon-lt")!;
    const file = join(dir, "where.parquet");
    const r = await toParquet((await openGroup("table/climate.zarr")) as never, file, {
      columns: ["temp"],
      where: c.where as never,
    });
    expect(r.rows).toBe(c.rows);
    expect(r.columns.map((x) => x.name)).toEqual(["time", "lat", "lon", "temp"]);
    expect(r.stats.variablesRead).toEqual(["temp"]);
    const q = runPython([
      "-c",
      "import sys, duckdb; print(duckdb.sql(f\"SELECT count(*), sum(temp) FROM read_parquet('{sys.argv[1]}') WHERE NOT isnan(temp)\").fetchall()[0])",
      file,
    ]);
    expect(q.status, q.stderr).toBe(0);
    const [n, s] = q.stdout.trim().replace(/[()]/g, "").split(",").map(Number);
    expect(n).toBe(c.rows - c.temp_nan);
    expect(Math.abs(s! - c.temp_nansum)).toBeLessThan(1e-6 * Math.abs(c.temp_nansum));
  });
});
