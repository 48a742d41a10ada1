// Bounded memory: a 4 GiB (uncompressed) b2nd array streamed through toArrow in a child
// `node --max-old-space-size=512`. python-blosc2 writes the array (arange values, which
// compress to ~27 MB) in a temp dir; the child (test/js/stream-arrow.mjs, on dist/) checks
// every row (value == dim_0 * ncols + dim_1) and prints row count, sums and peak memory, which
// are compared with closed forms here.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureBuilt, ROOT, runPython } from "./helpers.js";

const R = 32768;
const C = 16384;
const dir = mkdtempSync(join(tmpdir(), "zb-big-"));
const path = join(dir, "arange-4gib.b2nd");

beforeAll(() => {
  ensureBuilt();
  const r = runPython([
    "-c",
    `import sys, blosc2, numpy as np
R, C = int(sys.argv[2]), int(sys.argv[3])
a = blosc2.arange(0, R * C, 1, dtype=np.float64, shape=(R, C), chunks=(32, C), blocks=(2, C),
                  urlpath=sys.argv[1], mode="w",
                  cparams=blosc2.CParams(codec=blosc2.Codec.LZ4, clevel=1, nthreads=2))
print(a.schunk.nbytes, a.schunk.cbytes)`,
    path,
    String(R),
    String(C),
  ]);
  expect(r.status, r.stderr).toBe(0);
  const [nbytes] = r.stdout.trim().split(" ").map(Number);
  expect(nbytes).toBe(4 * 2 ** 30);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("streams a 4 GiB b2nd array under --max-old-space-size=512 with bounded memory", () => {
  const r = spawnSync(
    process.execPath,
    ["--max-old-space-size=512", join(ROOT, "test/js/stream-arrow.mjs"), path, "65536"],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  expect(r.status, r.stderr).toBe(0);
  const got = JSON.parse(r.stdout) as Record<string, unknown> & { stats: Record<string, number> };
  const n = BigInt(R) * BigInt(C);
  const tri = (k: bigint) => (k * (k - 1n)) / 2n;
  expect(got.rows).toBe(R * C);
  expect(got.mismatches).toBe(0);
  expect(BigInt(got.sumValue as string)).toBe(tri(n));
  expect(BigInt(got.sumDim0 as string)).toBe(BigInt(C) * tri(BigInt(R)));
  expect(BigInt(got.sumDim1 as string)).toBe(BigInt(R) * tri(BigInt(C)));
  expect(got.batches).toBe((R * C) / 65536);
  // Every block decoded exactly once: 1024 chunks of 16 blocks.
  expect(got.stats.blocksDecoded).toBe((R / 32) * 16);
  // Memory follows batchRows, not the array: far below the 4 GiB it streams.
  expect(got.peakRss as number).toBeLessThan(1024 * 2 ** 20);
  console.log(
    `4 GiB stream: ${got.rows} rows in ${(got.seconds as number).toFixed(1)} s, peak RSS ${((got.peakRss as number) / 2 ** 20).toFixed(0)} MiB, peak heap ${((got.peakHeap as number) / 2 ** 20).toFixed(1)} MiB, bytes read ${got.stats.bytesRead}`,
  );
}, 600_000);

it("pushes a where on the 4 GiB array down to the blocks it touches", () => {
  const [lo, hi] = [1000, 1031];
  const r = spawnSync(
    process.execPath,
    [
      "--max-old-space-size=512",
      join(ROOT, "test/js/stream-arrow.mjs"),
      path,
      "65536",
      JSON.stringify({ dim_0: [lo, hi] }),
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  expect(r.status, r.stderr).toBe(0);
  const got = JSON.parse(r.stdout) as Record<string, unknown> & { stats: Record<string, number> };
  const rows = hi - lo + 1;
  expect(got.rows).toBe(rows * C);
  expect(got.mismatches).toBe(0);
  let sumRows = 0n;
  for (let i = lo; i <= hi; i++) sumRows += BigInt(i);
  const c = BigInt(C);
  expect(BigInt(got.sumDim0 as string)).toBe(c * sumRows);
  expect(BigInt(got.sumValue as string)).toBe(
    c * c * sumRows + BigInt(rows) * ((c * (c - 1n)) / 2n),
  );
  // Rows 1000..1031 lie in chunks 31 and 32 (32 rows each), blocks 500..515 (2 rows each).
  expect(got.stats.chunksTouched).toBe(2);
  expect(got.stats.blocksDecoded).toBe(Math.floor(hi / 2) - Math.floor(lo / 2) + 1);
  console.log(
    `4 GiB array, where dim_0 in [${lo}, ${hi}]: ${got.rows} rows, ${got.stats.blocksDecoded} blocks decoded, ${got.stats.bytesRead} bytes read (of ~27 MB)`,
  );
}, 300_000);
