// The `stats` command writes the stats sidecar beside the source; the virtual Parquet file
// then gives variable columns statistics equal to NumPy's extent of each whole-chunk row group.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openB2nd, virtualParquet } from "../src/index.js";
import { cli, ensureBuilt, FIXTURES, runPython } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zb-stats-cli-"));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("zarr-blosc2 stats", () => {
  it("writes <source>.zb2stats.json, which virtualParquet uses", async () => {
    const path = join(dir, "a.b2nd");
    cpSync(`${FIXTURES}/b2nd/i4-partial.b2nd`, path);
    const r = await cli("stats", path);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${path}.zb2stats.json: dim_0,dim_1 (value: 12 chunks)`);
    expect(existsSync(`${path}.zb2stats.json`)).toBe(true);
    const arr = await openB2nd(path);
    const vp = await virtualParquet(arr, { stats: `${path}.zb2stats.json` });
    // Row groups are chunk rows (10 x 36, three whole chunks): exact statistics.
    const rows = vp.layout.rowGroups.map((rg) => rg.box[0]!);
    expect(rows.map((r) => r.stop - r.start)).toEqual([10, 10, 10, 10]);
    const file = join(dir, "a.parquet");
    writeFileSync(file, await vp.read(0, vp.size));
    const py = runPython([
      "-c",
      `import pyarrow.parquet as pq, blosc2, json
a = blosc2.open("${path}")[...]
md = pq.ParquetFile("${file}").metadata
out = []
for i in range(md.num_row_groups):
    st = md.row_group(i).column(2).statistics
    r = a[i * 10:(i + 1) * 10]
    out.append([bool(st.min == r.min()), bool(st.max == r.max())])
print(json.dumps(out))`,
    ]);
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual(rows.map(() => [true, true]));
    await arr.close();
  });

  it("usage errors and a group without --table", async () => {
    const r = await cli("stats");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("stats needs a path");
    const copy = join(dir, "climate.zarr");
    cpSync(`${FIXTURES}/table/climate.zarr`, copy, { recursive: true });
    const g = await cli("stats", copy);
    expect(g.status).toBe(1);
    expect(g.stderr).toContain("holds 2 tables");
    const ok = await cli("stats", copy, "--table", "lat,lon", "--out", join(dir, "e.json"));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("lat,lon (elevation: 4 chunks)");
  });
});
