// `npm i -g zarr-blosc2` as a new user gets it: the packed tarball installed into a temp global
// prefix with npm itself (--offline: the package has no dependencies, so nothing is fetched),
// without the optional packages. The CLI then works on b2nd files (info, slice, checked with
// python-blosc2), and `sql`, `export` and Zarr stores fail with the MissingDependencyError
// naming the package to install. With @duckdb/node-api next to it in the global prefix (linked
// from this repository, as `npm i -g @duckdb/node-api` would put it), `sql` answers.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, ROOT, readB2ndManifest, readNpy, runPython } from "./helpers.js";
import { packTarball } from "./package-helpers.js";

const ARRAY = readB2ndManifest().arrays.find((a) => a.name === "f8-3d-edges")!;
const FILE = join(FIXTURES, ARRAY.path);
const ZARR = join(FIXTURES, "zarr", "b2nd-b1-2d.zarr");

describe("a global install without the optional packages", () => {
  let dir: string;
  let prefix: string;
  let bin: string;

  const run = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(bin, args, { encoding: "utf8", cwd: dir }, (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ status: typeof code === "number" ? code : -1, stdout, stderr });
      });
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "zb-install-"));
    prefix = join(dir, "prefix");
    const tarball = packTarball(dir);
    execFileSync(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--offline",
        "--no-audit",
        "--no-fund",
        "--omit=optional",
        "--omit=peer",
        tarball,
      ],
      { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    bin = join(prefix, "bin", "zarr-blosc2");
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs the package alone", () => {
    expect(readdirSync(join(prefix, "lib", "node_modules"))).toEqual(["zarr-blosc2"]);
  });

  it("info describes a b2nd file", async () => {
    const r = await run("info", FILE, "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info.shape).toEqual(ARRAY.shape);
    expect(info.dtype).toBe(ARRAY.dtype);
    expect(info.chunkShape).toEqual(ARRAY.chunks);
    expect(info.blockShape).toEqual(ARRAY.blocks);
  });

  it("slice writes python-blosc2's values", async () => {
    const out = join(dir, "slice.npy");
    const r = await run("slice", FILE, "3, ::-2, 5", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const npy = readNpy(out);
    const py = runPython([
      "-c",
      "import blosc2, json, sys; print(json.dumps(blosc2.open(sys.argv[1])[3, ::-2, 5].tolist()))",
      FILE,
    ]);
    expect(py.status).toBe(0);
    expect(npy.dtype).toBe("<f8");
    expect(Array.from(new Float64Array(npy.data.slice().buffer))).toEqual(JSON.parse(py.stdout));
  });

  it.each([
    ["sql", ["sql", "select count(*) from t", "--table", `t=${FILE}`], "@duckdb/node-api"],
    ["export", ["export", FILE, "--parquet", "out.parquet"], "hyparquet-writer"],
    ["export of a Zarr store", ["export", ZARR, "--parquet", "out.parquet"], "zarrita"],
  ])("%s names the missing package", async (_label, args, name) => {
    const r = await run(...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`needs the npm package ${name}: npm install ${name}`);
    expect(r.stderr).not.toMatch(/Cannot find (package|module)/);
  });

  it("sql answers once @duckdb/node-api is installed next to it", async () => {
    const scope = join(prefix, "lib", "node_modules", "@duckdb");
    mkdirSync(scope, { recursive: true });
    symlinkSync(join(ROOT, "node_modules", "@duckdb", "node-api"), join(scope, "node-api"), "dir");
    try {
      const r = await run(
        "sql",
        "select count(*)::INTEGER as n, max(value) as top from t where dim_0 = 3",
        "--table",
        `t=${FILE}`,
        "--format",
        "json",
      );
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const py = runPython([
        "-c",
        "import blosc2, json, sys; a = blosc2.open(sys.argv[1])[3]; print(json.dumps([a.size, float(a.max())]))",
        FILE,
      ]);
      const [n, top] = JSON.parse(py.stdout) as [number, number];
      expect(JSON.parse(r.stdout)).toEqual([{ n, top }]);
    } finally {
      rmSync(scope, { recursive: true, force: true });
    }
  });
});
