// virtualParquet: bad options and ranges, sources truncated, removed or rewritten while being
// served (typed errors naming the file, never other bytes), the ETag, and the stats sidecar
// (variable statistics that pyarrow sees, refused once the source changed).
import { cpSync, mkdtempSync, rmSync, truncateSync, unlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  computeStatsSidecar,
  FormatError,
  OptionsError,
  openB2nd,
  SourceError,
  statsSidecarPath,
  virtualParquet,
  writeStatsSidecar,
} from "../src/index.js";
import { FIXTURES } from "./helpers.js";
import { openGroup } from "./table-helpers.js";
import { checkFiles, download } from "./vparquet-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zb-vparquet-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copy(rel: string, name: string): string {
  const to = join(dir, name);
  cpSync(`${FIXTURES}/${rel}`, to, { recursive: true });
  return to;
}

/** The first variable page of the last row group: its bytes come from the end of the array. */
function lastValuePage(vp: Awaited<ReturnType<typeof virtualParquet>>) {
  const rg = vp.layout.rowGroups.at(-1)!;
  const col = vp.layout.columns.findIndex((c) => c.kind === "variable");
  const p = rg.columns[col]!.pages.at(-1)!;
  return { offset: p.offset + p.headerSize, length: p.dataSize };
}

describe("bad input", () => {
  it("options: nulls, unknown names, bad sizes, where on a variable, a bad source", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/f8-3d-edges.b2nd`);
    await expect(virtualParquet(arr, { nanAsNull: true } as never)).rejects.toThrow(
      /nanAsNull.*REQUIRED/,
    );
    await expect(virtualParquet(arr, { fillAsNull: true } as never)).rejects.toThrow(OptionsError);
    await expect(virtualParquet(arr, { pageBytes: 5 } as never)).rejects.toThrow(
      /unknown option "pageBytes"/,
    );
    for (const bad of [0, -1, 1.5, Number.NaN, "7"]) {
      await expect(virtualParquet(arr, { rowGroupRows: bad as never })).rejects.toThrow(
        /rowGroupRows must be a positive integer/,
      );
      await expect(virtualParquet(arr, { pageRows: bad as never })).rejects.toThrow(OptionsError);
    }
    await expect(virtualParquet(arr, { pageRows: 2 ** 40 })).rejects.toThrow(/pageRows .* above/);
    await expect(virtualParquet(arr, { where: { value: 3 } })).rejects.toThrow(
      /not a dimension column/,
    );
    await expect(virtualParquet(arr, { columns: ["nope"] })).rejects.toThrow(/no column "nope"/);
    await expect(virtualParquet({} as never)).rejects.toThrow(OptionsError);
    await expect(virtualParquet(arr, { stats: { format: "x" } as never })).rejects.toThrow(
      FormatError,
    );
    await expect(virtualParquet(arr, { stats: join(dir, "missing.json") })).rejects.toThrow(
      OptionsError,
    );
    await arr.close();
  });

  it("ranges outside the file and reads after close are SourceErrors", async () => {
    const arr = await openB2nd(`${FIXTURES}/b2nd/i4-partial.b2nd`);
    const vp = await virtualParquet(arr);
    await expect(vp.read(0, vp.size + 1)).rejects.toThrow(SourceError);
    await expect(vp.read(-1, 2)).rejects.toThrow(SourceError);
    await expect(vp.read(1.5, 2)).rejects.toThrow(SourceError);
    expect(() => vp.stream(vp.size, 1)).toThrow(SourceError);
    expect((await vp.read(vp.size, 0)).length).toBe(0);
    await vp.close();
    await expect(vp.read(0, 4)).rejects.toThrow(/closed/);
    await arr.close();
  });
});

describe("sources that change while served", () => {
  it("a truncated b2nd file: the page behind the cut fails naming the file", async () => {
    const path = copy("b2nd/f8-3d-edges.b2nd", "truncated.b2nd");
    const arr = await openB2nd(path);
    // (With a cache, parts decoded before the cut would still be served: the same bytes.)
    const vp = await virtualParquet(arr, { cacheBytes: 0 });
    const page = lastValuePage(vp);
    const before = await vp.read(page.offset, page.length); // fine while intact
    truncateSync(path, 3000);
    const err = await vp.read(page.offset, page.length).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(path);
    // The footer and dimension bytes need no source bytes: they are still served.
    expect((await vp.read(vp.layout.footer.offset, vp.layout.footer.size)).length).toBe(
      vp.layout.footer.size,
    );
    expect(before.length).toBe(page.length);
    await arr.close();
  });

  it("a removed or rewritten b2nd file fails instead of serving other bytes", async () => {
    const path = copy("b2nd/sparse-3d.b2frame", "sparse.b2frame");
    const arr = await openB2nd(path);
    const vp = await virtualParquet(arr, { rowGroupRows: 100 });
    const page = lastValuePage(vp);
    await vp.read(page.offset, page.length);
    // Rewrite a chunk file of the sparse frame (same size, new time): the etag no longer holds.
    const chunk = join(path, "00000000.chunk");
    utimesSync(chunk, new Date(), new Date(Date.now() + 5000));
    await expect(vp.read(0, vp.size)).rejects.toThrow(/00000000\.chunk: modified/);
    const contiguous = copy("b2nd/i4-partial.b2nd", "removed.b2nd");
    const arr2 = await openB2nd(contiguous);
    const vp2 = await virtualParquet(arr2, { cacheBytes: 0 });
    const page2 = lastValuePage(vp2);
    unlinkSync(contiguous);
    await expect(vp2.read(page2.offset, page2.length)).rejects.toThrow(/removed\.b2nd: removed/);
    await arr.close();
    await arr2.close();
  });

  it("a removed Zarr chunk fails naming it (zarrita alone would read fill values)", async () => {
    const root = copy("table/climate.zarr", "climate.zarr");
    const g = await zarr.open(new FileSystemStore(root), { kind: "group" });
    const vp = await virtualParquet(g as never, { table: "time,lat,lon", cacheBytes: 0 });
    const whole = await vp.read(0, vp.size);
    expect(whole.length).toBe(vp.size);
    const chunk = join(root, "temp", "c", "1", "0", "0");
    unlinkSync(chunk);
    const err = await vp.read(0, vp.size).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(chunk);
    expect((err as Error).message).toMatch(/removed/);
  });
});

describe("etag", () => {
  it("is strong, stable for the same source and options, and changes with options and files", async () => {
    const path = copy("b2nd/u2-2d.b2nd", "etag.b2nd");
    const a = await openB2nd(path);
    const e1 = (await virtualParquet(a)).etag;
    expect(e1).toMatch(/^"[0-9a-f]{40}"$/);
    expect((await virtualParquet(a)).etag).toBe(e1);
    expect((await virtualParquet(a, { pageRows: 9 })).etag).not.toBe(e1);
    expect((await virtualParquet(a, { where: { dim_0: [2, 9] } })).etag).not.toBe(e1);
    await a.close();
    utimesSync(path, new Date(), new Date(Date.now() + 10000));
    const b = await openB2nd(path);
    const vb = await virtualParquet(b);
    expect(vb.etag).not.toBe(e1);
    expect(vb.lastModified.getTime() % 1000).toBe(0);
    await b.close();
    const g1 = await virtualParquet((await openGroup("table/climate.zarr")) as never, {
      table: "lat,lon",
    });
    const g2 = await virtualParquet((await openGroup("table/climate.zarr")) as never, {
      table: "time,lat,lon",
    });
    expect(g1.etag).not.toBe(g2.etag);
  });
});

describe("the stats sidecar", () => {
  it("gives variable columns statistics pyarrow sees, exact on whole chunks; refused when stale", async () => {
    const path = copy("b2nd/f8-3d-edges.b2nd", "sidecar.b2nd");
    const nans = copy("b2nd/f4-nans.b2nd", "sidecar-nans.b2nd");
    const u8 = copy("b2nd/u8-2d.b2nd", "sidecar-u8.b2nd");
    const root = copy("table/climate.zarr", "sidecar.zarr");
    const specs: object[] = [];
    for (const p of [path, nans, u8]) {
      const arr = await openB2nd(p);
      const { path: written } = await writeStatsSidecar(arr);
      expect(written).toBe(`${p}.zb2stats.json`);
      expect(statsSidecarPath(arr)).toBe(written);
      for (const [k, options] of [{}, { rowGroupRows: 100, pageRows: 30 }].entries()) {
        const vp = await virtualParquet(arr, { ...options, stats: written });
        expect(vp.layout.columns.at(-1)!.statistics).toBe(true);
        specs.push({
          file: await download(vp, dir, `sidecar-${k}-${p.split("/").at(-1)}.parquet`),
          b2nd: p,
          sidecar: true,
          chunks: { value: arr.chunkShape },
          // Whole chunks per page: exact bounds, so a page index (not where a row group holds
          // an all-NaN chunk: Parquet has no bounds for a page without a non-NaN value).
          ...(k === 0 && p !== nans ? { variable_page_index: true } : {}),
        });
      }
      await arr.close();
    }
    const g = await zarr.open(new FileSystemStore(root), { kind: "group" });
    const sidecar = await computeStatsSidecar(g as never, { table: "time,lat,lon" });
    const vz = await virtualParquet(g as never, {
      table: "time,lat,lon",
      stats: sidecar,
      rowGroupRows: 200,
    });
    specs.push({
      file: await download(vz, dir, "sidecar-climate.parquet"),
      zarr: root,
      dims: ["time", "lat", "lon"],
      coords: true,
      variables: ["precip", "temp"],
      sidecar: true,
      chunks: {
        precip: sidecar.tables["time,lat,lon"]!.variables.precip!.chunkShape,
        temp: sidecar.tables["time,lat,lon"]!.variables.temp!.chunkShape,
      },
    });
    for (const [i, r] of checkFiles(dir, specs).entries()) {
      expect(r.problems, JSON.stringify(specs[i])).toEqual([]);
    }
    // Once the source changes, the sidecar no longer describes it.
    utimesSync(path, new Date(), new Date(Date.now() + 10000));
    const changed = await openB2nd(path);
    await expect(virtualParquet(changed, { stats: `${path}.zb2stats.json` })).rejects.toThrow(
      /stale/,
    );
    await changed.close();
    await expect(virtualParquet(g as never, { table: "lat,lon", stats: sidecar })).rejects.toThrow(
      /no table "lat,lon"/,
    );
  });
});
