// Zarr stores written by zarr-python 3 (fixtures/generate_zarr.py) read through zarrita with our
// codecs: plain zarr.get and our partial get agree with each other and with NumPy.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  get,
  parseDtype,
  registerBlosc2Codecs,
  toNativeByteOrder,
  type ZarrGetStats,
} from "../src/index.js";
import { FIXTURES, readNpy, readZarrManifest, runPython, valuesOf } from "./helpers.js";

registerBlosc2Codecs(zarr.registry);
const manifest = readZarrManifest();
const store = new FileSystemStore(FIXTURES);
const s = (start: number | null, stop: number | null, step: number | null = null) =>
  zarr.slice(start, stop, step);

function selectionsFor(
  shape: number[],
): { sel: (number | zarr.Slice | null)[] | null; text: string }[] {
  // zarr.get reads everything for null (an empty list means something else to it).
  const out: { sel: (number | zarr.Slice | null)[] | null; text: string }[] = [
    { sel: null, text: "" },
  ];
  out.push({
    sel: shape.map((n, d) => (d === 0 ? n - 2 : null)),
    text: shape.map((n, d) => (d === 0 ? String(n - 2) : ":")).join(","),
  });
  out.push({
    sel: shape.map((n) => s(1, n - 1, 3)),
    text: shape.map((n) => `1:${n - 1}:3`).join(","),
  });
  out.push({
    sel: shape.map((n) => s(Math.floor(n / 3), Math.floor(n / 3) + 5)),
    text: shape.map((n) => `${Math.floor(n / 3)}:${Math.floor(n / 3) + 5}`).join(","),
  });
  return out;
}

/** Values of a .npy in native order; bools as booleans. */
function npyValues(path: string): unknown[] {
  const npy = readNpy(path);
  const values = valuesOf(toNativeByteOrder(npy.data.slice(), parseDtype(npy.dtype)));
  return npy.dtype === "|b1" ? values.map((v) => v !== 0) : values;
}

describe("zarr-python fixtures", () => {
  const expected = new Map<string, string>();
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "zb-zarr-"));
    const cases = manifest.arrays.flatMap((a) =>
      selectionsFor(a.shape).map(({ text }, i) => {
        const out = join(dir, `${a.name}-${i}.npy`);
        expected.set(`${a.name}#${i}`, out);
        return { path: join(FIXTURES, a.path), selection: text, out };
      }),
    );
    writeFileSync(join(dir, "cases.json"), JSON.stringify({ cases }));
    const r = runPython(["fixtures/pyzarr.py", "slice", join(dir, "cases.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  for (const a of manifest.arrays) {
    it(`${a.name}: zarr.get and get equal NumPy`, async () => {
      const arr = await zarr.open(zarr.root(store).resolve(a.path), { kind: "array" });
      expect(arr.shape).toEqual(a.shape);
      const b2nd = a.codecs.includes("b2nd") || a.codecs.includes("sharding_indexed");
      for (const [i, { sel, text }] of selectionsFor(a.shape).entries()) {
        const want = npyValues(expected.get(`${a.name}#${i}`)!);
        const plain = await zarr.get(arr, sel);
        const stats = {} as ZarrGetStats;
        const ours = await get(arr, sel, { stats });
        if (typeof plain !== "object" || plain === null) {
          // A point selection: zarr.get returns the value itself, and so does get.
          expect(ours, text).toEqual(plain);
          expect([plain], text).toEqual(want);
          continue;
        }
        const p = plain as zarr.Chunk<zarr.DataType>;
        const o = ours as zarr.Chunk<zarr.DataType> & { stats: ZarrGetStats };
        expect(o.shape, text).toEqual(p.shape);
        expect(valuesOf(p.data), text).toEqual(want);
        expect(valuesOf(o.data), text).toEqual(want);
        expect(o.stats).toEqual(stats);
        expect(stats.path).toBe(b2nd ? "b2nd" : "zarr.get");
        if (!b2nd) expect(stats.fallback).toMatch(/not b2nd|no b2nd codec/);
        if (i === 0) {
          const units = a.shape
            .map((n, d) => Math.ceil(n / a.chunks[d]!))
            .reduce((x, y) => x * y, 1);
          if (b2nd) expect(stats.chunksTouched).toBe(units);
          if (b2nd && !a.shards) expect(stats.missingChunks).toBe(a.missing_chunks.length);
        }
      }
    });
  }
});
