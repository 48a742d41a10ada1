// The table layer over HTTP (a local server): a Zarr group with consolidated metadata read
// through zarrita's FetchStore, where pushdown measured in bytes the server sent, and the CLI
// with http URLs for a Zarr group and a .b2nd file.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as zarr from "zarrita";
import { toArrow } from "../src/index.js";
import { cli, ensureBuilt, FIXTURES, runPython } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";
import { close, readTableManifest } from "./table-helpers.js";

const manifest = readTableManifest();
const dir = mkdtempSync(join(tmpdir(), "zb-table-http-"));
let server: TestServer;

beforeAll(async () => {
  ensureBuilt();
  cpSync(`${FIXTURES}/table/climate.zarr`, join(dir, "climate.zarr"), { recursive: true });
  cpSync(`${FIXTURES}/b2nd/i2-2d-aligned.b2nd`, join(dir, "i2.b2nd"));
  const r = runPython([
    "-c",
    "import sys; sys.path.insert(0, 'fixtures'); import zarr, zarr_codecs; zarr.consolidate_metadata(sys.argv[1])",
    join(dir, "climate.zarr"),
  ]);
  expect(r.status, r.stderr).toBe(0);
  server = await startServer(dir);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const served = () => server.requests.reduce((n, q) => n + q.bytes, 0);

async function rowsOf(options: Parameters<typeof toArrow>[1]) {
  const store = await zarr.withMaybeConsolidatedMetadata(
    new zarr.FetchStore(`${server.url}/climate.zarr`),
  );
  const group = await zarr.open(store, { kind: "group" });
  const before = served();
  let rows = 0;
  const batches: RecordBatch[] = [];
  for await (const b of toArrow<RecordBatch>(group as never, options)) {
    rows += b.numRows;
    batches.push(b);
  }
  return { rows, bytes: served() - before, batches };
}

it("a consolidated group over HTTP: where reads fewer bytes from the server", async () => {
  const c = manifest.where.find((w) => w.name === "lat-range-lon-eq")!;
  const full = await rowsOf({ columns: ["temp"] });
  const part = await rowsOf({ columns: ["temp"], where: c.where as never });
  expect(full.rows).toBe(8 * 12 * 16);
  expect(part.rows).toBe(c.rows);
  const sum = part.batches
    .flatMap((b) => Array.from(b.getChild("temp")!.toArray() as Float32Array))
    .filter((x) => !Number.isNaN(x))
    .reduce((a, b) => a + b, 0);
  expect(close(sum, c.temp_nansum)).toBe(true);
  expect(part.bytes).toBeLessThan(full.bytes * 0.75);
  console.log(
    `HTTP pushdown: full ${full.bytes} bytes served, where ${JSON.stringify(c.where)}: ${part.bytes}`,
  );
});

it("the CLI takes http URLs for a Zarr group and a .b2nd file", async () => {
  const c = manifest.sql.find((x) => x.name === "group-by-lat")!;
  const r = await cli(
    "sql",
    c.query,
    "--table",
    `clim=${server.url}/climate.zarr#time,lat,lon`,
    "--format",
    "csv",
    "--nan-as-null",
  );
  expect(r.status, r.stderr).toBe(0);
  const body = r.stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => l.split(",").map(Number));
  expect(body.every((row, i) => row.every((v, j) => close(v, c.rows[i]![j]!)))).toBe(true);
  const b = await cli(
    "sql",
    "SELECT count(*) FROM b",
    "--table",
    `b=${server.url}/i2.b2nd`,
    "--format",
    "csv",
  );
  expect(b.status, b.stderr).toBe(0);
  const size = runPython([
    "-c",
    "import sys, blosc2; print(blosc2.open(sys.argv[1]).size)",
    join(dir, "i2.b2nd"),
  ]);
  expect(b.stdout.trimEnd().split("\n").at(-1)).toBe(size.stdout.trim());
});
