// `info` and `slice` on Zarr arrays (v2, v3, sharded, every codec of the fixtures), and
// `slice --out -` writing the .npy to stdout. Values are checked by NumPy against the arrays
// zarr-python wrote (fixtures/data/zarr-npy).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cli, ensureBuilt, FIXTURES, readZarrManifest, runPython } from "./helpers.js";

let dir: string;
const arrays = readZarrManifest().arrays.filter((a) => a.npy !== null && a.name !== "group");

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "zb-cli-arrays-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI with stdout as bytes. */
function cliBytes(...args: string[]): Promise<{ status: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: "buffer", maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({
          status: typeof code === "number" ? code : -1,
          stdout,
          stderr: stderr.toString("utf8"),
        });
      },
    );
  });
}

// Each job: the reference .npy, the selection text, the .npy the CLI wrote.
const COMPARE = `
import json, sys
import numpy as np
res = []
for ref, sel, npy in json.load(sys.stdin):
    a = np.load(ref)
    want = np.asarray(a[()] if sel.strip() == "" else eval("a[" + sel + "]"))
    got = np.load(npy)
    res.append(dict(sel=sel, ref=ref, equal=bool(np.array_equal(got, want, equal_nan=got.dtype.kind == "f")),
        dtype=got.dtype.str, want=want.dtype.newbyteorder("<").str if want.dtype.byteorder == ">" else want.dtype.str,
        shape=list(got.shape), wantShape=list(want.shape)))
print(json.dumps(res))
`;

describe("Zarr arrays in info and slice", () => {
  it("info describes every fixture array as zarr-python wrote it", async () => {
    for (const a of arrays) {
      const r = await cli("info", join(FIXTURES, a.path), "--json");
      expect(r.status, `${a.name}: ${r.stderr}`).toBe(0);
      const info = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(info.format).toBe("zarr");
      expect(info.zarrFormat, a.name).toBe(a.zarr_format);
      expect(info.shape, a.name).toEqual(a.shape);
      expect(info.chunkShape, a.name).toEqual(a.chunks);
      expect(info.shardShape, a.name).toEqual(a.shards);
      // Values come back in the host's byte order whatever the store's.
      expect(info.dtype, a.name).toBe(a.numpy_dtype.replace(">", "<"));
      const text = await cli("info", join(FIXTURES, a.path));
      expect(text.stdout).toContain(`format:   Zarr v${a.zarr_format}`);
    }
  });

  it("slice writes what NumPy's indexing of the same array gives", async () => {
    const jobs: [string, string, string][] = [];
    for (const [i, a] of arrays.entries()) {
      const sels = a.shape.length === 1 ? ["", "3:-2:3", "-1", "::-4"] : ["", "1, :", "::3, -2"];
      for (const [j, sel] of sels.entries()) {
        const npy = join(dir, `z${i}-${j}.npy`);
        const r = await cli("slice", join(FIXTURES, a.path), sel, "--out", npy);
        expect(r.status, `${a.name} [${sel}]: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/^wrote .*: shape \(.*\) [<|]\w\d+, \d+ bytes\n$/);
        jobs.push([join(FIXTURES, a.npy!), sel, npy]);
      }
    }
    const r = runPython(["-c", COMPARE], JSON.stringify(jobs));
    expect(r.status, r.stderr).toBe(0);
    for (const x of JSON.parse(r.stdout) as Record<string, unknown>[]) {
      expect(x, `${x.ref} [${x.sel}]`).toMatchObject({
        equal: true,
        dtype: x.want,
        shape: x.wantShape,
      });
    }
  });

  it("a Zarr group is named as one, with the way out", async () => {
    const r = await cli(
      "slice",
      join(FIXTURES, "zarr/group.zarr"),
      "0",
      "--out",
      join(dir, "g.npy"),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/group\.zarr is a Zarr group: name one of its arrays/);
  });
});

describe("slice --out -", () => {
  it("writes the .npy to stdout and nothing else there", async () => {
    const a = arrays.find((x) => x.name === "b2nd-f8-2d")!;
    const file = join(dir, "file.npy");
    const viaFile = await cli("slice", join(FIXTURES, a.path), "2:9, ::2", "--out", file);
    expect(viaFile.status, viaFile.stderr).toBe(0);
    const viaStdout = await cliBytes(
      "slice",
      join(FIXTURES, a.path),
      "2:9, ::2",
      "--out",
      "-",
      "--stats",
    );
    expect(viaStdout.status, viaStdout.stderr).toBe(0);
    expect(Buffer.compare(viaStdout.stdout, readFileSync(file))).toBe(0);
    // Stats go to stderr when stdout carries the data.
    expect(viaStdout.stderr).toMatch(/^stats: chunksTouched=\d+ blocksDecoded=\d+/);
    const b2nd = join(FIXTURES, "b2nd/f8-3d-edges.b2nd");
    const bytes = await cliBytes("slice", b2nd, "-1", "-o", "-");
    expect(bytes.status, bytes.stderr).toBe(0);
    expect(bytes.stderr).toBe("");
    const npy = join(dir, "stdout.npy");
    const check = runPython([
      "-c",
      "import sys, numpy as np, blosc2; np.save(sys.argv[2], blosc2.open(sys.argv[1])[-1])",
      b2nd,
      npy,
    ]);
    expect(check.status, check.stderr).toBe(0);
    // np.save and our writer agree on the header layout for little-endian arrays.
    expect(Buffer.compare(bytes.stdout, readFileSync(npy))).toBe(0);
  });
});
