// Shared by the virtual Parquet tests: the virtual file as hyparquet's AsyncBuffer (recording
// the ranges asked for), the whole file on disk, and the Python check (test/py/check_vparquet.py).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { VirtualParquet } from "../src/index.js";
import { runPython } from "./helpers.js";

export interface Recorded {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
  ranges: [number, number][];
}

export function asyncBuffer(vp: VirtualParquet): Recorded {
  const ranges: [number, number][] = [];
  return {
    byteLength: vp.size,
    ranges,
    async slice(start: number, end?: number) {
      const e = end ?? vp.size;
      ranges.push([start, e]);
      const b = await vp.read(start, e - start);
      return b.buffer as ArrayBuffer;
    },
  };
}

/** Downloads the whole virtual file into `dir/name`. */
export async function download(vp: VirtualParquet, dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, await vp.read(0, vp.size));
  return path;
}

export interface CheckResult {
  problems: string[];
  row_groups: number;
  rows: number;
  pruned: number;
}

/** Runs check_vparquet.py on the specs; one result per spec, in order. */
export function checkFiles(dir: string, specs: object[]): CheckResult[] {
  const path = join(dir, `specs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(specs));
  const r = runPython(["test/py/check_vparquet.py", path]);
  expect(r.status, r.stderr).toBe(0);
  const out = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CheckResult);
  expect(out.length).toBe(specs.length);
  return out;
}
