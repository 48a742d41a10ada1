// b2nd frames written here must open in python-blosc2 (native C-Blosc2) with the same values,
// geometry, dtype and attributes; and the frame header must match what C-Blosc2 writes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type B2ndWriteOptions,
  chunkBuffer,
  DEFAULT_BLOCK_BYTES,
  DEFAULT_CHUNK_BYTES,
  defaultBlockShape,
  defaultChunkShape,
  planB2nd,
  writeB2nd,
  writeB2ndFile,
} from "../src/decode/b2nd-write.js";
import { decompress } from "../src/decode/blosc2.js";
import { OptionsError } from "../src/errors.js";
import { chunkInfo } from "../src/format/chunk.js";
import {
  buildFrame,
  chunkOffsets,
  encodeB2ndMeta,
  encodeTrailer,
  FRAME_FIELDS,
} from "../src/format/frame-write.js";
import { runPython } from "./helpers.js";

interface PyResult {
  path: string;
  shape?: number[];
  chunks?: number[];
  blocks?: number[];
  dtype?: string;
  nchunks?: number;
  attrs?: Record<string, unknown>;
  equal: boolean;
  error?: string;
}

interface Case {
  name: string;
  data: ArrayBufferView;
  shape: number[];
  options?: B2ndWriteOptions;
  /** Stored bytes python must read back (default: the bytes of `data`). */
  expected?: Uint8Array;
  /** Geometry python must report (default: the options'). */
  chunks?: number[];
  blocks?: number[];
  dtype: string;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** Deterministic values with structure (compressible) and some noise. */
function values(n: number, seed = 1): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out.push(Math.round(Math.sin(i / 17) * 1000) + (s % 7));
  }
  return out;
}

function swapped(bytes: Uint8Array, unit: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += unit)
    for (let j = 0; j < unit; j++) out[i + j] = bytes[i + unit - 1 - j]!;
  return out;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zb-b2nd-write-"));
});

async function readInPython(cases: Case[]): Promise<{ status: number; results: PyResult[] }> {
  const list: { path: string; expected: string }[] = [];
  for (const c of cases) {
    const path = join(dir, `${c.name}.b2nd`);
    const expected = join(dir, `${c.name}.bin`);
    await writeB2ndFile(path, c.data, c.shape, c.options);
    writeFileSync(expected, c.expected ?? bytesOf(c.data));
    list.push({ path, expected });
  }
  const casesPath = join(dir, `cases-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(casesPath, JSON.stringify(list));
  const r = runPython(["test/py/read_b2nd.py", casesPath]);
  if (!r.stdout) throw new Error(`python failed: ${r.stderr}`);
  return { status: r.status, results: (JSON.parse(r.stdout) as { results: PyResult[] }).results };
}

function expectRead(c: Case, r: PyResult | undefined) {
  expect(r, c.name).toBeDefined();
  expect(r!.error, c.name).toBeUndefined();
  expect({ name: c.name, equal: r!.equal }).toEqual({ name: c.name, equal: true });
  expect(r!.shape, c.name).toEqual(c.shape);
  expect(r!.dtype, c.name).toBe(c.dtype);
  const layout = planB2nd(c.data, c.shape, c.options);
  expect(r!.chunks, c.name).toEqual(c.chunks ?? layout.chunkShape);
  expect(r!.blocks, c.name).toEqual(c.blocks ?? layout.blockShape);
  expect(r!.nchunks, c.name).toBe(layout.nchunks);
}

describe("writeB2nd read back by python-blosc2", () => {
  it("1-D, 3-D with edge padding everywhere, ndim 0, zero-length dims, many dtypes", async () => {
    const f8 = new Float64Array(values(37 * 29 * 11));
    const i4 = new Int32Array(values(37 * 29 * 11, 7));
    const beI4 = swapped(bytesOf(i4), 4);
    const boolBytes = new Uint8Array(values(100 * 7, 3).map((v) => (v % 3 === 0 ? 1 : 0)));
    const boolMessy = boolBytes.map((v, i) => (v ? 1 + (i % 200) : 0)); // non-0/1 truthy bytes
    const c16 = new Float64Array(values(2 * 12 * 13, 5).map((v) => v / 8));
    const c8 = new Float32Array(values(2 * 40, 9).map((v) => v / 4));
    const f2 = new Uint16Array(values(300, 11).map((v) => 0x3c00 + (v & 0x3ff)));
    const i1 = new Int8Array(values(333, 13).map((v) => v % 128));
    const u8 = new BigUint64Array(values(64, 17).map((v) => BigInt(Math.abs(v)) * 2n ** 40n));
    const i8 = new BigInt64Array(values(50, 19).map((v) => BigInt(v) * -(2n ** 33n)));
    const f4 = new Float32Array(values(6 * 5 * 4 * 3, 23).map((v) => v / 3));
    f4[5] = Number.NaN;
    const u2 = new Uint16Array(values(1000, 29).map((v) => v & 0xffff));
    const beF8 = new Float64Array(values(200, 31).map((v) => v * 1.25));
    const fifteen = [2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 3];
    const eight = new Uint8Array(prod([2, 3, 2, 3, 2, 2, 3, 2])).map((_, i) => i & 0xff);
    const cases: Case[] = [
      {
        name: "one-d",
        data: new Float64Array(values(10_000)),
        shape: [10_000],
        options: { chunkShape: [3000], blockShape: [700] },
        dtype: "<f8",
      },
      {
        name: "three-d",
        data: f8,
        shape: [37, 29, 11],
        options: { chunkShape: [16, 12, 6], blockShape: [5, 7, 4] },
        dtype: "<f8",
      },
      {
        name: "three-d-lz4-bitshuffle",
        data: i4,
        shape: [37, 29, 11],
        options: {
          chunkShape: [16, 12, 6],
          blockShape: [5, 7, 4],
          codec: "lz4",
          filters: ["bitshuffle"],
        },
        dtype: "<i4",
      },
      {
        name: "big-endian-raw",
        data: beI4,
        shape: [37, 29, 11],
        options: { dtype: ">i4", chunkShape: [10, 10, 10], blockShape: [3, 4, 5] },
        dtype: ">i4",
      },
      {
        name: "big-endian-typed",
        data: beF8,
        shape: [20, 10],
        options: { dtype: ">f8", chunkShape: [7, 7], blockShape: [3, 2], codec: "zlib" },
        expected: swapped(bytesOf(beF8), 8),
        dtype: ">f8",
      },
      { name: "zero-d", data: new Float64Array([3.5]), shape: [], dtype: "<f8" },
      {
        name: "zero-d-bool",
        data: new Uint8Array([1]),
        shape: [],
        options: { dtype: "|b1" },
        dtype: "|b1",
      },
      {
        name: "zero-length",
        data: new Int32Array(0),
        shape: [5, 0, 3],
        chunks: [5, 0, 3],
        blocks: [5, 0, 3],
        dtype: "<i4",
      },
      {
        name: "zero-length-explicit",
        data: new Int32Array(0),
        shape: [5, 0, 3],
        options: { chunkShape: [2, 1, 2], blockShape: [1, 1, 1] },
        dtype: "<i4",
      },
      { name: "zero-length-1d", data: new Float32Array(0), shape: [0], dtype: "<f4" },
      {
        name: "bool",
        data: boolBytes,
        shape: [100, 7],
        options: { dtype: "|b1", chunkShape: [30, 7], blockShape: [8, 3] },
        dtype: "|b1",
      },
      {
        name: "bool-normalised",
        data: boolMessy,
        shape: [100, 7],
        options: { dtype: "bool", chunkShape: [64, 4], blockShape: [16, 4] },
        expected: boolBytes,
        dtype: "|b1",
      },
      {
        name: "complex128",
        data: c16,
        shape: [12, 13],
        options: { dtype: "<c16", chunkShape: [5, 6], blockShape: [2, 3] },
        dtype: "<c16",
      },
      {
        name: "complex64-bytedelta",
        data: c8,
        shape: [40],
        options: { dtype: "<c8", chunkShape: [16], blockShape: [5], filters: ["bytedelta"] },
        dtype: "<c8",
      },
      {
        name: "float16",
        data: f2,
        shape: [300],
        options: { dtype: "<f2", chunkShape: [128], blockShape: [50], codec: "blosclz" },
        dtype: "<f2",
      },
      {
        name: "int8-delta",
        data: i1,
        shape: [9, 37],
        options: { chunkShape: [4, 20], blockShape: [3, 7], filters: ["delta"] },
        dtype: "|i1",
      },
      {
        name: "uint64-lz4hc",
        data: u8,
        shape: [8, 8],
        options: { chunkShape: [3, 5], blockShape: [2, 2], codec: "lz4hc", clevel: 9 },
        dtype: "<u8",
      },
      {
        name: "int64-no-filters",
        data: i8,
        shape: [50],
        options: { chunkShape: [20], blockShape: [20], filters: [] },
        dtype: "<i8",
      },
      {
        name: "float32-nan-shuffle-delta",
        data: f4,
        shape: [6, 5, 4, 3],
        options: {
          chunkShape: [4, 3, 3, 2],
          blockShape: [2, 2, 2, 1],
          filters: ["shuffle", "delta"],
        },
        dtype: "<f4",
      },
      {
        name: "clevel-0",
        data: u2,
        shape: [1000],
        options: { chunkShape: [300], blockShape: [64], clevel: 0 },
        dtype: "<u2",
      },
      {
        name: "tiny-memcpyed",
        data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        shape: [10],
        options: { chunkShape: [10], blockShape: [3] },
        dtype: "|u1",
      },
      {
        name: "chunks-larger-than-shape",
        data: new Int16Array(values(10)),
        shape: [10],
        options: { chunkShape: [16], blockShape: [8] },
        dtype: "<i2",
      },
      {
        name: "eight-d",
        data: eight,
        shape: [2, 3, 2, 3, 2, 2, 3, 2],
        options: { chunkShape: [1, 2, 2, 2, 1, 2, 2, 2], blockShape: [1, 1, 2, 1, 1, 2, 1, 2] },
        dtype: "|u1",
      },
      {
        name: "fifteen-d",
        data: new Uint16Array(prod(fifteen)).map((_, i) => i * 7),
        shape: fifteen,
        options: { chunkShape: fifteen.map((n) => n), blockShape: fifteen.map(() => 1) },
        dtype: "<u2",
      },
      {
        name: "defaults-small",
        data: new Float64Array(values(37 * 29 * 11)),
        shape: [37, 29, 11],
        chunks: [37, 29, 11], // 94 KB: one chunk of one block
        blocks: [37, 29, 11],
        dtype: "<f8",
      },
    ];
    const { status, results } = await readInPython(cases);
    cases.forEach((c, i) => {
      expectRead(c, results[i]);
    });
    expect(status).toBe(0);
  });

  it("default chunks and blocks on a larger array", async () => {
    const shape = [300, 500, 20];
    const data = new Float32Array(prod(shape));
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i / 1000) * 50 + (i % 13);
    const layout = planB2nd(data, shape);
    // 12 MB halved on the largest dimension until at most 4 MiB, then to at most 128 KiB.
    expect(layout.chunkShape).toEqual([150, 250, 20]);
    expect(layout.blockShape).toEqual([38, 32, 20]);
    expect(layout.chunkBytes).toBeLessThanOrEqual(DEFAULT_CHUNK_BYTES);
    expect(prod(layout.blockShape) * 4).toBeLessThanOrEqual(DEFAULT_BLOCK_BYTES);
    const c: Case = { name: "defaults-large", data, shape, dtype: "<f4" };
    const { status, results } = await readInPython([c]);
    expectRead(c, results[0]);
    expect(status).toBe(0);
  });

  it("stores attrs the way python-blosc2 reads them (vlmeta)", async () => {
    const attrs = {
      title: "temperature",
      nested: { units: "K", range: [200.5, 330], flags: { ok: true, missing: null } },
      list: [1, "two", 3.25, [4, 5], { six: 6 }],
      big: 2 ** 40,
      negative: -12345678901,
      ünïcode: "✓ ok",
      bytes: new Uint8Array([0, 1, 255]),
      empty: {},
      long: "x".repeat(5000),
      many: Array.from({ length: 300 }, (_, i) => i * 1.5 - 7),
    };
    const c: Case = {
      name: "attrs",
      data: new Int32Array(values(100)),
      shape: [10, 10],
      options: { chunkShape: [4, 4], blockShape: [2, 2], attrs },
      dtype: "<i4",
    };
    const empty: Case = {
      name: "attrs-on-empty",
      data: new Int32Array(0),
      shape: [0, 4],
      options: { attrs: { a: 1 } },
      dtype: "<i4",
    };
    const { status, results } = await readInPython([c, empty]);
    expectRead(c, results[0]);
    expectRead(empty, results[1]);
    expect(results[0]!.attrs).toEqual({ ...attrs, bytes: { bytes: [0, 1, 255] } });
    expect(results[1]!.attrs).toEqual({ a: 1 });
    expect(status).toBe(0);
  });

  it("the python check fails on different values (it can fail)", async () => {
    const data = new Float64Array(values(100));
    const wrong = bytesOf(data);
    wrong[17] = wrong[17]! ^ 1;
    const c: Case = { name: "mismatch", data, shape: [100], expected: wrong, dtype: "<f8" };
    const { status, results } = await readInPython([c]);
    expect(results[0]!.equal).toBe(false);
    expect(status).toBe(1);
  });
});

describe("frame bytes match C-Blosc2's", () => {
  // python-blosc2 writes the same arrays; the header fields that do not depend on the
  // compressed sizes (or on nthreads and the filter slot order) must agree byte for byte.
  const pyScript = `
import sys, json, blosc2, numpy as np
spec = json.loads(sys.argv[1])
a = np.frombuffer(open(spec["raw"], "rb").read(), dtype=spec["dtype"]).reshape(spec["shape"])
kw = {}
if spec.get("chunks") is not None:
    kw["chunks"] = tuple(spec["chunks"]); kw["blocks"] = tuple(spec["blocks"])
arr = blosc2.asarray(a, urlpath=spec["out"], mode="w",
    cparams=blosc2.CParams(codec=blosc2.Codec.ZSTD, clevel=5, nthreads=1), **kw)
for k, v in spec.get("attrs", {}).items():
    arr.vlmeta[k] = v
`;

  async function compare(
    name: string,
    data: ArrayBufferView,
    shape: number[],
    dtype: string,
    options: B2ndWriteOptions = {},
  ) {
    const ours = await writeB2nd(data, shape, { ...options, dtype });
    const raw = join(dir, `${name}-raw.bin`);
    const out = join(dir, `${name}-py.b2nd`);
    writeFileSync(raw, bytesOf(data));
    const spec = {
      raw,
      out,
      dtype,
      shape,
      chunks: options.chunkShape ?? null,
      blocks: options.blockShape ?? null,
      attrs: options.attrs ?? {},
    };
    const r = runPython(["-c", pyScript, JSON.stringify(spec)]);
    expect(r.status, r.stderr).toBe(0);
    const theirs = new Uint8Array(readFileSync(out));
    const hlen = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getInt32(11);
    expect(hlen(ours)).toBe(hlen(theirs));
    const F = FRAME_FIELDS;
    // Everything but frame_len, cbytes, nthreads and the filter/filter-meta slots.
    const same: [number, number][] = [
      [0, F.frameLen],
      [F.frameLen + 8, F.cbytes],
      [F.cbytes + 8, F.nthreadsC],
      [F.hasVlmetalayers, F.filterPipeline + 1],
      [F.udcodec, F.filtersMeta],
      [F.otherFlags2, hlen(theirs)],
    ];
    for (const [from, to] of same) {
      expect([from, Array.from(ours.subarray(from, to))]).toEqual([
        from,
        Array.from(theirs.subarray(from, to)),
      ]);
    }
    const nonzero = (b: Uint8Array, at: number) =>
      Array.from(b.subarray(at, at + 6)).filter(Boolean);
    expect(nonzero(ours, F.filterPipeline + 1)).toEqual(nonzero(theirs, F.filterPipeline + 1));
    // Trailer: same length and same bytes outside the vlmetalayer contents.
    const tlen = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(b.length - 22);
    expect(tlen(ours)).toBe(tlen(theirs));
    return { ours, theirs, tlen: tlen(ours) };
  }

  it("3-D float64 with edge padding", async () => {
    const data = new Float64Array(values(37 * 29 * 11));
    const { ours, theirs, tlen } = await compare("hdr-3d", data, [37, 29, 11], "<f8", {
      chunkShape: [16, 12, 6],
      blockShape: [5, 7, 4],
    });
    expect(Array.from(ours.subarray(ours.length - tlen))).toEqual(
      Array.from(theirs.subarray(theirs.length - tlen)),
    );
  });

  it("ndim 0 and zero-length shapes (no chunks, no offsets index)", async () => {
    for (const [name, data, shape, dtype, options] of [
      ["hdr-0d", new Float64Array([3.5]), [], "<f8", {}],
      ["hdr-empty", new Int32Array(0), [5, 0, 3], "<i4", {}],
      [
        "hdr-empty-explicit",
        new Int32Array(0),
        [5, 0, 3],
        "<i4",
        { chunkShape: [2, 1, 2], blockShape: [1, 1, 1] },
      ],
    ] as const) {
      const { ours, theirs, tlen } = await compare(name, data, [...shape], dtype, options);
      expect(Array.from(ours.subarray(ours.length - tlen))).toEqual(
        Array.from(theirs.subarray(theirs.length - tlen)),
      );
      if (prod(shape) === 0) {
        // Header then trailer, nothing between: same length as python's.
        const headerLen = new DataView(ours.buffer, ours.byteOffset).getInt32(11);
        expect(ours.length).toBe(headerLen + tlen);
        expect(ours.length).toBe(theirs.length);
      }
    }
  });

  it("attrs trailer has python's layout", async () => {
    const data = new Int32Array(values(60));
    const attrs = { x: { a: [1, 2, 3], b: "hi" }, y: 7 };
    const { ours, theirs, tlen } = await compare("hdr-attrs", data, [60], "<i4", {
      chunkShape: [20],
      blockShape: [10],
      attrs,
    });
    const t1 = ours.subarray(ours.length - tlen);
    const t2 = theirs.subarray(theirs.length - tlen);
    // The index (names and offsets) agrees; contents are chunks of the same msgpack bytes.
    const idxEnd = 3 + new DataView(t1.buffer, t1.byteOffset).getUint16(4);
    expect(Array.from(t1.subarray(0, idxEnd))).toEqual(Array.from(t2.subarray(0, idxEnd)));
    expect(Array.from(t1.subarray(tlen - 23))).toEqual(Array.from(t2.subarray(tlen - 23)));
  });
});

describe("frame pieces", () => {
  it("encodeB2ndMeta matches C-Blosc2's b2nd_serialize_meta", () => {
    const meta = encodeB2ndMeta({ shape: [], chunkShape: [], blockShape: [], dtype: "<f8" });
    expect(Array.from(meta)).toEqual([
      0x97, 0, 0, 0x90, 0x90, 0x90, 0, 0xdb, 0, 0, 0, 3, 0x3c, 0x66, 0x38,
    ]);
    const m1 = encodeB2ndMeta({
      shape: [1000],
      chunkShape: [1000],
      blockShape: [1000],
      dtype: "<i4",
    });
    expect(Buffer.from(m1).toString("hex")).toBe(
      "970001" + "91d300000000000003e8" + "91d2000003e8" + "91d2000003e8" + "00db000000033c6934",
    );
  });

  it("empty trailer is C-Blosc2's 35 bytes", () => {
    expect(Buffer.from(encodeTrailer()).toString("hex")).toBe(
      `9401${"93cd0006de0000dc0000"}ce00000023d800${"00".repeat(16)}`,
    );
  });

  it("chunk buffers are block-ordered with zero padding", () => {
    // shape (3, 5) chunk (3, 5) blocks (2, 3): padded chunk (4, 6), 4 blocks of 6 items.
    const data = new Uint8Array(15).map((_, i) => i + 1);
    const layout = planB2nd(data, [3, 5], { chunkShape: [3, 5], blockShape: [2, 3] });
    expect(layout.paddedChunkShape).toEqual([4, 6]);
    expect(Array.from(chunkBuffer(data, layout, 0))).toEqual([
      ...[1, 2, 3, 6, 7, 8], // block (0,0)
      ...[4, 5, 0, 9, 10, 0], // block (0,1)
      ...[11, 12, 13, 0, 0, 0], // block (1,0)
      ...[14, 15, 0, 0, 0, 0], // block (1,1)
    ]);
  });

  it("chunks carry the b2nd blocksize and the offsets index points at them", async () => {
    const data = new Float64Array(values(37 * 29 * 11));
    const frame = await writeB2nd(data, [37, 29, 11], {
      chunkShape: [16, 12, 6],
      blockShape: [5, 7, 4],
    });
    const view = new DataView(frame.buffer, frame.byteOffset);
    const headerLen = view.getInt32(FRAME_FIELDS.headerLen);
    const cbytes = Number(view.getBigInt64(FRAME_FIELDS.cbytes));
    expect(Number(view.getBigUint64(FRAME_FIELDS.frameLen))).toBe(frame.length);
    expect(view.getInt32(FRAME_FIELDS.blocksize)).toBe(5 * 7 * 4 * 8);
    expect(view.getInt32(FRAME_FIELDS.chunksize)).toBe(20 * 14 * 8 * 8);
    const index = frame.subarray(headerLen + cbytes);
    const offsets = new DataView((await decompress(index)).buffer);
    expect(offsets.byteLength).toBe(3 * 3 * 2 * 8);
    const chunks: Uint8Array[] = [];
    for (let k = 0; k < 18; k++) {
      const at = headerLen + Number(offsets.getBigInt64(k * 8, true));
      const info = chunkInfo(frame.subarray(at));
      expect(info.blocksize).toBe(5 * 7 * 4 * 8);
      chunks.push(frame.subarray(at, at + info.cbytes));
    }
    expect(chunkOffsets(chunks)).toEqual(
      Array.from({ length: 18 }, (_, k) => Number(offsets.getBigInt64(k * 8, true))),
    );
  });

  it("buildFrame refuses inconsistent parts", async () => {
    const frame = await writeB2nd(new Float64Array(values(100)), [100], {
      chunkShape: [40],
      blockShape: [10],
    });
    expect(frame.length).toBeGreaterThan(0);
    const base = {
      chunks: [],
      nbytes: 0,
      typesize: 8,
      blocksize: 80,
      chunksize: 320,
      codec: "zstd",
      clevel: 5,
      filters: ["shuffle"],
    } as const;
    expect(() => buildFrame({ ...base, nbytes: 8 })).toThrow(OptionsError);
    expect(() =>
      buildFrame({
        ...base,
        metalayers: { "a-name-that-is-longer-than-31-bytes": new Uint8Array(1) },
      }),
    ).toThrow(OptionsError);
  });
});

describe("writeB2nd options", () => {
  const f8 = new Float64Array(24);
  const bad: [string, () => Promise<unknown>, RegExp][] = [
    ["shape/data mismatch", () => writeB2nd(f8, [5, 5]), /data holds 192 bytes/],
    ["negative shape", () => writeB2nd(f8, [-24]), /shape must hold non-negative/],
    ["fractional shape", () => writeB2nd(f8, [2.5, 4]), /shape must hold non-negative/],
    ["chunk ndim", () => writeB2nd(f8, [4, 6], { chunkShape: [4] }), /chunkShape has 1/],
    ["block ndim", () => writeB2nd(f8, [4, 6], { blockShape: [2, 2, 2] }), /blockShape has 3/],
    [
      "zero block",
      () => writeB2nd(f8, [4, 6], { chunkShape: [4, 6], blockShape: [0, 2] }),
      /blockShape\[0\] is 0/,
    ],
    ["zero chunk", () => writeB2nd(f8, [4, 6], { chunkShape: [4, 0] }), /chunkShape\[1\] is 0/],
    [
      "block > chunk",
      () => writeB2nd(f8, [4, 6], { chunkShape: [4, 3], blockShape: [2, 4] }),
      /blockShape\[1\] = 4 exceeds chunkShape\[1\] = 3/,
    ],
    ["too many dims", () => writeB2nd(new Uint8Array(1), new Array(16).fill(1)), /at most 15/],
    ["unsupported dtype", () => writeB2nd(f8, [24], { dtype: "<M8" }), /unsupported dtype "<M8"/],
    ["dtype vs array", () => writeB2nd(f8, [48], { dtype: "<f4" }), /does not match Float64Array/],
    [
      "DataView without dtype",
      () => writeB2nd(new DataView(new ArrayBuffer(8)), [1]),
      /dtype is required/,
    ],
    ["not data", () => writeB2nd([1, 2] as unknown as Uint8Array, [2]), /data must be/],
    ["codec", () => writeB2nd(f8, [24], { codec: "snappy" as "zstd" }), /unknown codec "snappy"/],
    ["clevel", () => writeB2nd(f8, [24], { clevel: 10 }), /clevel must be/],
    [
      "filter",
      () => writeB2nd(f8, [24], { filters: ["nope" as "shuffle"] }),
      /unknown filter "nope"/,
    ],
    [
      "trunc_prec on ints",
      () => writeB2nd(new Int32Array(4), [4], { filters: ["trunc_prec"], filtersMeta: [5] }),
      /trunc_prec needs/,
    ],
    [
      "attrs name",
      () => writeB2nd(f8, [24], { attrs: { ["n".repeat(32)]: 1 } }),
      /attrs name "n+" is longer than 31/,
    ],
    [
      "attrs value",
      () => writeB2nd(f8, [24], { attrs: { f: () => 1 } }),
      /attrs "f" cannot be stored/,
    ],
    [
      "attrs type",
      () => writeB2nd(f8, [24], { attrs: [1] as unknown as Record<string, unknown> }),
      /attrs must be/,
    ],
  ];
  for (const [what, run, message] of bad) {
    it(`refuses: ${what}`, async () => {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OptionsError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it("default shapes stay within the shape and the byte targets", () => {
    expect(defaultChunkShape([10_000_000], 8)).toEqual([312_500]);
    expect(defaultBlockShape([312_500], 8)).toEqual([9766]);
    expect(defaultChunkShape([3, 0, 4], 4)).toEqual([3, 0, 4]);
    expect(defaultChunkShape([], 8)).toEqual([]);
    expect(defaultChunkShape([7, 3], 1)).toEqual([7, 3]);
    // Blocks given, chunks defaulted: chunks become whole blocks.
    const layout = planB2nd(new Float64Array(1000 * 1000), [1000, 1000], {
      blockShape: [100, 300],
    });
    expect(layout.chunkShape).toEqual([500, 900]);
    expect(layout.chunkShape.every((c, d) => c % layout.blockShape[d]! === 0)).toBe(true);
  });
});
