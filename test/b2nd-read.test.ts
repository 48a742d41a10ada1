// Every python-blosc2 b2nd fixture opens with the right metadata, and every selection reads
// the same values as NumPy (computed by fixtures/pyb2nd.py), decoding exactly the touched blocks.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type B2ndArray, type DimSelection, FormatError, openB2nd } from "../src/index.js";
import {
  type B2ndManifestArray,
  FIXTURES,
  readB2ndManifest,
  readBytes,
  readNpy,
  runPython,
} from "./helpers.js";

const manifest = readB2ndManifest();
const supported = manifest.arrays.filter((a) => !a.unsupported);
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytesOf = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** A few selections per array, covering integers, steps, negative steps and boxes. */
function selectionsFor(shape: number[]): DimSelection[][] {
  const s = (start: number | null, stop: number | null, step: number | null) => ({
    start,
    stop,
    step,
  });
  const out: DimSelection[][] = [[]];
  if (shape.length === 0 || shape.some((n) => n === 0)) return out;
  out.push(shape.map((n, d) => (d === 0 ? Math.floor(n / 2) : null)));
  out.push(shape.map((n) => s(1 % n, null, 2)));
  out.push(
    shape.map((n, d) =>
      d === shape.length - 1 ? s(null, null, -3) : s(Math.floor(n / 3), n - 1, null),
    ),
  );
  out.push(shape.map((n) => n - 1));
  out.push(shape.map((n, d) => (d % 2 === 0 ? s(-Math.min(n, 5), null, 1) : -1)));
  return out;
}

function numpyText(sel: DimSelection[]): string {
  return sel
    .map((x) => {
      if (x === null) return ":";
      if (typeof x === "number") return String(x);
      return `${x.start ?? ""}:${x.stop ?? ""}:${x.step ?? ""}`;
    })
    .join(",");
}

/** Independent reference: the (chunk, block) pairs the selected points fall in. */
function touchedBlocks(a: B2ndManifestArray, sel: DimSelection[]): Map<number, Set<number>> {
  const ndim = a.shape.length;
  const perDim = a.shape.map((n, d) => {
    const x = sel[d] ?? null;
    if (typeof x === "number") return [x < 0 ? x + n : x];
    const idx: number[] = [];
    const step = x?.step ?? 1;
    for (let i = 0; i < n; i++) idx.push(i);
    // Python slice semantics by brute force over all indices.
    const start = x?.start ?? (step > 0 ? 0 : n - 1);
    const stop = x?.stop ?? (step > 0 ? n : -n - 1);
    const norm = (v: number, lo: number, hi: number) =>
      Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const s0 = step > 0 ? norm(start, 0, n) : norm(start, -1, n - 1);
    const s1 = stop === -n - 1 ? -1 : step > 0 ? norm(stop, 0, n) : norm(stop, -1, n - 1);
    const picked: number[] = [];
    for (let i = s0; step > 0 ? i < s1 : i > s1; i += step) picked.push(i);
    return picked;
  });
  const chunkGrid = a.shape.map((n, d) => Math.ceil(n / a.chunks[d]!));
  const blockGrid = a.chunks.map((c, d) => Math.ceil(c / a.blocks[d]!));
  const out = new Map<number, Set<number>>();
  const pos = new Array<number>(ndim).fill(0);
  if (perDim.some((p) => p.length === 0)) return out;
  for (;;) {
    let chunk = 0;
    let block = 0;
    for (let d = 0; d < ndim; d++) {
      const i = perDim[d]![pos[d]!]!;
      const c = Math.floor(i / a.chunks[d]!);
      chunk = chunk * chunkGrid[d]! + c;
      block = block * blockGrid[d]! + Math.floor((i - c * a.chunks[d]!) / a.blocks[d]!);
    }
    if (!out.has(chunk)) out.set(chunk, new Set());
    out.get(chunk)!.add(block);
    let d = ndim - 1;
    while (d >= 0 && ++pos[d]! === perDim[d]!.length) pos[d--] = 0;
    if (d < 0) break;
  }
  return out;
}

/** Whether a stored chunk has the delta filter in its pipeline (and is not memcpyed). */
function hasDelta(file: Uint8Array, base: number): boolean {
  if ((file[base + 2]! & 0x02) !== 0) return false;
  return Array.from(file.subarray(base + 16, base + 22)).includes(3);
}

/** Blocks of a chunk that hold array data (edge chunks have padding-only blocks). */
function validBlocks(a: B2ndManifestArray, chunk: number): number {
  let rest = chunk;
  let n = 1;
  for (let d = a.shape.length - 1; d >= 0; d--) {
    const grid = Math.ceil(a.shape[d]! / a.chunks[d]!);
    const c = rest % grid;
    rest = Math.floor(rest / grid);
    n *= Math.ceil(Math.min(a.chunks[d]!, a.shape[d]! - c * a.chunks[d]!) / a.blocks[d]!);
  }
  return n;
}

/**
 * Bytes a read may take: for chunks the selection covers whole, the chunk; otherwise the
 * header, block starts and the touched blocks' streams (plus block 0 for delta).
 */
function byteBound(
  a: B2ndManifestArray,
  arr: B2ndArray,
  file: Uint8Array,
  touched: Map<number, Set<number>>,
): number {
  let bound = 0;
  for (const [chunk, blocks] of touched) {
    const loc = arr.offsets[chunk]!;
    if (loc.kind !== "data") continue;
    const base = arr.header.headerLength + loc.offset;
    const view = new DataView(file.buffer, file.byteOffset + base);
    const cbytes = view.getInt32(12, true);
    const blocksize = view.getInt32(8, true);
    const nblocks = Math.ceil(view.getInt32(4, true) / blocksize);
    if (blocks.size === validBlocks(a, chunk)) {
      bound += cbytes;
      continue;
    }
    if ((file[base + 2]! & 0x02) !== 0) {
      // memcpyed: raw blocks follow the header (the reader cannot know that before reading
      // the header, so it may have fetched a block-start table's worth of bytes with it).
      bound += 32 + 4 * nblocks + blocks.size * blocksize;
      continue;
    }
    const starts = Array.from({ length: nblocks }, (_, i) => view.getInt32(32 + 4 * i, true));
    const sorted = [...starts].sort((x, y) => x - y);
    const len = (b: number) => (sorted.find((s) => s > starts[b]!) ?? cbytes) - starts[b]!;
    const wanted = new Set(blocks);
    if (hasDelta(file, base)) wanted.add(0);
    let sum = 32 + 4 * nblocks;
    for (const b of wanted) sum += len(b);
    bound += Math.min(sum, cbytes);
  }
  return bound;
}

describe("b2nd fixtures from python-blosc2", () => {
  const expected = new Map<string, string>();
  beforeAll(() => {
    // All NumPy reference slices in one python run.
    const dir = mkdtempSync(join(tmpdir(), "zb-b2nd-"));
    const cases = supported.flatMap((a) =>
      selectionsFor(a.shape).map((sel, i) => {
        const out = join(dir, `${a.name}-${i}.npy`);
        expected.set(`${a.name}#${i}`, out);
        return { path: join(FIXTURES, a.path), selection: numpyText(sel), out };
      }),
    );
    writeFileSync(join(dir, "cases.json"), JSON.stringify({ cases }));
    const r = runPython(["fixtures/pyb2nd.py", "slice", join(dir, "cases.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  for (const a of manifest.arrays.filter((x) => x.unsupported)) {
    it(`${a.name}: unsupported dtype is a clear error`, async () => {
      await expect(openB2nd(join(FIXTURES, a.path))).rejects.toThrow(FormatError);
      await expect(openB2nd(join(FIXTURES, a.path))).rejects.toThrow(/unsupported dtype/);
    });
  }

  for (const a of supported) {
    it(`${a.name}: metadata, full read and selections equal NumPy`, async () => {
      const path = join(FIXTURES, a.path);
      const arr = await openB2nd(path, { mergeGap: 0 });
      expect(arr.shape).toEqual(a.shape);
      expect(arr.chunkShape).toEqual(a.chunks);
      expect(arr.blockShape).toEqual(a.blocks);
      // Old "caterva" files store no dtype: they read as unsigned integers of the typesize.
      expect(arr.dtype).toBe(a.metaDtype ?? `<u${a.typesize}`);
      expect(arr.attrs).toEqual(a.attrs);

      const all = await arr.get();
      expect(all.shape).toEqual(a.shape);
      if (a.sha256 !== null) expect(sha256(bytesOf(all.data))).toBe(a.sha256);
      else expect(bytesOf(all.data).every((v) => v === 0)).toBe(true); // uninitialized reads as zeros

      const file = a.sparse ? undefined : readBytes(path);
      const onlyData = Object.keys(a.chunkKinds).every((k) => k === "data");
      for (const [i, sel] of selectionsFor(a.shape).entries()) {
        const got = await arr.get(sel);
        const npy = readNpy(expected.get(`${a.name}#${i}`)!);
        expect(got.shape, numpyText(sel)).toEqual(npy.shape);
        if (a.metaDtype !== null) expect(npy.dtype).toBe(a.metaDtype);
        if (a.special !== "uninit") expect(bytesOf(got.data)).toEqual(npy.data);
        const touched = touchedBlocks(a, sel);
        expect(got.stats.chunksTouched).toBe(touched.size);
        if (file && onlyData) {
          let blocks = 0;
          for (const [chunk, set] of touched) {
            const loc = arr.offsets[chunk] as { offset: number };
            const delta = hasDelta(file, arr.header.headerLength + loc.offset);
            blocks += set.size + (delta && !set.has(0) ? 1 : 0);
          }
          expect(got.stats.blocksDecoded, numpyText(sel)).toBe(blocks);
          expect(got.stats.bytesRead, numpyText(sel)).toBeLessThanOrEqual(
            byteBound(a, arr, file, touched),
          );
        }
      }
      await arr.close();
    });
  }
  // batchBytes: 1 cuts every chunk into one-block chunks (plus block 0 for delta): the path
  // that keeps scratch memory at O(block) for chunks larger than the default 4 MiB batch.
  it("batches of one block (batchBytes: 1) read every fixture and selection equal", async () => {
    for (const a of supported) {
      const path = join(FIXTURES, a.path);
      const arr = await openB2nd(path, { batchBytes: 1 });
      const all = await arr.get();
      if (a.sha256 !== null) expect(sha256(bytesOf(all.data)), a.name).toBe(a.sha256);
      for (const [i, sel] of selectionsFor(a.shape).entries()) {
        const got = await arr.get(sel);
        const npy = readNpy(expected.get(`${a.name}#${i}`)!);
        if (a.special !== "uninit") expect(bytesOf(got.data), a.name).toEqual(npy.data);
      }
      await arr.close();
    }
  });
});

describe("sparse frames over HTTP", () => {
  it("read the same as from disk, with and without a trailing slash", async () => {
    const { startServer } = await import("./http-server.js");
    const server = await startServer(FIXTURES);
    try {
      for (const a of supported.filter((x) => x.sparse)) {
        const local = await openB2nd(join(FIXTURES, a.path));
        const want = await local.get();
        for (const url of [`${server.url}/${a.path}/`, `${server.url}/${a.path}`]) {
          const remote = await openB2nd(url);
          expect(remote.attrs).toEqual(a.attrs);
          const got = await remote.get();
          expect(bytesOf(got.data)).toEqual(bytesOf(want.data));
          const part = await remote.get(a.shape.map((n) => Math.floor(n / 2)));
          expect(part.stats.chunksTouched).toBe(1);
          expect(part.stats.requests).toBeGreaterThan(0);
        }
        await local.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe("frames written by writeB2nd", () => {
  it("read back equal through every selection kind", async () => {
    const { writeB2nd } = await import("../src/index.js");
    const shape = [23, 17, 9];
    const values = new Int32Array(23 * 17 * 9).map((_, i) => (i * 7919) % 1000);
    for (const filters of [["shuffle"], ["delta"], ["bitshuffle"]] as const) {
      const frame = await writeB2nd(values, shape, {
        chunkShape: [10, 8, 9],
        blockShape: [4, 3, 5],
        codec: "zstd",
        filters: [...filters],
      });
      const arr = await openB2nd(frame);
      expect(arr.dtype).toBe("<i4");
      expect((await arr.get()).data).toEqual(values);
      const got = await arr.get([
        { start: -3, stop: 2, step: -4 },
        5,
        { start: 1, stop: null, step: 3 },
      ]);
      const want: number[] = [];
      for (let i = 20; i > 2; i -= 4)
        for (let k = 1; k < 9; k += 3) want.push(values[i * 17 * 9 + 5 * 9 + k]!);
      expect(got.shape).toEqual([5, 3]);
      expect(Array.from(got.data as Int32Array)).toEqual(want);
    }
  });
});
