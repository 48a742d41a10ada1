// The published types as a user compiles them: the packed tarball unpacked into a temp project
// with no optional dependency (zarrita, @zarrita/storage, apache-arrow, @duckdb/node-api,
// hyparquet-writer) and no @types/node, and a user's file (test/package/user.ts) compiled with
// skipLibCheck: false, so every .d.ts the package entry reaches is checked. The file asserts
// the typed results (get's data per dtype, stats, the Zarr get) by assignment, and marks
// wrong assignments @ts-expect-error, which fail the compile if they ever type-check.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";
import { installedPackages, packTarball, tempProject } from "./package-helpers.js";

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const OPTIONAL = [
  "zarrita",
  "@zarrita/storage",
  "apache-arrow",
  "@duckdb/node-api",
  "hyparquet-writer",
  "@types/node",
];

function tsconfig(moduleResolution: "nodenext" | "bundler", files: string[]) {
  return {
    compilerOptions: {
      target: "ES2022",
      module: moduleResolution === "bundler" ? "ESNext" : "NodeNext",
      moduleResolution,
      lib: ["ES2022", "DOM"],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      noUnusedLocals: false,
    },
    files,
  };
}

function compile(dir: string, config: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, "-p", config], { cwd: dir }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ status: typeof code === "number" ? code : -1, output: stdout + stderr });
    });
  });
}

describe("published types (skipLibCheck: false)", () => {
  let packDir: string;
  let tarball: string;
  const projects: string[] = [];

  beforeAll(() => {
    packDir = mkdtempSync(join(tmpdir(), "zb-types-pack-"));
    tarball = packTarball(packDir);
  });

  afterAll(() => {
    for (const dir of [packDir, ...projects])
      if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(["nodenext", "bundler"] as const)(
    "a user's file compiles with moduleResolution %s, without the optional packages",
    async (resolution) => {
      const { dir, modules } = tempProject("zb-types-", tarball);
      projects.push(dir);
      expect(installedPackages(modules)).toEqual(["zarr-blosc2"]);
      // Not found upwards either.
      const resolve = createRequire(join(dir, "user.ts")).resolve;
      for (const name of OPTIONAL) expect(() => resolve(name)).toThrow();
      copyFileSync(join(ROOT, "test", "package", "user.ts"), join(dir, "user.ts"));
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig(resolution, ["user.ts"])));
      const result = await compile(dir, "tsconfig.json");
      expect(result.output).toBe("");
      expect(result.status).toBe(0);
    },
  );

  it("the Zarr entry types zarrita's arrays, with zarrita installed", async () => {
    const { dir, modules } = tempProject("zb-types-zarr-", tarball, [
      "zarrita",
      "@zarrita/storage",
      "numcodecs",
    ]);
    projects.push(dir);
    expect(installedPackages(modules).sort()).toEqual(
      ["@zarrita/storage", "numcodecs", "zarr-blosc2", "zarrita"].sort(),
    );
    copyFileSync(join(ROOT, "test", "package", "user-zarr.ts"), join(dir, "user-zarr.ts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      // bundler resolution: numcodecs (zarrita's dependency) ships .d.ts files with
      // extensionless imports, which nodenext rejects under skipLibCheck: false.
      JSON.stringify(tsconfig("bundler", ["user-zarr.ts"])),
    );
    const result = await compile(dir, "tsconfig.json");
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("can fail: a wrong type in the user's file is reported", async () => {
    const { dir } = tempProject("zb-types-bad-", tarball);
    projects.push(dir);
    writeFileSync(
      join(dir, "bad.ts"),
      'import { openB2nd } from "zarr-blosc2";\n' +
        'export const x: Promise<Int8Array> = openB2nd("a", { dtype: "<f8" }).then(async (a) => (await a.get()).data);\n',
    );
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig("nodenext", ["bad.ts"])));
    const result = await compile(dir, "tsconfig.json");
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Float64Array.*Int8Array|Int8Array.*Float64Array/s);
  });
});
