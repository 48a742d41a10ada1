// The zarr.create example of docs/codecs.md, run as written (the first ```js block that calls
// zarr.create) in a temp project holding the packed package and zarrita, then the array it
// wrote read back by zarr-python (fixtures/pyzarr.py with the tests' b2nd codec) and compared
// with the example's data, computed here from its formula.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, readNpy, runPython } from "./helpers.js";
import { packTarball, tempProject } from "./package-helpers.js";

function docExample(): string {
  const doc = readFileSync(join(ROOT, "docs", "codecs.md"), "utf8");
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const example = blocks.find((b) => b.includes("zarr.create("));
  if (!example) throw new Error("docs/codecs.md has no ```js block calling zarr.create");
  return example;
}

function runNode(script: string, cwd: string): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ status: typeof code === "number" ? code : -1, out: stdout + stderr });
    });
  });
}

describe("docs/codecs.md's zarr.create example", () => {
  let packDir: string;
  let project: string;

  beforeAll(() => {
    packDir = mkdtempSync(join(tmpdir(), "zb-doc-pack-"));
    ({ dir: project } = tempProject("zb-doc-", packTarball(packDir), [
      "zarrita",
      "@zarrita/storage",
      "numcodecs",
    ]));
  });

  afterAll(() => {
    for (const dir of [packDir, project]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs, and zarr-python reads the array it writes", async () => {
    // The example as written, then a line reporting what it read.
    const script = `${docExample()}
console.log(JSON.stringify({
  region: region.shape, same: same.shape, equal: same.data.every((v, i) => v === region.data[i]),
  first: Array.from(same.data.subarray(0, 3)),
}));
`;
    writeFileSync(join(project, "example.mjs"), script);
    const r = await runNode("example.mjs", project);
    expect(r.status, r.out).toBe(0);
    const report = JSON.parse(r.out.trim().split("\n").at(-1)!) as {
      region: number[];
      same: number[];
      equal: boolean;
      first: number[];
    };
    const value = (i: number) => Math.sin(i / 1000);
    expect(report).toEqual({
      region: [10, 1000],
      same: [10, 1000],
      equal: true,
      first: [value(10_000), value(10_001), value(10_002)],
    });

    const out = join(project, "read.npy");
    const py = runPython(["fixtures/pyzarr.py", "read", join(project, "example.zarr"), out]);
    expect(py.status, py.stdout + py.stderr).toBe(0);
    const meta = JSON.parse(py.stdout) as Record<string, unknown>;
    expect(meta.shape).toEqual([1000, 1000]);
    expect(meta.fill_value).toBe(0);
    expect(meta.codecs).toEqual(["b2nd"]);
    const npy = readNpy(out);
    expect(npy.dtype).toBe("<f8");
    const got = new Float64Array(npy.data.slice().buffer);
    const bad: number[] = [];
    for (let i = 0; i < got.length && bad.length < 5; i++) if (got[i] !== value(i)) bad.push(i);
    expect(bad).toEqual([]);
  });
});
