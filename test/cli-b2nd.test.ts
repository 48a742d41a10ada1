import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeNpy } from "../src/cli/npy.js";
import { parseNumpySelection } from "../src/cli/parse-selection.js";
import { OptionsError } from "../src/errors.js";
import { type CliResult, cli, ensureBuilt, runPython } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

/** Newest modification time of the files under a directory. */

function py(script: string): unknown {
  const r = runPython(["-c", script]);
  if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** One line on stderr, in the CLI's error format. */
function expectOneLineError(r: CliResult, pattern: RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^zarr-blosc2: /);
  expect(lines[0]).toMatch(pattern);
}

interface PyInfo {
  shape: number[];
  chunks: number[];
  blocks: number[];
  dtype: string;
  codec: string;
  clevel: number;
  nbytes: number;
  cbytes: number;
  nchunks: number;
  attrs: Record<string, unknown>;
}

let dir: string;
let arrays: Record<string, PyInfo>;

// Arrays python-blosc2 writes for the tests, with what python says about them.
const GENERATE = `
import json, sys
import numpy as np, blosc2
d = sys.argv[1]
out = {}
def save(name, arr, attrs=None, **kw):
    a = blosc2.asarray(arr, urlpath=f"{d}/{name}.b2nd", mode="w", **kw)
    for k, v in (attrs or {}).items():
        a.vlmeta[k] = v
    b = blosc2.open(f"{d}/{name}.b2nd")
    out[name] = dict(shape=list(b.shape), chunks=list(b.chunks), blocks=list(b.blocks),
        dtype=b.dtype.str, codec=b.cparams.codec.name.lower(), clevel=b.cparams.clevel,
        nbytes=b.schunk.nbytes, cbytes=b.schunk.cbytes, nchunks=b.schunk.nchunks,
        attrs={k: b.vlmeta[k] for k in b.vlmeta.keys()})
rng = np.random.default_rng(7)
f3 = np.linspace(0, 1, 20 * 30 * 40).reshape(20, 30, 40) + rng.normal(0, 1e-3, (20, 30, 40))
save("f3", f3, attrs={"units": "m/s", "meta": {"source": "test", "levels": [1, 2, 3]}},
     chunks=(7, 11, 13), blocks=(3, 4, 5),
     cparams=dict(codec=blosc2.Codec.ZSTD, clevel=3,
                  filters=[blosc2.Filter.SHUFFLE, blosc2.Filter.BYTEDELTA], filters_meta=[0, 0]))
save("be", (np.arange(37 * 23).reshape(37, 23) - 400).astype(">i4"),
     chunks=(10, 8), blocks=(4, 3), cparams=dict(codec=blosc2.Codec.LZ4HC, clevel=7))
save("hi", np.arange(1000, dtype="<u2"), chunks=(300,), blocks=(100,),
     cparams=dict(codec=blosc2.Codec.ZLIB, clevel=9))
save("sp", np.arange(100, dtype="<i8").reshape(10, 10), chunks=(4, 4), blocks=(2, 2),
     contiguous=False)
save("b1", np.arange(50) % 3 == 0, chunks=(16,), blocks=(4,))
save("c16", (np.arange(60) - 1j * np.arange(60)).astype("<c16").reshape(3, 4, 5),
     chunks=(2, 3, 5), blocks=(1, 2, 5))
save("f2", (np.arange(90) / 7).astype("<f2").reshape(9, 10), chunks=(4, 4), blocks=(2, 2))
save("scalar", np.array(3.25))
blosc2.zeros((10, 10), dtype="<f8", chunks=(5, 5), blocks=(5, 5), urlpath=f"{d}/zeros.b2nd", mode="w")
print(json.dumps(out))
`;

// Loads each written .npy and compares it with numpy's arr[()][sel] on the same array.
const COMPARE = `
import json, sys
import numpy as np, blosc2
res = []
for name, sel, npy in json.load(sys.stdin):
    ref = blosc2.open(name)[()]
    want = np.asarray(ref[()] if sel.strip() == "" else eval("ref[" + sel + "]"))
    got = np.load(npy)
    res.append(dict(sel=sel, equal=bool(np.array_equal(got, want)), dtype=got.dtype.str,
        wantDtype=want.dtype.str, shape=list(got.shape), wantShape=list(want.shape)))
print(json.dumps(res))
`;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "zarr-blosc2-cli-"));
  const r = runPython(["-c", GENERATE, dir]);
  if (r.status !== 0) throw new Error(`python-blosc2 failed:\n${r.stderr}`);
  arrays = JSON.parse(r.stdout) as Record<string, PyInfo>;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("zarr-blosc2 info", () => {
  it("--json reports what python-blosc2 says about the array", async () => {
    for (const name of ["f3", "be", "b1", "c16", "f2", "scalar"]) {
      const r = await cli("info", join(dir, `${name}.b2nd`), "--json");
      expect(r.status, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout) as Record<string, unknown>;
      const p = arrays[name]!;
      expect(Object.keys(info)).toEqual([
        "format",
        "shape",
        "dtype",
        "chunkShape",
        "blockShape",
        "codec",
        "clevel",
        "filters",
        "nbytes",
        "cbytes",
        "ratio",
        "nchunks",
        "specialChunks",
        "sparse",
        "attrs",
      ]);
      expect(info).toMatchObject({
        shape: p.shape,
        dtype: p.dtype,
        chunkShape: p.chunks,
        blockShape: p.blocks,
        codec: p.codec,
        clevel: p.clevel,
        nbytes: p.nbytes,
        cbytes: p.cbytes,
        nchunks: p.nchunks,
        sparse: false,
        attrs: p.attrs,
      });
      expect(info.ratio).toBeCloseTo(p.nbytes / p.cbytes, 10);
    }
    const f3 = JSON.parse((await cli("info", join(dir, "f3.b2nd"), "--json")).stdout) as {
      filters: string[];
      attrs: Record<string, unknown>;
    };
    expect(f3.filters).toEqual(["shuffle", "bytedelta"]);
    expect(f3.attrs).toEqual({
      units: "m/s",
      meta: { source: "test", levels: [1, 2, 3] },
    });
    expect(arrays.be!.codec).toBe("lz4hc");
  });

  it("counts special chunks and has no ratio when nothing is stored", async () => {
    const r = await cli("info", join(dir, "zeros.b2nd"), "--json");
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({
      shape: [10, 10],
      nchunks: 4,
      cbytes: 0,
      ratio: null,
      specialChunks: { zeros: 4, nan: 0, uninit: 0 },
    });
    const text = await cli("info", join(dir, "zeros.b2nd"));
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ratio: +n\/a$/m);
    expect(text.stdout).toMatch(/^nchunks: +4 \(special: 4 zeros\)$/m);
  });

  // The frame's flags are a msgpack str whose bytes are not text: a flags byte >= 0x80
  // (clevel >= 8) must still read back as codec and clevel.
  it("reports clevel 8 and 9 (a frame flags byte >= 0x80)", async () => {
    const r = await cli("info", join(dir, "hi.b2nd"), "--json");
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ codec: "zlib", clevel: 9 });
  });

  // A sparse frame's chunks.b2frame holds no chunk data, unlike a contiguous frame.
  it("describes a sparse frame directory", async () => {
    const r = await cli("info", join(dir, "sp.b2nd"), "--json");
    expect(r.status, r.stderr).toBe(0);
    const p = arrays.sp!;
    expect(JSON.parse(r.stdout)).toMatchObject({
      shape: p.shape,
      chunkShape: p.chunks,
      nchunks: p.nchunks,
      sparse: true,
    });
  });

  it("prints a readable summary", async () => {
    const r = await cli("info", join(dir, "f3.b2nd"));
    expect(r.status, r.stderr).toBe(0);
    const p = arrays.f3!;
    expect(r.stdout).toMatch(/^shape: +\(20, 30, 40\)$/m);
    expect(r.stdout).toMatch(/^dtype: +<f8$/m);
    expect(r.stdout).toMatch(/^chunks: +\(7, 11, 13\)$/m);
    expect(r.stdout).toMatch(/^blocks: +\(3, 4, 5\)$/m);
    expect(r.stdout).toMatch(/^codec: +zstd \(clevel 3\)$/m);
    expect(r.stdout).toMatch(/^filters: +shuffle, bytedelta$/m);
    expect(r.stdout).toContain(`ratio:    ${(p.nbytes / p.cbytes).toFixed(2)}x`);
    expect(r.stdout).toMatch(/^storage: +contiguous frame$/m);
    expect(r.stdout).toContain('"units":"m/s"');
  });
});

describe("zarr-blosc2 slice", () => {
  const cases: [string, string][] = [
    ["f3", "5,:,0:10"],
    ["f3", "::2,-1"],
    ["f3", "...,3"],
    ["f3", ""],
    ["f3", "::-3"],
    ["f3", " -1 , 29:3:-4 , 1::7 "],
    ["f3", "2,3,4"],
    ["f3", "()"],
    ["f3", "100:200"],
    ["be", "::-3, 5:"],
    ["be", ""],
    ["be", "-1"],
    ["b1", "3::4"],
    ["c16", "..., ::-2"],
    ["f2", "1:8:3, ..."],
    ["scalar", ""],
    ["scalar", "..."],
  ];

  it("writes .npy files numpy loads equal to its own indexing", async () => {
    const jobs: [string, string, string][] = [];
    for (const [i, [name, sel]] of cases.entries()) {
      const npy = join(dir, `out-${i}.npy`);
      const r = await cli("slice", join(dir, `${name}.b2nd`), sel, "--out", npy);
      expect(r.status, `${name} [${sel}]: ${r.stderr}`).toBe(0);
      // One line says what was written; its size is the file's.
      const said = /^wrote (.+): shape \([\d, ]*\) [<>|]\w\d+, (\d+) bytes\n$/.exec(r.stdout);
      expect(said, r.stdout).not.toBeNull();
      expect(said![1]).toBe(npy);
      expect(Number(said![2])).toBe(statSync(npy).size);
      jobs.push([join(dir, `${name}.b2nd`), sel, npy]);
    }
    const r = runPython(["-c", COMPARE], JSON.stringify(jobs));
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as {
      sel: string;
      equal: boolean;
      dtype: string;
      wantDtype: string;
      shape: number[];
      wantShape: number[];
    }[];
    for (const res of results) {
      expect(res.shape, res.sel).toEqual(res.wantShape);
      expect(res.dtype, res.sel).toBe(res.wantDtype);
      expect(res.equal, res.sel).toBe(true);
    }
    // The stored byte order is kept, not converted.
    expect(results.filter((x) => x.dtype === ">i4")).toHaveLength(3);
  });

  it("omitting the selection reads everything", async () => {
    const npy = join(dir, "all.npy");
    const r = await cli("slice", join(dir, "be.b2nd"), "--out", npy);
    expect(r.status, r.stderr).toBe(0);
    const res = py(
      `import json, numpy as np, blosc2; a = np.load(${JSON.stringify(npy)}); ` +
        `b = blosc2.open(${JSON.stringify(join(dir, "be.b2nd"))})[()]; ` +
        "print(json.dumps([a.dtype.str, bool(np.array_equal(a, b)), list(a.shape)]))",
    );
    expect(res).toEqual([">i4", true, [37, 23]]);
  });

  it("--stats prints one line with the read's counters", async () => {
    // One element: one chunk, one block.
    const r = await cli(
      "slice",
      join(dir, "f3.b2nd"),
      "5,6,7",
      "--out",
      join(dir, "one.npy"),
      "--stats",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote .*one\.npy: shape \(\) <f8, \d+ bytes\nstats: chunksTouched=1 blocksDecoded=[12] bytesRead=\d+ requests=\d+\n$/,
    );
    const all = await cli("slice", join(dir, "f3.b2nd"), "-o", join(dir, "a.npy"), "--stats");
    const m = /chunksTouched=(\d+) blocksDecoded=(\d+)/.exec(all.stdout);
    expect(Number(m?.[1])).toBe(arrays.f3!.nchunks);
    expect(Number(m?.[2])).toBeGreaterThan(1);
  });

  it("reads over HTTP and reports the bytes it fetched", async () => {
    let server: TestServer | undefined;
    try {
      server = await startServer(dir);
      const url = `${server.url}/f3.b2nd`;
      const info = await cli("info", url, "--json");
      expect(info.status, info.stderr).toBe(0);
      const local = await cli("info", join(dir, "f3.b2nd"), "--json");
      expect(JSON.parse(info.stdout)).toEqual(JSON.parse(local.stdout));
      const npy = join(dir, "http.npy");
      const r = await cli("slice", url, "3, 4:9, -2", "--out", npy, "--stats");
      expect(r.status, r.stderr).toBe(0);
      const bytesRead = Number(/bytesRead=(\d+)/.exec(r.stdout)?.[1]);
      expect(bytesRead).toBeGreaterThan(0);
      expect(bytesRead).toBeLessThan(statSync(join(dir, "f3.b2nd")).size / 4);
      const res = py(
        `import json, numpy as np, blosc2; a = np.load(${JSON.stringify(npy)}); ` +
          `b = blosc2.open(${JSON.stringify(join(dir, "f3.b2nd"))})[()][3, 4:9, -2]; ` +
          "print(json.dumps(bool(np.array_equal(a, b))))",
      );
      expect(res).toBe(true);
    } finally {
      await server?.close();
    }
  });

  it("rejects bad selections with one line on stderr", async () => {
    const f3 = join(dir, "f3.b2nd");
    const out = join(dir, "bad.npy");
    for (const [sel, pattern] of [
      ["abc", /invalid selection entry 'abc'/],
      ["1:2:3:4", /invalid selection entry '1:2:3:4'/],
      ["1,,2", /invalid selection entry ''/],
      ["::0", /invalid selection entry '::0'/],
      ["1.5", /invalid selection entry '1.5'/],
      ["...,1,...", /only one ellipsis/],
      ["1,2,3,4", /4 entries for 3 dimensions/],
      ["[1]", /invalid selection entry '\[1\]'/],
    ] as const) {
      const r = await cli("slice", f3, sel, "--out", out);
      expect(r.status, sel).toBe(2);
      expectOneLineError(r, pattern);
    }
    // Well-formed but outside the array: the read fails (exit 1).
    const oob = await cli("slice", f3, "20", "--out", out);
    expect(oob.status).toBe(1);
    expectOneLineError(oob, /index 20 is out of bounds for dimension 0 of size 20/);
    expect(existsSync(out)).toBe(false);
  });

  it("usage errors exit 2, a missing file exits 1, each with one line", async () => {
    const noOut = await cli("slice", join(dir, "f3.b2nd"), "1");
    expect(noOut.status).toBe(2);
    expectOneLineError(noOut, /--out/);
    const noPath = await cli("info");
    expect(noPath.status).toBe(2);
    expectOneLineError(noPath, /path or URL/);
    const unknown = await cli("info", join(dir, "f3.b2nd"), "--frob");
    expect(unknown.status).toBe(2);
    expectOneLineError(unknown, /unknown option --frob/);
    const missing = join(dir, "missing.b2nd");
    for (const args of [
      ["info", missing],
      ["slice", missing, "", "--out", join(dir, "m.npy")],
    ]) {
      const r = await cli(...args);
      expect(r.status, args.join(" ")).toBe(1);
      expectOneLineError(r, /missing\.b2nd/);
    }
    const notB2nd = join(dir, "not.b2nd");
    writeFileSync(notB2nd, "hello, this is not a frame at all........");
    const bad = await cli("info", notB2nd);
    expect(bad.status).toBe(1);
    expectOneLineError(bad, /not a Blosc2 frame/);
  });

  it("the help lists the new commands", async () => {
    const r = await cli("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("zarr-blosc2 info <path|url> [--json]");
    expect(r.stdout).toContain("zarr-blosc2 slice <path|url>");
    expect(r.stdout).toContain("--stats");
  });
});

describe("encodeNpy", () => {
  it("writes headers np.load reads, aligned to 64 bytes", () => {
    const cases: { dtype: string; shape: number[]; bytes: Uint8Array }[] = [
      { dtype: "<f8", shape: [], bytes: new Uint8Array(new Float64Array([2.5]).buffer) },
      { dtype: "<i2", shape: [5], bytes: new Uint8Array(new Int16Array([1, -2, 3, -4, 5]).buffer) },
      {
        dtype: ">u4",
        shape: [2, 3, 2],
        bytes: Uint8Array.from({ length: 48 }, (_, i) => (i % 4 === 3 ? i : 0)),
      },
      { dtype: "|b1", shape: [2, 2], bytes: new Uint8Array([1, 0, 0, 1]) },
      { dtype: "<f4", shape: [0, 3], bytes: new Uint8Array(0) },
      {
        dtype: "<i1",
        shape: Array.from({ length: 20 }, () => 1),
        bytes: new Uint8Array([7]),
      },
    ];
    const files: string[] = [];
    for (const [i, c] of cases.entries()) {
      const npy = encodeNpy(c.bytes, c.dtype, c.shape);
      const headerLength = npy[8]! | (npy[9]! << 8);
      expect(Array.from(npy.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
      expect((10 + headerLength) % 64).toBe(0);
      expect(npy[10 + headerLength - 1]).toBe(0x0a);
      expect(npy.length).toBe(10 + headerLength + c.bytes.length);
      const file = join(dir, `unit-${i}.npy`);
      writeFileSync(file, npy);
      files.push(file);
    }
    const header = new TextDecoder().decode(encodeNpy(new Uint8Array(96), "<f8", [3, 4]));
    expect(header).toContain("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }");
    const res = py(
      `import json, numpy as np\nout = []\nfor f in ${JSON.stringify(files)}:\n` +
        "    a = np.load(f)\n    out.append([a.dtype.str, list(a.shape), a.ravel().tolist()])\n" +
        "print(json.dumps(out))",
    );
    expect(res).toEqual([
      ["<f8", [], [2.5]],
      ["<i2", [5], [1, -2, 3, -4, 5]],
      [">u4", [2, 3, 2], [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47]],
      ["|b1", [2, 2], [true, false, false, true]],
      ["<f4", [0, 3], []],
      ["|i1", Array.from({ length: 20 }, () => 1), [7]],
    ]);
  });

  it("rejects bytes that do not match the shape and bad dtypes", () => {
    expect(() => encodeNpy(new Uint8Array(7), "<f8", [])).toThrow(OptionsError);
    expect(() => encodeNpy(new Uint8Array(8), "float64", [])).toThrow(OptionsError);
    expect(() => encodeNpy(new Uint8Array(8), "<f8", [-1])).toThrow(OptionsError);
  });
});

describe("parseNumpySelection", () => {
  const s = (start: number | null, stop: number | null, step: number | null = null) => ({
    start,
    stop,
    step,
  });

  it("parses integers, slices and the ellipsis", () => {
    expect(parseNumpySelection("5,:,0:10", 3)).toEqual([5, s(null, null), s(0, 10)]);
    expect(parseNumpySelection("::2,-1", 3)).toEqual([s(null, null, 2), -1, null]);
    expect(parseNumpySelection("...,3", 3)).toEqual([null, null, 3]);
    expect(parseNumpySelection("1, ..., -2", 4)).toEqual([1, null, null, -2]);
    expect(parseNumpySelection("...", 2)).toEqual([null, null]);
    expect(parseNumpySelection("..., 1, 2", 2)).toEqual([1, 2]);
    expect(parseNumpySelection("::-1", 1)).toEqual([s(null, null, -1)]);
    expect(parseNumpySelection(" 5: ", 2)).toEqual([s(5, null), null]);
    expect(parseNumpySelection(":-1", 1)).toEqual([s(null, -1)]);
    expect(parseNumpySelection("-3 : -1 : 1", 1)).toEqual([s(-3, -1, 1)]);
    expect(parseNumpySelection("1::", 1)).toEqual([s(1, null)]);
    expect(parseNumpySelection("+2", 1)).toEqual([2]);
    expect(parseNumpySelection("3,", 2)).toEqual([3, null]);
  });

  it("selects everything for an empty string or ()", () => {
    expect(parseNumpySelection("", 3)).toEqual([null, null, null]);
    expect(parseNumpySelection("  ", 2)).toEqual([null, null]);
    expect(parseNumpySelection("()", 2)).toEqual([null, null]);
    expect(parseNumpySelection("( )", 1)).toEqual([null]);
    expect(parseNumpySelection("", 0)).toEqual([]);
    expect(parseNumpySelection("...", 0)).toEqual([]);
  });

  it("names the offending entry", () => {
    const bad: [string, number, RegExp][] = [
      ["x", 2, /^invalid selection entry 'x'/],
      ["1, x:2", 2, /^invalid selection entry 'x:2'/],
      ["1:2:3:4", 2, /^invalid selection entry '1:2:3:4'/],
      ["1,,2", 3, /^invalid selection entry ''/],
      [",", 2, /^invalid selection entry ''/],
      ["1.0", 1, /^invalid selection entry '1.0'/],
      ["::0", 1, /^invalid selection entry '::0'/],
      ["None", 1, /^invalid selection entry 'None'/],
      ["99999999999999999999", 1, /^invalid selection entry '99999999999999999999'/],
      ["....", 1, /^invalid selection entry '....'/],
      ["..., ...", 2, /only one ellipsis/],
      ["1,2,3", 2, /3 entries for 2 dimensions/],
      ["0", 0, /1 entry for 0 dimensions/],
      ["1, ..., 2, 3", 2, /3 entries for 2 dimensions/],
    ];
    for (const [text, ndim, pattern] of bad) {
      expect(() => parseNumpySelection(text, ndim), text).toThrow(OptionsError);
      expect(() => parseNumpySelection(text, ndim), text).toThrow(pattern);
    }
  });
});
