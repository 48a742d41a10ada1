import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decompress } from "../src/index.js";
import { ROOT } from "./helpers.js";

// The CLI runs from dist/, which `npm test` builds in its setup step.
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [`${ROOT}dist/cli/main.js`, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli", () => {
  it("prints the package and C-Blosc2 versions", () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { version: string };
    const r = cli("--version");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^zarr-blosc2 ${pkg.version} \\(C-Blosc2 \\d+\\.\\d+\\.\\d+\\)$`),
    );
  });

  it("prints help, and usage errors exit 2 with one line on stderr", () => {
    const help = cli("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("zarr-blosc2 demo");
    const bad = cli("frobnicate");
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([
      'zarr-blosc2: unknown command "frobnicate" (see zarr-blosc2 --help)',
    ]);
  });

  it("demo compresses and decompresses a file with every codec", async () => {
    const r = cli("demo", `${ROOT}package.json`, "--json");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      rows: { codec: string; nbytes: number; cbytes: number; ratio: number }[];
    };
    const size = readFileSync(`${ROOT}package.json`).length;
    expect(out.rows.map((row) => row.codec)).toEqual(["blosclz", "lz4", "lz4hc", "zlib", "zstd"]);
    for (const row of out.rows) {
      expect(row.nbytes).toBe(size);
      expect(row.ratio).toBeCloseTo(row.nbytes / row.cbytes, 6);
    }
    // Text compresses: zstd must beat 1.5x on a JSON file.
    expect(out.rows.at(-1)!.ratio).toBeGreaterThan(1.5);
  });

  it("demo slices the embedded b2nd sample, decoding only touched blocks", () => {
    const r = cli("demo", "--json");
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      slices: { rows: { selection: string; shape: number[]; stats: Record<string, number> }[] };
    };
    const bySel = new Map(out.slices.rows.map((row) => [row.selection, row]));
    // 2048 x 1024 in 512 x 512 chunks of 64 x 64 blocks: a point is one block of one chunk,
    // a row crosses 2 chunks and 16 blocks, everything is 8 chunks of 64 blocks.
    expect(bySel.get("1234, 567")!.stats).toMatchObject({ chunksTouched: 1, blocksDecoded: 1 });
    expect(bySel.get("1000, :")!.stats).toMatchObject({ chunksTouched: 2, blocksDecoded: 16 });
    expect(bySel.get("(everything)")!.shape).toEqual([2048, 1024]);
    expect(bySel.get("(everything)")!.stats).toMatchObject({
      chunksTouched: 8,
      blocksDecoded: 512,
    });
  });

  it("reports a missing file as one line and exit 1", () => {
    const r = cli("demo", "/nonexistent/file.bin");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^zarr-blosc2: .*ENOENT.*\n$/);
  });
});

it("decompress is importable from the built package entry", async () => {
  const built = (await import(`${ROOT}dist/index.js`)) as {
    compress: typeof import("../src/index.js").compress;
  };
  const chunk = await built.compress(new Uint8Array(1000).fill(7));
  expect(await decompress(chunk)).toEqual(new Uint8Array(1000).fill(7));
});
