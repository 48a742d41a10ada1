// The table commands of the CLI (dist/cli/main.js): `sql` in every output format with the
// answers NumPy gives (fixtures/generate_table.py), pushdown and projection shown by --stats,
// usage errors, and `export` to Parquet (read back by pyarrow and DuckDB) with a progress bar
// only on a terminal.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli, ensureBuilt, FIXTURES, runPython } from "./helpers.js";
import { close, readTableManifest } from "./table-helpers.js";

const manifest = readTableManifest();
const climate = `${FIXTURES}/table/climate.zarr`;
const dir = mkdtempSync(join(tmpdir(), "zb-table-cli-"));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csvRows(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => l.split(","));
}

const asNumber = (s: string) => (s === "" ? null : Number(s));

/** The CLI arguments that run a manifest SQL case on its fixture, as CSV with nulls. */
function sqlCsvArgs(query: string): string[] {
  const table = query.includes("FROM grid")
    ? `grid=${FIXTURES}/table/grid-v2.zarr`
    : `clim=${climate}#time,lat,lon`;
  return ["sql", query, "--table", table, "--format", "csv", "--nan-as-null", "--fill-as-null"];
}

describe("zarr-blosc2 sql", () => {
  for (const c of manifest.sql) {
    it(`${c.name} (--format csv)`, async () => {
      const r = await cli(...sqlCsvArgs(c.query));
      expect(r.status, r.stderr).toBe(0);
      const lines = csvRows(r.stdout);
      const body = lines.slice(1).map((l) => l.map(asNumber));
      expect(body.length).toBe(c.rows.length);
      for (const [i, row] of body.entries()) {
        for (const [j, v] of row.entries()) {
          expect(close(v, c.rows[i]![j]!), `${i},${j}: ${v}`).toBe(true);
        }
      }
      // The last line of output is the last result row.
      expect(lines.at(-1)!.map(asNumber)).toEqual(body.at(-1));
    });
  }

  it("json and table formats", async () => {
    const c = manifest.sql.find((x) => x.name === "group-by-lat")!;
    const json = await cli(
      "sql",
      c.query,
      "--table",
      `clim=${climate}`,
      "--format",
      "json",
      "--nan-as-null",
    );
    expect(json.status, json.stderr).toBe(0);
    const objs = JSON.parse(json.stdout) as Record<string, number>[];
    expect(
      objs
        .map((o) => [o.lat, o.m, o.n])
        .every((r, i) => r.every((v, j) => close(v!, c.rows[i]![j]!))),
    ).toBe(true);
    const table = await cli("sql", c.query, "--table", `clim=${climate}`, "--nan-as-null");
    expect(table.status, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]!.split("|").map((s) => s.trim())).toEqual(["lat", "m", "n"]);
    expect(lines.at(-1)).toBe(`(${c.rows.length} rows)`);
  });

  it("pushes WHERE on dimensions and the named variables into the read (--stats)", async () => {
    const q = "SELECT count(*), sum(temp) FROM clim WHERE lat BETWEEN -20 AND 30 AND lon = 90";
    const stat = (s: string) =>
      Object.fromEntries([...s.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])) as Record<
        string,
        string
      >;
    const on = await cli("sql", q, "--table", `clim=${climate}`, "--stats", "--format", "csv");
    const off = await cli(
      "sql",
      q,
      "--table",
      `clim=${climate}`,
      "--stats",
      "--format",
      "csv",
      "--no-pushdown",
    );
    expect(on.status, on.stderr).toBe(0);
    expect(off.status, off.stderr).toBe(0);
    expect(on.stdout).toBe(off.stdout);
    const c = manifest.where.find((w) => w.name === "lat-range-lon-eq")!;
    const son = stat(on.stderr);
    const soff = stat(off.stderr);
    expect(Number(son.rows)).toBe(c.rows);
    expect(Number(soff.rows)).toBe(8 * 12 * 16);
    expect(son.variables).toBe("temp");
    expect(Number(son.blocksDecoded)).toBeLessThan(Number(soff.blocksDecoded));
    expect(Number(son.bytesRead)).toBeLessThan(Number(soff.bytesRead));
    expect(Number(csvRows(on.stdout)[1]![0])).toBe(c.rows);
    console.log(`sql pushdown: ${on.stderr.trim()} | without: ${off.stderr.trim()}`);
  });

  it("--view: views re-read by a worker give the same answers", async () => {
    for (const c of manifest.sql) {
      const args = sqlCsvArgs(c.query);
      const v = await cli(...args, "--view", "--stats");
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout, c.name).toBe((await cli(...args)).stdout);
      // DuckDB's projection: only the variables the query uses were read.
      const used = ["temp", "precip", "a", "b"].filter((x) =>
        new RegExp(`\\b${x}\\b`).test(c.query),
      );
      expect(/variables=(\S+)/.exec(v.stderr)![1]!.split(",").sort(), c.name).toEqual(used.sort());
    }
  });

  it("several tables, a path inside a group, a b2nd file", async () => {
    const r = await cli(
      "sql",
      "SELECT (SELECT count(*) FROM c) AS nc, (SELECT count(*) FROM g) AS ng, (SELECT count(*) FROM e) AS ne, (SELECT count(*) FROM b) AS nb",
      "--table",
      `c=${climate}#time,lat,lon`,
      "--table",
      `g=${FIXTURES}/table/grid-v2.zarr`,
      "--table",
      `e=${climate}/elevation`,
      "--table",
      `b=${FIXTURES}/b2nd/i2-2d-aligned.b2nd`,
      "--format",
      "csv",
    );
    expect(r.status, r.stderr).toBe(0);
    const shape = (s: string, n: string) =>
      manifest.arrays.find((a) => a.store === s && a.name === n)!.shape;
    const size = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
    const b = runPython([
      "-c",
      "import sys, blosc2; print(blosc2.open(sys.argv[1]).size)",
      `${FIXTURES}/b2nd/i2-2d-aligned.b2nd`,
    ]);
    expect(csvRows(r.stdout)[1]!.map(Number)).toEqual([
      size(shape("climate", "temp")),
      size(shape("grid-v2", "a")),
      size(shape("climate", "elevation")),
      Number(b.stdout.trim()),
    ]);
    // elevation next to its coordinate arrays: lat and lon are coordinates, not indices
    const e = await cli(
      "sql",
      "SELECT min(lat), max(lon) FROM e",
      "--table",
      `e=${climate}/elevation`,
      "--format",
      "csv",
    );
    expect(csvRows(e.stdout)[1]!.map(Number)).toEqual([-55, 337.5]);
  });

  it("usage and input errors", async () => {
    const noTable = await cli("sql", "SELECT 1");
    expect(noTable.status).toBe(2);
    expect(noTable.stderr).toMatch(/--table/);
    const badFormat = await cli("sql", "SELECT 1", "--table", `c=${climate}`, "--format", "xml");
    expect(badFormat.status).toBe(2);
    const missing = await cli("sql", "SELECT 1", "--table", `c=${dir}/nope.zarr`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.zarr: no such file/);
    const ambiguous = await cli("sql", "SELECT count(*) FROM c", "--table", `c=${climate}`);
    expect(ambiguous.status).toBe(1);
    expect(ambiguous.stderr).toMatch(/holds 2 tables/);
    const badSql = await cli("sql", "SELEC nothing", "--table", `c=${climate}#lat,lon`);
    expect(badSql.status).toBe(1);
    expect(badSql.stderr).toMatch(/Parser Error/i);
  });
});

describe("zarr-blosc2 export", () => {
  it("writes Parquet that pyarrow and DuckDB read back equal to NumPy", async () => {
    const out = join(dir, "grid.parquet");
    const r = await cli(
      "export",
      `${FIXTURES}/table/grid-v2.zarr`,
      "--parquet",
      out,
      "--fill-as-null",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(""); // not a terminal: no progress bar
    expect(r.stdout).toMatch(/60 rows/);
    const spec = join(dir, "grid.json");
    writeFileSync(
      spec,
      JSON.stringify({
        zarr: `${FIXTURES}/table/grid-v2.zarr`,
        dims: ["y", "x"],
        variables: ["a", "b"],
        chunks: [3, 5],
        fill_as_null: true,
      }),
    );
    const check = runPython(["test/py/check_parquet.py", out, spec]);
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).problems).toEqual([]);
  });

  it("shows a progress bar on a terminal", () => {
    const out = join(dir, "climate.parquet");
    // script(1) gives the command a pseudo-terminal.
    const cmd = `${process.execPath} ${CLI} export ${climate} --parquet ${out} --table time,lat,lon --row-group-rows 96`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[#{30}\] 100% 1536\/1536 rows/);
    expect(r.stdout).toMatch(/\[[#.]{30}\]\s+\d+% 96\/1536 rows/);
  });

  it("--where exports only the box, like the where option", async () => {
    const c = manifest.where.find((w) => w.name === "time-gte-lon-lt")!;
    const out = join(dir, "where.parquet");
    const r = await cli(
      "export",
      climate,
      "--parquet",
      out,
      "--columns",
      "temp",
      "--where",
      "time>=100,lon<50",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`: ${c.rows} rows`));
    const q = runPython([
      "-c",
      "import sys, duckdb; print(duckdb.sql(f\"SELECT count(*), min(time), max(lon) FROM read_parquet('{sys.argv[1]}')\").fetchall()[0])",
      out,
    ]);
    expect(q.status, q.stderr).toBe(0);
    const [n, tmin, lonmax] = q.stdout.trim().replace(/[()]/g, "").split(",").map(Number);
    expect(n).toBe(c.rows);
    expect(tmin).toBeGreaterThanOrEqual(100);
    expect(lonmax).toBeLessThan(50);
    const bad = await cli("export", climate, "--parquet", out, "--where", "lat=abc");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--where: "lat=abc" needs a number/);
  });

  it("usage errors", async () => {
    expect((await cli("export", climate)).status).toBe(2);
    expect((await cli("export", "--parquet", join(dir, "x.parquet"))).status).toBe(2);
    const tables = await cli("export", climate, "--parquet", join(dir, "x.parquet"));
    expect(tables.status).toBe(1);
    expect(tables.stderr).toMatch(/holds 2 tables/);
  });
});
