// The package through the three common bundlers, as a user's app gets it: the packed tarball
// unpacked into a temp app (no registry access), the app (test/package/app) built by Vite,
// esbuild and webpack from this repository's node_modules, and each built page loaded in
// headless Chromium, where it decodes a chunk python-blosc2 wrote and reads a b2nd array over
// HTTP through a pool of two Web Workers. Digests are compared with the fixtures' manifests
// (made by python-blosc2), a column with python-blosc2's own read of it.
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, watchProblems } from "./chromium.js";
import { FIXTURES, ROOT, readB2ndManifest, readManifest, runPython } from "./helpers.js";
import { startServer } from "./http-server.js";
import { packTarball, tempProject } from "./package-helpers.js";

const APP = join(ROOT, "test", "package", "app");
const ARRAY = readB2ndManifest().arrays.find((a) => a.name === "f8-3d-edges")!;
const CHUNK = readManifest().chunks.find((c) => c.name === "zstd-bitshuffle-ts1-many-smooth")!;
const CHUNK_INPUT = readManifest().inputs[CHUNK.input!]!;

type Bundler = "vite" | "esbuild" | "webpack";

interface PageResult {
  chunk: { nbytes: number; sha256: string };
  roundTrip: boolean;
  array: { shape: number[]; sha256: string; column: number[]; blocksDecoded: number };
  poolTasks: number;
  shared: boolean;
}

async function buildVite(app: string, out: string): Promise<void> {
  // ZB_VITE=/path/to/node_modules/vite/dist/node/index.js tries another Vite (7 was checked so).
  const { build, version } = (await import(process.env.ZB_VITE ?? "vite")) as typeof import("vite");
  await build({
    root: app,
    base: "./",
    configFile: false,
    logLevel: "error",
    build: { outDir: out, emptyOutDir: true, minify: false },
    // Vite 7 (Rollup) builds IIFE workers, its default, without code splitting, and the worker
    // has dynamic imports; Vite 8 builds its default (docs/bundlers.md).
    ...(Number(version.split(".")[0]) < 8 ? { worker: { format: "es" as const } } : {}),
  });
}

async function buildEsbuild(app: string, out: string): Promise<void> {
  const esbuild = await import("esbuild");
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: { main: "./main-esbuild.js", "pool-worker": "zarr-blosc2/pool-worker" },
    bundle: true,
    format: "esm",
    platform: "browser",
    outdir: out,
    loader: { ".wasm": "file" },
    logLevel: "error",
  });
  copyFileSync(join(app, "index.html"), join(out, "index.html"));
}

async function buildWebpack(app: string, out: string): Promise<void> {
  const { default: webpack } = await import("webpack");
  const stats = await new Promise<import("webpack").Stats>((resolve, reject) => {
    webpack(
      {
        mode: "production",
        context: app,
        entry: "./main.js",
        output: { path: out, filename: "main.js", clean: true },
        target: "web",
        optimization: { minimize: false },
      },
      (err, result) => (err || !result ? reject(err ?? new Error("no stats")) : resolve(result)),
    );
  });
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  // webpack's runtime finds its chunks from document.currentScript: a classic script.
  writeFileSync(
    join(out, "index.html"),
    readFileSync(join(app, "index.html"), "utf8").replace(
      '<script type="module" src="./main.js">',
      '<script defer src="./main.js">',
    ),
  );
}

const BUILDS: Record<Bundler, (app: string, out: string) => Promise<void>> = {
  vite: buildVite,
  esbuild: buildEsbuild,
  webpack: buildWebpack,
};

describe("bundled apps in headless Chromium", () => {
  let app: string;
  let packDir: string;
  let browser: Browser;
  let column: number[];

  beforeAll(async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    packDir = mkdtempSync(join(tmpdir(), "zb-bundle-pack-"));
    ({ dir: app } = tempProject("zb-bundle-app-", packTarball(packDir)));
    for (const f of readdirSync(APP)) copyFileSync(join(APP, f), join(app, f));
    browser = await launchChromium();
    const py = runPython([
      "-c",
      "import blosc2, json, sys; a = blosc2.open(sys.argv[1]); print(json.dumps(a[:, 3, 5].tolist()))",
      join(FIXTURES, ARRAY.path),
    ]);
    expect(py.stderr).toBe("");
    column = JSON.parse(py.stdout) as number[];
  });

  afterAll(async () => {
    await browser?.close();
    for (const dir of [app, packDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(BUILDS) as Bundler[])(
    "%s: decodes a chunk, reads through the pool",
    async (bundler) => {
      const out = join(app, `dist-${bundler}`);
      await BUILDS[bundler](app, out);
      // The bundle holds no Node built-in, and the wasm went along as a file.
      const files = readdirSync(out, { recursive: true }) as string[];
      const js = files.filter((f) => f.endsWith(".js"));
      for (const f of js) expect(readFileSync(join(out, f), "utf8"), f).not.toMatch(/["']node:/);
      expect(files.some((f) => f.endsWith(".wasm"))).toBe(true);
      copyFileSync(join(FIXTURES, CHUNK.file), join(out, "chunk.b2"));
      copyFileSync(join(FIXTURES, ARRAY.path), join(out, "array.b2nd"));

      const server = await startServer(out, { contentTypes: true });
      const page = await browser.newPage();
      const problems = watchProblems(page);
      try {
        await page.goto(`${server.url}/index.html`);
        await page.waitForFunction(() => "zbResult" in window, undefined, { timeout: 60_000 });
        const got = (await page.evaluate(
          () => (window as unknown as { zbResult: Promise<unknown> }).zbResult,
        )) as PageResult;
        // Chromium reports a HEAD whose (empty) body the reader cancels as aborted; the server
        // answered it (checked below).
        expect(
          problems.filter((p) => !/^request failed: HEAD .* net::ERR_ABORTED$/.test(p)),
        ).toEqual([]);
        expect(
          server.requests.filter((r) => r.method === "HEAD").every((r) => r.status === 200),
        ).toBe(true);
        expect(got.chunk).toEqual({ nbytes: CHUNK.nbytes, sha256: CHUNK_INPUT.sha256 });
        expect(got.roundTrip).toBe(true);
        expect(got.array.shape).toEqual(ARRAY.shape);
        expect(got.array.sha256).toBe(ARRAY.sha256);
        expect(got.array.column).toEqual(column);
        // Every block inside the array decoded (blocks wholly in the edge chunks' padding are
        // not): along each dimension, the blocks each chunk's extent covers.
        const blocksTouched = ARRAY.shape.reduce((n, len, d) => {
          const [c, b] = [ARRAY.chunks[d]!, ARRAY.blocks[d]!];
          let along = 0;
          for (let start = 0; start < len; start += c)
            along += Math.ceil(Math.min(c, len - start) / b);
          return n * along;
        }, 1);
        expect(got.array.blocksDecoded).toBe(blocksTouched);
        expect(got.poolTasks).toBeGreaterThanOrEqual(ARRAY.nchunks);
        expect(got.shared).toBe(false); // not cross-origin isolated: batches come back
        // The worker is a script of the bundle (the server serves nothing else): the page
        // loaded at least two scripts, its entry and the worker.
        const scripts = new Set(
          server.requests
            .filter((r) => r.path.endsWith(".js") && r.status === 200)
            .map((r) => r.path),
        );
        expect(scripts.size).toBeGreaterThanOrEqual(2);
      } finally {
        await page.close();
        await server.close();
      }
    },
  );
});
