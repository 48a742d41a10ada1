// Every b2nd fixture dtype the table layer takes (bool, int8…uint64, float16…float64, big-endian,
// sparse frames, 0-d and zero-length arrays) through all three outputs: Arrow values, DuckDB
// aggregates and a Parquet file read back by pyarrow and DuckDB-python, each compared with
// what python-blosc2 reads (test/py/table_expect.py, test/py/check_parquet.py).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd, registerTable, toArrow, toParquet } from "../src/index.js";
import { FIXTURES, readB2ndManifest, runPython } from "./helpers.js";

// Left out: Caterva-era files (python-blosc2 opens them only as SChunks) and uninitialized
// chunks (python-blosc2 returns whatever memory held; this library reads zeros).
const arrays = readB2ndManifest().arrays.filter(
  (a) =>
    !a.unsupported && !a.dtype.includes("c") && a.metalayer === "b2nd" && a.special !== "uninit",
);
interface Expect {
  path: string;
  shape: number[];
  values: string[];
  count: number;
  min: string | null;
  max: string | null;
}
const dir = mkdtempSync(join(tmpdir(), "zb-table-dtypes-"));
const expected = new Map<string, Expect>();
let instance: DuckDBInstance;
let connection: Awaited<ReturnType<DuckDBInstance["connect"]>>;

beforeAll(async () => {
  const r = runPython(["test/py/table_expect.py", ...arrays.map((a) => `${FIXTURES}/${a.path}`)]);
  expect(r.status, r.stderr).toBe(0);
  for (const line of r.stdout.trim().split("\n")) {
    const e = JSON.parse(line) as Expect;
    expected.set(e.path, e);
  }
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
});
afterAll(() => {
  connection?.closeSync();
  instance?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** A value as the table layer gives it, against Python's string. */
function same(v: unknown, want: string, float: boolean): boolean {
  if (typeof v === "boolean") return String(Number(v)) === want;
  if (float) {
    const w = want === "inf" ? Infinity : want === "-inf" ? -Infinity : Number(want);
    return Object.is(Number(v), w) || Number(v) === w;
  }
  return String(v) === want;
}

describe.each(arrays.map((a) => [a.name, a] as const))("%s", (_name, a) => {
  const path = `${FIXTURES}/${a.path}`;
  const float = a.dtype.includes("f");

  it("toArrow: dimension indices and values", async () => {
    const e = expected.get(path)!;
    const arr = await openB2nd(path);
    const values: unknown[] = [];
    const names: string[] = [];
    for await (const b of toArrow(arr, { batchRows: 50 })) {
      if (names.length === 0) names.push(...b.schema.fields.map((f) => f.name));
      const v = b.getChild("value")!;
      for (let i = 0; i < v.length; i++) values.push(v.get(i));
    }
    await arr.close();
    expect(names).toEqual([...e.shape.map((_, d) => `dim_${d}`), "value"]);
    expect(values.length).toBe(e.values.length);
    const bad = values.findIndex((v, i) => !same(v, e.values[i]!, float));
    expect(bad, `first difference at ${bad}: ${String(values[bad])} vs ${e.values[bad]}`).toBe(-1);
  });

  it("registerTable: count, non-NaN count, min and max in DuckDB", async () => {
    const e = expected.get(path)!;
    const arr = await openB2nd(path);
    await registerTable(connection, "t", arr, { nanAsNull: true });
    await arr.close();
    const reader = await connection.runAndReadAll(
      "SELECT count(*), count(value), min(value), max(value) FROM t",
    );
    const [n, valid, lo, hi] = reader.getRowsJS()[0]!;
    expect(Number(n)).toBe(e.values.length);
    expect(Number(valid)).toBe(e.count);
    if (e.min === null) expect(lo).toBeNull();
    else expect(same(lo, e.min, float), `min ${String(lo)} vs ${e.min}`).toBe(true);
    if (e.max === null) expect(hi).toBeNull();
    else expect(same(hi, e.max, float), `max ${String(hi)} vs ${e.max}`).toBe(true);
  });
});

it("toParquet: pyarrow and DuckDB-python read every dtype back", async () => {
  const args: string[] = [];
  for (const a of arrays) {
    const path = `${FIXTURES}/${a.path}`;
    const arr = await openB2nd(path);
    const out = join(dir, `${a.name}.parquet`);
    await toParquet(arr, out, { rowGroupRows: 100 });
    writeFileSync(`${out}.json`, JSON.stringify({ b2nd: path, chunks: arr.chunkShape }));
    await arr.close();
    args.push(out, `${out}.json`);
  }
  // One Python process checks them all.
  const r = runPython(["test/py/check_parquet.py", ...args]);
  expect(r.status, r.stderr).toBe(0);
  const results = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { problems: string[] });
  expect(results.length).toBe(arrays.length);
  for (const [i, res] of results.entries()) expect(res.problems, arrays[i]!.name).toEqual([]);
});
