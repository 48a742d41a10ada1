// The other direction: chunks our wasm compresses decode equal in python-blosc2 (native).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CompressOptions, compress, decompress, type FilterName } from "../src/index.js";
import { runPython } from "./helpers.js";

interface Case {
  chunk: string;
  expected: string;
}

function pattern(typesize: number, nbytes: number, noisy: boolean): Uint8Array {
  const out = new Uint8Array(nbytes);
  let seed = 12345 + typesize * 7 + nbytes;
  const view = new DataView(out.buffer);
  for (let i = 0; i + typesize <= nbytes; i += typesize) {
    const k = i / typesize;
    if (typesize === 8)
      view.setFloat64(i, Math.sin(k / 40) * 100 + (noisy ? Math.random() : 0), true);
    else if (typesize === 4) view.setFloat32(i, Math.cos(k / 25) * 10, true);
    else {
      seed = (seed * 1103515245 + 12345) >>> 0;
      for (let b = 0; b < typesize; b++)
        out[i + b] = b === 0 ? (k + (noisy ? seed >>> 24 : 0)) & 0xff : (k >> (8 * b)) & 0xff;
    }
  }
  return out;
}

function checkInPython(dir: string, cases: Case[]) {
  writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
  const r = runPython(["fixtures/pycheck.py", dir]);
  const report = JSON.parse(r.stdout) as {
    checked: number;
    failures: { chunk: string; error: string }[];
  };
  return { status: r.status, report, stderr: r.stderr };
}

describe("wasm-compressed chunks in python-blosc2", () => {
  it("decode equal across codecs, filters, typesizes and sizes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-py-"));
    const filterSets: FilterName[][] = [
      [],
      ["shuffle"],
      ["bitshuffle"],
      ["delta"],
      ["shuffle", "delta"],
      ["bytedelta"],
    ];
    const cases: Case[] = [];
    let n = 0;
    const add = async (data: Uint8Array, options: CompressOptions) => {
      const chunk = await compress(data, options);
      // Our own decoder first, so a failure says which side is wrong.
      expect(await decompress(chunk)).toEqual(data);
      const name = `c${n++}`;
      writeFileSync(join(dir, `${name}.b2`), chunk);
      writeFileSync(join(dir, `${name}.bin`), data);
      cases.push({ chunk: `${name}.b2`, expected: `${name}.bin` });
    };
    for (const codec of ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] as const) {
      for (const filters of filterSets) {
        for (const typesize of [1, 2, 4, 8, 16]) {
          for (const nbytes of [typesize * 5, 2048 * 3 + 1024, 2048 * 20]) {
            await add(pattern(typesize, nbytes, nbytes > 10_000), {
              codec,
              filters,
              typesize,
              blocksize: 2048,
            });
          }
        }
      }
    }
    // trunc_prec is lossy: python must decode to what we decode.
    for (const typesize of [4, 8]) {
      const data = pattern(typesize, 40_000, true);
      const chunk = await compress(data, { filters: ["trunc_prec"], filtersMeta: [10], typesize });
      const decoded = await decompress(chunk);
      writeFileSync(join(dir, `t${typesize}.b2`), chunk);
      writeFileSync(join(dir, `t${typesize}.bin`), decoded);
      cases.push({ chunk: `t${typesize}.b2`, expected: `t${typesize}.bin` });
    }
    await add(pattern(8, 300_000, false), { codec: "zstd", useDict: true, blocksize: 16_384 });
    await add(pattern(1, 200_000, true), { codec: "zstd", useDict: true, filters: [] });
    await add(pattern(8, 100_000, true), { clevel: 0 });
    await add(pattern(4, 100_000, false), { splitmode: "always" });
    await add(pattern(4, 100_000, false), { splitmode: "never" });

    const { status, report, stderr } = checkInPython(dir, cases);
    expect(report.failures, stderr).toEqual([]);
    expect(report.checked).toBe(cases.length);
    expect(status).toBe(0);
  });

  it("the python check reports a mismatch (it can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-py-"));
    const data = pattern(8, 8000, false);
    writeFileSync(join(dir, "a.b2"), await compress(data));
    const wrong = data.slice();
    wrong[100] = wrong[100]! ^ 1;
    writeFileSync(join(dir, "a.bin"), wrong);
    writeFileSync(join(dir, "b.b2"), new Uint8Array(40));
    writeFileSync(join(dir, "b.bin"), data);
    const { status, report } = checkInPython(dir, [
      { chunk: "a.b2", expected: "a.bin" },
      { chunk: "b.b2", expected: "b.bin" },
    ]);
    expect(status).toBe(1);
    expect(report.failures.map((f) => f.chunk)).toEqual(["a.b2", "b.b2"]);
  });
});
