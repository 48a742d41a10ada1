// The decode pool: worker_threads workers with their own wasm instance. Runs the built
// package (dist/), since workers load dist/decode/pool-worker.js. Expected values come from
// python-blosc2 / NumPy (manifest sha256s, .npy files) or from reads without a pool, which
// the b2nd and Zarr tests check against NumPy.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { ensureBuilt, FIXTURES, ROOT, readB2ndManifest, readZarrManifest } from "./helpers.js";

ensureBuilt();
// Imported from dist so that the main thread and the workers run the same code.
const lib = (await import(join(ROOT, "dist", "index.js"))) as typeof import("../src/index.js");
const { createDecodePool, openB2nd, get, registerBlosc2Codecs, FormatError, OptionsError } = lib;
type Pool = Awaited<ReturnType<typeof createDecodePool>>;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytesOf = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const b2nd = readB2ndManifest().arrays.filter((a) => !a.unsupported);

function someSelections(
  shape: number[],
): (number | null | { start: number; stop: number; step: number })[][] {
  const mid = shape.map((n) => Math.floor(n / 2));
  return [
    shape.map(() => null),
    mid,
    shape.map((n, d) => (d === 0 ? mid[0]! : { start: 0, stop: n, step: 2 })),
  ].filter((s) => shape.every((n) => n > 0) || s.every((x) => x === null));
}

describe("decode pool", () => {
  const pools: Pool[] = [];
  let shared: Pool;
  let transfer: Pool;
  beforeAll(async () => {
    // minBytes 0: the fixtures are small, and every read must go through the workers.
    shared = await createDecodePool({ workers: 2, minBytes: 0 });
    transfer = await createDecodePool({ workers: 2, sharedOutput: false, minBytes: 0 });
    pools.push(shared, transfer);
  }, 60_000);
  afterAll(async () => {
    for (const p of pools) await p.close();
  });

  it("reads every b2nd fixture equal to python-blosc2, scattering in workers or here", async () => {
    expect(shared.sharedOutput).toBe(true);
    expect(transfer.sharedOutput).toBe(false);
    for (const a of b2nd) {
      const arr = await openB2nd(join(FIXTURES, a.path));
      const cut = await openB2nd(join(FIXTURES, a.path), { batchBytes: 1 });
      for (const pool of [shared, transfer]) {
        const all = await arr.get(null, { pool });
        if (a.sha256 !== null) expect(sha256(bytesOf(all.data)), a.name).toBe(a.sha256);
        expect(all.data.buffer instanceof SharedArrayBuffer).toBe(pool === shared);
        for (const sel of someSelections(a.shape)) {
          const want = await arr.get(sel);
          for (const reader of [arr, cut]) {
            const got = await reader.get(sel, { pool });
            expect(got.shape).toEqual(want.shape);
            if (a.special !== "uninit")
              expect(bytesOf(got.data), a.name).toEqual(bytesOf(want.data));
            expect(got.stats.chunksTouched).toBe(want.stats.chunksTouched);
          }
        }
      }
    }
  });

  it("reads Zarr arrays with b2nd chunks (sharded too) equal to reads without it", async () => {
    registerBlosc2Codecs(zarr.registry);
    const arrays = readZarrManifest().arrays.filter((a) => a.codecs.includes("b2nd"));
    expect(arrays.length).toBeGreaterThan(3);
    for (const a of arrays) {
      const store = new FileSystemStore(join(FIXTURES, a.path));
      const arr = await zarr.open(store, { kind: "array" });
      for (const sel of someSelections(a.shape)) {
        const want = (await zarr.get(arr, sel as never)) as { data: ArrayBufferView } | number;
        const stats = {} as import("../src/index.js").ZarrGetStats;
        const got = (await get(arr, sel as never, { pool: shared, stats })) as typeof want;
        if (typeof want === "object" && typeof got === "object") {
          expect(bytesOf(got.data), a.name).toEqual(bytesOf(want.data));
        } else expect(got, a.name).toEqual(want);
        expect(stats.path).toBe("b2nd");
      }
    }
  });

  it("turns worker failures into the same typed errors as the calling thread", async () => {
    const garbage = new Uint8Array(64).fill(7);
    await expect(shared.decompress(garbage.slice())).rejects.toThrow(FormatError);
    const local = (await lib.decompress(garbage).catch((e: Error) => e)) as Error;
    const pooled = (await shared.decompress(garbage.slice()).catch((e: Error) => e)) as Error;
    expect(pooled).toBeInstanceOf(local.constructor as typeof Error);
    expect(pooled.message).toBe(local.message);
    await expect(shared.decompress(garbage.slice(), { maxDecodedBytes: -1 })).rejects.toThrow(
      OptionsError,
    );
    // The pool keeps working after failures.
    const chunk = await lib.compress(new Float64Array([1, 2, 3]), { typesize: 8 });
    expect(Array.from(new Float64Array((await shared.decompress(chunk)).buffer))).toEqual([
      1, 2, 3,
    ]);
  });

  it("leaves reads below minBytes on the calling thread", async () => {
    const pool = await createDecodePool({ workers: 1 }); // default minBytes: 1 MiB
    pools.push(pool);
    const a = b2nd.find((x) => x.special === "none" && x.shape.length === 2)!;
    const arr = await openB2nd(join(FIXTURES, a.path));
    const small = await arr.get(null, { pool });
    expect(small.data.buffer instanceof SharedArrayBuffer).toBe(false);
    const viaPool = await arr.get(null, { pool: shared });
    expect(viaPool.data.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(bytesOf(small.data)).toEqual(bytesOf(viaPool.data));
  });

  it("refuses bad sizes and work after close", async () => {
    await expect(createDecodePool({ workers: 0 })).rejects.toThrow(OptionsError);
    await expect(createDecodePool({ minBytes: -1 })).rejects.toThrow(OptionsError);
    const pool = await createDecodePool({ workers: 1 });
    await pool.close();
    await expect(pool.decompress(new Uint8Array(32))).rejects.toThrow(/closed/);
  });

  it("does not keep a Node process alive when idle, nor let it exit while busy", () => {
    const script = `
      const { createDecodePool, openB2nd } = await import(${JSON.stringify(join(ROOT, "dist", "index.js"))});
      const pool = await createDecodePool({ workers: 2, minBytes: 0 });
      const arr = await openB2nd(${JSON.stringify(join(FIXTURES, b2nd[0]!.path))});
      const r = await arr.get(null, { pool });
      await arr.close();
      console.log("read", r.data.length, r.data.buffer instanceof SharedArrayBuffer);
      // no pool.close(): the process must still exit on its own
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^read \d+ true/);
  });
});
