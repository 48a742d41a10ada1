// Failed opens leave no file descriptor behind: every way openB2nd (and the layers above it)
// can reject a local file closes what it opened, so Node never closes a FileHandle on garbage
// collection ("Closing file descriptor N on garbage collection", DEP0137).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { openB2nd, ZarrBlosc2Error } from "../src/index.js";
import { openTableSource } from "../src/table/open.js";
import { get, registerBlosc2Codecs } from "../src/zarr/index.js";
import { ensureBuilt, FIXTURES, ROOT, readBytes } from "./helpers.js";

const B2ND = `${FIXTURES}/b2nd`;
let dir: string;
/** One path per way of failing, with the error each must raise. */
let cases: { kind: string; path: string; error: RegExp }[];

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zb2-fds-"));
  const good = readBytes(`${B2ND}/f4-2d.b2nd`);
  const put = (name: string, bytes: Uint8Array): string => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  // A corrupt chunk index: the bytes just before the trailer's tail garbled.
  const badIndex = good.slice();
  badIndex.fill(0xa5, good.length - 200, good.length - 40);
  // Sparse directories: a truncated chunks.b2frame, and a contiguous frame in its place.
  const sparseTrunc = join(dir, "sparse-trunc.b2frame");
  mkdirSync(sparseTrunc);
  const sparseFrame = readBytes(`${B2ND}/sparse-3d.b2frame/chunks.b2frame`);
  writeFileSync(join(sparseTrunc, "chunks.b2frame"), sparseFrame.subarray(0, 100));
  const sparseContig = join(dir, "sparse-contig.b2frame");
  mkdirSync(sparseContig);
  copyFileSync(`${B2ND}/f4-2d.b2nd`, join(sparseContig, "chunks.b2frame"));
  cases = [
    {
      kind: "truncated header",
      path: put("trunc-300.b2nd", good.subarray(0, 300)),
      error: /exceeds/,
    },
    {
      kind: "truncated tail",
      path: put("trunc-half.b2nd", good.subarray(0, good.length >> 1)),
      error: /exceeds/,
    },
    { kind: "empty file", path: put("empty.b2nd", new Uint8Array(0)), error: /./ },
    {
      kind: "not a frame",
      path: put(
        "junk.b2nd",
        new Uint8Array(5000).map((_, i) => (i * 7919) & 0xff),
      ),
      error: /not a Blosc2 frame/,
    },
    {
      kind: "unsupported dtype",
      path: `${B2ND}/U4-1d-unsupported.b2nd`,
      error: /unsupported dtype/,
    },
    {
      kind: "unsupported structured dtype",
      path: `${B2ND}/struct-1d-unsupported.b2nd`,
      error: /unsupported dtype/,
    },
    { kind: "corrupt index", path: put("bad-index.b2nd", badIndex), error: /./ },
    {
      kind: "sparse frame outside a directory",
      path: put("sparse-alone.b2nd", sparseFrame),
      error: /sparse frame header outside a directory/,
    },
    { kind: "truncated sparse directory", path: sparseTrunc, error: /exceeds|shorter/ },
    {
      kind: "contiguous frame in a sparse directory",
      path: sparseContig,
      error: /contiguous frame found in a sparse directory/,
    },
  ];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("failed opens close their files", () => {
  it("openB2nd(path), openB2nd(file: URL) and openTableSource: fd count back where it was", async () => {
    // Every case must really fail, with its own error (else the count proves nothing).
    for (const c of cases) {
      const err = await openB2nd(c.path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, c.kind).toBeInstanceOf(ZarrBlosc2Error);
      expect((err as Error).message, c.kind).toMatch(c.error);
    }
    const before = openFds();
    const rounds = 30;
    for (let i = 0; i < rounds; i++) {
      for (const c of cases) {
        await expect(openB2nd(c.path), c.kind).rejects.toThrow(ZarrBlosc2Error);
        await expect(openB2nd(pathToFileURL(c.path)), c.kind).rejects.toThrow(ZarrBlosc2Error);
        await expect(openTableSource(c.path), c.kind).rejects.toThrow(ZarrBlosc2Error);
      }
    }
    // 30 rounds x 10 kinds x 3 ways: one leaked handle per failure would be hundreds.
    expect(openFds() - before).toBeLessThanOrEqual(2);
  });

  it("a corrupt b2nd chunk in a Zarr store: get fails, no fd stays open", async () => {
    registerBlosc2Codecs(zarr.registry);
    const store = join(dir, "z.zarr");
    const arr = await zarr.create(zarr.root(new FileSystemStore(store)), {
      shape: [40, 30],
      chunkShape: [20, 30],
      dtype: "float32",
      codecs: [{ name: "b2nd", configuration: {} }],
      fillValue: 0,
    });
    await zarr.set(arr, null, {
      data: new Float32Array(1200).map((_, i) => i),
      shape: [40, 30],
      stride: [30, 1],
    });
    writeFileSync(join(store, "c", "1", "0"), new Uint8Array(400).fill(7));
    const opened = await zarr.open(zarr.root(new FileSystemStore(store)), { kind: "array" });
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      await expect(get(opened, [zarr.slice(25, 30), null]), "get").rejects.toThrow(ZarrBlosc2Error);
    }
    expect(openFds() - before).toBeLessThanOrEqual(2);
  });

  it("no DEP0137 / 'Closing file descriptor on garbage collection' in a child process", () => {
    ensureBuilt();
    const script = join(dir, "child.mjs");
    writeFileSync(
      script,
      `import { readdirSync } from "node:fs";
import { openB2nd } from ${JSON.stringify(pathToFileURL(`${ROOT}dist/index.js`).href)};
const paths = JSON.parse(process.argv[2]);
const fds = () => readdirSync("/proc/self/fd").length;
const before = fds();
let failed = 0;
for (let i = 0; i < 30; i++) {
  for (const p of paths) {
    try { await openB2nd(p); } catch (e) { if (e?.constructor?.name !== "Error") failed++; }
  }
}
const after = fds();
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
console.log(JSON.stringify({ failed, before, after }));
`,
    );
    const r = spawnSync(
      process.execPath,
      ["--expose-gc", script, JSON.stringify(cases.map((c) => c.path))],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
      failed: number;
      before: number;
      after: number;
    };
    expect(out.failed).toBe(30 * cases.length);
    expect(out.after - out.before).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toMatch(/DEP0137|Closing file descriptor/);
  });
});
