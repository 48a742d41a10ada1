// A corrupt chunk's error names the file, the chunk and the chunk's bytes, once:
// `<path>: chunk 3 (bytes 2420-3401): <problem>`, with `chunk` and `chunkRange` fields, through
// openB2nd(...).get (here and in a decode pool), sparse frames, Zarr get() and the CLI.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  Blosc2Error,
  FormatError,
  MemorySource,
  openB2nd,
  SourceError,
  ZarrBlosc2Error,
} from "../src/index.js";
import { get, registerBlosc2Codecs } from "../src/zarr/index.js";
import { cli, ensureBuilt, FIXTURES, ROOT, readBytes, runPython } from "./helpers.js";

const FIXTURE = `${FIXTURES}/b2nd/f4-2d.b2nd`;
const CHUNK = 3; // rows 16-31, columns 0-31 of the 50 x 70 array (chunks 16 x 32)
let dir: string;
/** Each chunk's stored bytes in the file, first and last, as python-blosc2 finds them. */
let ranges: [number, number][];
/** Corrupt copies: [what was damaged, path, expected class]. */
let copies: [string, string, typeof FormatError | typeof Blosc2Error][];

function quote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zb2-chunkerr-"));
  const r = runPython([
    "-c",
    `import blosc2, json, sys
a = blosc2.open(sys.argv[1])
data = open(sys.argv[1], "rb").read()
out = []
for i in range(a.schunk.nchunks):
    c = a.schunk.get_chunk(i)
    s = data.find(c)
    assert s > 0 and data.count(c) == 1
    out.append([s, s + len(c) - 1])
print(json.dumps(out))`,
    FIXTURE,
  ]);
  expect(r.status, r.stderr).toBe(0);
  ranges = JSON.parse(r.stdout) as [number, number][];
  const good = readBytes(FIXTURE);
  const [start] = ranges[CHUNK]!;
  const damage = (name: string, f: (bytes: Uint8Array) => void): string => {
    const bytes = good.slice();
    f(bytes);
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  copies = [
    [
      "block starts",
      damage("starts.b2nd", (b) => b.fill(0xee, start + 32, start + 40)),
      FormatError,
    ],
    ["nbytes", damage("nbytes.b2nd", (b) => (b[start + 4]! ^= 0xff)), FormatError],
    ["block data", damage("data.b2nd", (b) => b.fill(0, start + 80, start + 200)), Blosc2Error],
  ];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("b2nd files", () => {
  it("get() names the file, the chunk and its bytes, once", async () => {
    const [first, last] = ranges[CHUNK]!;
    for (const [what, path, kind] of copies) {
      const arr = await openB2nd(path);
      try {
        const err = await arr.get().catch((e: unknown) => e);
        expect(err, what).toBeInstanceOf(kind);
        const message = (err as Error).message;
        expect(message, what).toMatch(
          new RegExp(`^${quote(path)}: chunk ${CHUNK} \\(bytes ${first}-${last}\\): \\S`),
        );
        expect(occurrences(message, path), message).toBe(1);
        expect(occurrences(message, "chunk 3"), message).toBe(1);
        expect((err as ZarrBlosc2Error).chunk).toBe(CHUNK);
        expect((err as ZarrBlosc2Error).chunkRange).toEqual([first, last]);
        // The stack's first line says the same.
        expect((err as Error).stack?.split("\n")[0]).toContain(message);
        if (err instanceof FormatError) expect(err.source).toBe(path);
        // Chunks elsewhere still read.
        const ok = await arr.get([{ start: 0, stop: 16, step: null }, null]);
        expect(ok.shape).toEqual([16, 70]);
      } finally {
        await arr.close();
      }
    }
  });

  it("the same from a decode pool's workers", async () => {
    // Workers run dist/decode/pool-worker.js: use the built package (its own classes).
    ensureBuilt();
    const lib = (await import(`${ROOT}dist/index.js`)) as typeof import("../src/index.js");
    const pool = await lib.createDecodePool({ workers: 1, minBytes: 0 });
    try {
      for (const [what, path, kind] of copies) {
        const arr = await lib.openB2nd(path, { pool });
        const err = await arr.get().catch((e: unknown) => e);
        await arr.close();
        expect((err as Error).name, what).toBe(kind.name);
        expect((err as Error).message, what).toMatch(
          new RegExp(`^${quote(path)}: chunk ${CHUNK} \\(bytes ${ranges[CHUNK]!.join("-")}\\): `),
        );
        expect((err as ZarrBlosc2Error).chunk).toBe(CHUNK);
      }
    } finally {
      await pool.close();
    }
  });

  it("a failed read inside a chunk says which chunk", async () => {
    const bytes = readBytes(FIXTURE);
    const [first, last] = ranges[CHUNK]!;
    class Failing extends MemorySource {
      override async read(offset: number, length: number): Promise<Uint8Array> {
        if (offset >= first && offset <= last) {
          throw new SourceError(this.name, [offset, offset + length - 1], "connection reset");
        }
        return super.read(offset, length);
      }
    }
    const arr = await openB2nd(new Failing(bytes, "remote.b2nd"));
    const err = await arr.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(
      new RegExp(`^remote\\.b2nd bytes ${first}-\\d+: connection reset \\(reading chunk 3\\)$`),
    );
    expect((err as SourceError).problem).toBe("connection reset");
    expect((err as SourceError).chunk).toBe(CHUNK);
  });

  it("a sparse frame names the chunk's file", async () => {
    const sparse = join(dir, "sparse.b2frame");
    cpSync(`${FIXTURES}/b2nd/sparse-3d.b2frame`, sparse, { recursive: true });
    const file = join(sparse, "00000001.chunk");
    const bytes = readBytes(file).slice();
    bytes.fill(0xee, 32, 40); // the first block starts
    writeFileSync(file, bytes);
    const arr = await openB2nd(sparse);
    const err = await arr.get().catch((e: unknown) => e);
    await arr.close();
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(new RegExp(`^${quote(file)}: chunk 1: block 0 starts`));
    expect((err as ZarrBlosc2Error).chunk).toBe(1);
  });

  it("the CLI prints one line naming the file and the chunk", async () => {
    ensureBuilt();
    const out = join(dir, "out.npy");
    for (const [what, path] of copies) {
      const r = await cli("slice", path, "16:32, :", "--out", out);
      expect(r.status, what).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^zarr-blosc2: ${quote(path)}: chunk ${CHUNK} \\(bytes ${ranges[CHUNK]!.join("-")}\\): \\S`,
        ),
      );
    }
  });
});

describe("Zarr chunks", () => {
  beforeAll(() => registerBlosc2Codecs(zarr.registry));

  it("get() on a b2nd-coded array names the chunk's file", async () => {
    const root = join(dir, "b2nd.zarr");
    cpSync(`${FIXTURES}/zarr/b2nd-f8-2d.zarr`, root, { recursive: true });
    const key = join(root, "c", "1", "0");
    const bytes = readBytes(key).slice();
    const frame = await openB2nd(bytes);
    expect(frame.offsets).toHaveLength(1);
    const start = frame.header.headerLength + (frame.offsets[0] as { offset: number }).offset;
    bytes.fill(0xee, start + 32, start + 40); // the first block starts
    writeFileSync(key, bytes);
    const arr = await zarr.open(new FileSystemStore(root), { kind: "array" });
    const err = await get(arr, null).catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(ZarrBlosc2Error);
    expect((err as Error).message).toMatch(
      new RegExp(`^${quote(key)}: chunk 0 \\(bytes ${start}-\\d+\\): block 0 starts at`),
    );
  });

  it("get() through zarr.get (a blosc2-coded array) names the array and the chunk", async () => {
    const root = join(dir, "blosc2.zarr");
    cpSync(`${FIXTURES}/zarr/v2-blosc2-f4-2d.zarr`, root, { recursive: true });
    const key = join(root, "1.0");
    const bytes = readBytes(key).slice();
    bytes.fill(0, 40, 200);
    writeFileSync(key, bytes);
    const arr = await zarr.open(new FileSystemStore(root), { kind: "array" });
    const err = await get(arr, null).catch((e: unknown) => e);
    expect(err, String(err)).toBeInstanceOf(ZarrBlosc2Error);
    expect((err as Error).message).toMatch(new RegExp(`^${quote(root)}/: chunk \\[1,0\\]: `));
    expect((err as ZarrBlosc2Error).chunk).toEqual([1, 0]);
  });
});
