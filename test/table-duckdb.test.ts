// registerTable: real SQL in DuckDB (aggregates, GROUP BY over a dimension, range filters)
// over the table fixtures, compared with NumPy's answers from fixtures/generate_table.py;
// pushdown of `where` and of predicates found in the SQL text, proved by stats.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd, registerTable, type ScanStats } from "../src/index.js";
import { extractDimensionWhere } from "../src/table/sql-where.js";
import { whereToRanges } from "../src/table/where.js";
import { ensureBuilt, FIXTURES, ROOT } from "./helpers.js";
import { close, npyValues, openGroup, readTableManifest } from "./table-helpers.js";

const manifest = readTableManifest();
type Connection = Awaited<ReturnType<DuckDBInstance["connect"]>>;

let instance: DuckDBInstance;
let connection: Connection;
beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
});
afterAll(() => {
  connection?.closeSync();
  instance?.closeSync();
});

async function rows(sql: string): Promise<(number | null)[][]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowsJS().map((r) => r.map((v) => (v === null ? null : Number(v))));
}

function sameRows(got: (number | null)[][], want: (number | null)[][]): boolean {
  return (
    got.length === want.length &&
    got.every((r, i) => r.length === want[i]!.length && r.every((v, j) => close(v, want[i]![j]!)))
  );
}

async function register(name: string, where?: Record<string, unknown>) {
  const stats = {} as ScanStats;
  if (name === "clim") {
    await registerTable(connection, "clim", (await openGroup("table/climate.zarr")) as never, {
      table: "time,lat,lon",
      nanAsNull: true,
      fillAsNull: true,
      stats,
      ...(where ? { where: where as never } : {}),
    });
  } else {
    await registerTable(connection, "grid", (await openGroup("table/grid-v2.zarr")) as never, {
      fillAsNull: true,
      stats,
    });
  }
  return stats;
}

const climDims = async () => {
  const dims = ["time", "lat", "lon"];
  return dims.map((name) => {
    const coords = npyValues("climate", name).values;
    return { name, size: coords.length, coords };
  });
};

describe("SQL over registered tables equals NumPy", () => {
  for (const c of manifest.sql) {
    it(`${c.name}: ${c.query}`, async () => {
      const table = c.query.includes("FROM grid") ? "grid" : "clim";
      await register(table);
      expect(sameRows(await rows(c.query), c.rows)).toBe(true);
    });
  }

  for (const c of manifest.sql.filter((x) => x.pushdown)) {
    it(`${c.name}: pushed down, the same answer from fewer blocks`, async () => {
      const full = await register("clim");
      const pushed = await register("clim", c.pushdown);
      expect(sameRows(await rows(c.query), c.rows)).toBe(true);
      expect(pushed.blocksDecoded).toBeLessThan(full.blocksDecoded);
      expect(pushed.rows).toBeLessThan(full.rows);
    });

    it(`${c.name}: the predicates found in the SQL select the same box`, async () => {
      const where = extractDimensionWhere(c.query, "clim", ["time", "lat", "lon"]);
      expect(where).toBeDefined();
      const dims = await climDims();
      expect(whereToRanges(where, dims)).toEqual(whereToRanges(c.pushdown as never, dims));
    });
  }
});

describe("predicate extraction gives up when unsure", () => {
  const dims = ["x", "y"];
  it.each([
    "SELECT * FROM t WHERE x > 1 OR y < 2",
    "SELECT * FROM t WHERE NOT x > 1",
    "SELECT * FROM t JOIN u ON t.x = u.x WHERE x > 1",
    "SELECT * FROM t WHERE x > (SELECT 1)",
    "SELECT * FROM t WHERE x IN (1, 2)",
    "SELECT * FROM other WHERE x > 1",
    "SELECT * FROM t",
    "SELECT * FROM t WHERE name = 'x > 1'",
  ])("%s", (sql) => {
    expect(extractDimensionWhere(sql, "t", dims)).toBeUndefined();
  });
  it("keeps dimension terms, ignores others, merges bounds", () => {
    expect(
      extractDimensionWhere(
        "select avg(v) from t where 2 <= x and v > 3 and x < 10 and y between -1.5 and 4e1 group by y",
        "t",
        dims,
      ),
    ).toEqual({ x: { gte: 2, lt: 10 }, y: { gte: -1.5, lte: 40 } });
  });
});

describe("registration", () => {
  it("a b2nd array with columns dim_0…, value; a re-register replaces the table", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/i2-2d-aligned.b2nd`);
    const whole = await arr.get();
    const values = Array.from(whole.data as Int16Array);
    const n = arr.shape[0]! * arr.shape[1]!;
    const r = await registerTable(connection, "b", arr);
    expect(r.columns).toEqual([
      { name: "dim_0", type: "BIGINT" },
      { name: "dim_1", type: "BIGINT" },
      { name: "value", type: "SMALLINT" },
    ]);
    const want = values.reduce((a, b) => a + b, 0);
    expect(await rows("SELECT count(*), sum(value), sum(dim_0 * 1000 + dim_1) FROM b")).toEqual([
      [
        n,
        want,
        // sum over the grid of i * 1000 + j
        arr.shape[1]! * 1000 * ((arr.shape[0]! * (arr.shape[0]! - 1)) / 2) +
          arr.shape[0]! * ((arr.shape[1]! * (arr.shape[1]! - 1)) / 2),
      ],
    ]);
    await registerTable(connection, "b", arr, { where: { dim_0: 0 } });
    expect(await rows("SELECT count(*) FROM b")).toEqual([[arr.shape[1]!]]);
    // A TEMPORARY table, replaced by a second registration.
    await registerTable(connection, "tb", arr, { temporary: true, where: { dim_0: 1 } });
    await registerTable(connection, "tb", arr, { temporary: true });
    expect(await rows("SELECT count(*) FROM tb")).toEqual([[n]]);
    const kind = await connection.runAndReadAll(
      "SELECT temporary FROM duckdb_tables() WHERE table_name = 'tb'",
    );
    expect(kind.getRowsJS()).toEqual([[true]]);
    await arr.close();
  });
});

describe('mode "view": a view re-read by a scan worker for every query', () => {
  // The worker runs dist/table/scan-worker.js: use the built package.
  type Dist = typeof import("../src/index.js");
  let dist: Dist;
  beforeAll(async () => {
    ensureBuilt();
    dist = (await import(`${ROOT}dist/index.js`)) as Dist;
  });
  const climate = `${FIXTURES}/table/climate.zarr`;

  it("answers every SQL case like NumPy", async () => {
    const clim = await dist.registerTable(connection, "clim", climate, {
      mode: "view",
      table: "time,lat,lon",
      nanAsNull: true,
      fillAsNull: true,
    });
    const grid = await dist.registerTable(connection, "grid", `${FIXTURES}/table/grid-v2.zarr`, {
      mode: "view",
      fillAsNull: true,
    });
    for (const c of manifest.sql) expect(sameRows(await rows(c.query), c.rows), c.name).toBe(true);
    expect(clim.scans + grid.scans).toBe(manifest.sql.length);
    await clim.close();
    await grid.close();
  });

  it("reads only the columns DuckDB projects, again for each query", async () => {
    const stats = {} as ScanStats;
    const v = await dist.registerTable(connection, "clim", climate, {
      mode: "view",
      table: "time,lat,lon",
      stats,
    });
    await rows("SELECT sum(temp) FROM clim");
    expect(stats.variablesRead).toEqual(["temp"]);
    const first = stats.bytesRead;
    expect(first).toBeGreaterThan(0);
    await rows("SELECT max(precip) FROM clim WHERE lat > 0");
    expect(stats.variablesRead).toEqual(["precip"]);
    expect(await rows("SELECT count(*) FROM clim")).toEqual([[8 * 12 * 16]]);
    expect(stats.variablesRead).toEqual([]);
    expect(stats.bytesRead).toBe(0);
    expect(v.scans).toBe(3);
    // A query that stops early leaves its scan unfinished; later queries still work.
    expect((await rows("SELECT time, lat, lon FROM clim LIMIT 3")).length).toBe(3);
    await rows("SELECT sum(temp) FROM clim");
    expect(stats.bytesRead).toBe(first);
    await v.close();
  });

  it("a source that breaks after registration fails the query, naming the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-view-"));
    const file = join(dir, "a.b2nd");
    copyFileSync(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`, file);
    const v = await dist.registerTable(connection, "gone", file, { mode: "view" });
    expect(await rows("SELECT count(*) FROM gone")).toEqual([[37 * 29 * 11]]);
    rmSync(file);
    await expect(rows("SELECT sum(value) FROM gone")).rejects.toThrow(/scan worker: .*a\.b2nd/);
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("where at registration limits every query; objects are refused", async () => {
    const c = manifest.where.find((w) => w.name === "lat-range-lon-eq")!;
    const v = await dist.registerTable(connection, "part", climate, {
      mode: "view",
      table: "time,lat,lon",
      where: c.where as never,
    });
    expect(v.rows).toBe(c.rows);
    expect(await rows("SELECT count(*) FROM part")).toEqual([[c.rows]]);
    await v.close();
    const g = await openGroup("table/climate.zarr");
    await expect(dist.registerTable(connection, "x", g as never, { mode: "view" })).rejects.toThrow(
      /path or URL/,
    );
  });
});
