// Hundreds of reads and codec calls in flight at once on the one shared wasm instance: b2nd
// arrays opened from local files, from bytes and over HTTP, Zarr arrays through get(), and
// compress / decompress / partial decodes (some failing on purpose). Every result must equal
// the one of a sequential run, and the C heap must be back where it was afterwards.
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as zarr from "zarrita";
import { mulberry32 } from "../src/cli/sample.js";
import { blosc2Wasm } from "../src/decode/wasm.js";
import {
  type B2ndArray,
  type CodecName,
  compress,
  type DimSelection,
  decompress,
  decompressBlocks,
  decompressItems,
  type FilterName,
  get,
  openB2nd,
  registerBlosc2Codecs,
} from "../src/index.js";
import { FIXTURES, readB2ndManifest, readBytes, readZarrManifest } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

registerBlosc2Codecs(zarr.registry);

/** A job's outcome, comparable between runs: the result bytes and shape, or the error. */
interface Outcome {
  bytes?: Uint8Array;
  shape?: number[];
  error?: string;
}
type Job = { name: string; run: () => Promise<Outcome> };

const bytesOf = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** A small deterministic PRNG (the one the demo sample uses). */
const prng = mulberry32;

/** `count` selections over `shape`: integers (negative too), slices with steps of both signs. */
function selections(
  shape: number[],
  count: number,
  seed: number,
  negativeSteps = true,
): DimSelection[][] {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const out: DimSelection[][] = [[]];
  if (shape.length === 0 || shape.some((n) => n === 0)) return out;
  while (out.length < count) {
    out.push(
      shape.map((n): DimSelection => {
        const kind = rand();
        if (kind < 0.2) return null;
        if (kind < 0.4) return int(-n, n - 1);
        const a = int(0, n - 1);
        const b = int(0, n);
        const step = negativeSteps && rand() < 0.25 ? -int(1, 3) : int(1, 3);
        return step > 0
          ? { start: Math.min(a, b), stop: Math.max(a, b) + 1, step }
          : {
              start: Math.max(a, b),
              stop: Math.min(a, b) - 1 < 0 ? null : Math.min(a, b) - 1,
              step,
            };
      }),
    );
  }
  return out;
}

const manifest = readB2ndManifest().arrays.filter((a) => !a.unsupported);
// A spread of layouts: ragged edges, big-endian, delta (block 0 decoded too), memcpyed,
// special chunks, sparse directories, 0-d and 8-d, complex and bool.
const NAMES = [
  "f8-3d-edges",
  "i4-2d-be",
  "u2-4d-be-delta",
  "i1-1d-delta",
  "f4-8d",
  "u1-2d-clevel0",
  "f8-zeros",
  "f4-nans",
  "i4-partial",
  "f2-2d",
  "c16-2d",
  "b1-2d",
  "f8-0d-scalar",
  "sparse-3d",
  "sparse-partial",
];

let server: TestServer;
const opened: B2ndArray[] = [];
const jobs: Job[] = [];

beforeAll(async () => {
  server = await startServer(join(FIXTURES, "b2nd"));
  let seed = 1;
  for (const name of NAMES) {
    const entry = manifest.find((a) => a.name === name);
    if (!entry) throw new Error(`fixture ${name} is missing from the manifest`);
    const path = join(FIXTURES, entry.path);
    const file = entry.path.slice("b2nd/".length);
    const sources: [string, () => Promise<B2ndArray>][] = [
      ["file", () => openB2nd(path)],
      ["http", () => openB2nd(`${server.url}/${file}${entry.sparse ? "/" : ""}`)],
    ];
    if (!entry.sparse) sources.push(["bytes", () => openB2nd(readBytes(path))]);
    for (const [kind, open] of sources) {
      const arr = await open();
      opened.push(arr);
      // Small merge gaps and concurrency 1 for some, so both code paths see many requests.
      for (const sel of selections(arr.shape, 7, seed++)) {
        jobs.push({
          name: `${name} (${kind}) ${JSON.stringify(sel)}`,
          run: async () => {
            const r = await arr.get(sel);
            return { bytes: bytesOf(r.data).slice(), shape: r.shape };
          },
        });
      }
    }
  }

  // Zarr arrays with b2nd chunks (and plain blosc2 for the zarr.get path) through get().
  const zarrNames = ["b2nd-f8-2d", "sharded-b2nd-f8-2d", "b2nd-i4-delta", "blosc2-i4-2d"];
  for (const entry of readZarrManifest().arrays.filter((a) => zarrNames.includes(a.name))) {
    const arr = await zarr.open(new FileSystemStore(join(FIXTURES, entry.path)), {
      kind: "array",
    });
    // zarr.get (the path of plain blosc2 arrays) takes no negative steps.
    for (const sel of selections(entry.shape, 8, seed++, false)) {
      const zsel = sel.length === 0 ? null : sel;
      jobs.push({
        name: `zarr ${entry.name} ${JSON.stringify(sel)}`,
        run: async () => {
          const r = await get(arr, zsel as never);
          if (r === null || typeof r !== "object") {
            return { bytes: new TextEncoder().encode(String(r)), shape: [] }; // a scalar
          }
          const chunk = r as { data: ArrayBufferView; shape: number[] };
          return { bytes: bytesOf(chunk.data).slice(), shape: chunk.shape };
        },
      });
    }
  }

  // Codec calls: compress with several settings, decompress whole, some blocks, some items,
  // and broken chunks that must fail the same way every time.
  const codecs: CodecName[] = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"];
  const filterSets: FilterName[][] = [["shuffle"], ["bitshuffle"], ["shuffle", "delta"], []];
  const rand = prng(99);
  let k = 0;
  while (jobs.length < 400) {
    const n = 1000 + Math.floor(rand() * 30000);
    const data = new Int32Array(n).map((_, i) => Math.round(1000 * Math.sin(i / (5 + (k % 17)))));
    const options = {
      codec: codecs[k % codecs.length]!,
      clevel: 1 + (k % 9),
      filters: filterSets[k % filterSets.length]!,
      blocksize: k % 3 === 0 ? 4096 : 0,
    };
    const chunk = await compress(data, options);
    const broken = chunk.slice();
    broken.fill(0x5a, 40);
    const which = k % 5;
    const name = `codec #${k} ${JSON.stringify(options)} (${["compress", "decompress", "blocks", "items", "broken"][which]})`;
    jobs.push({
      name,
      run: async () => {
        try {
          switch (which) {
            case 0: {
              const c = await compress(data, options);
              return { bytes: await decompress(c) }; // same values; the chunk itself may differ
            }
            case 1:
              return { bytes: await decompress(chunk) };
            case 2:
              return { bytes: await decompressBlocks(chunk, [0, 1]) };
            case 3:
              return { bytes: await decompressItems(chunk, 17, Math.min(500, n - 17)) };
            default:
              return { bytes: await decompress(broken) };
          }
        } catch (err) {
          return { error: `${(err as Error).name}: ${(err as Error).message}` };
        }
      },
    });
    k++;
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
  await server?.close();
});

function same(a: Outcome, b: Outcome): boolean {
  if (a.error !== undefined || b.error !== undefined) return a.error === b.error;
  return (
    JSON.stringify(a.shape) === JSON.stringify(b.shape) &&
    a.bytes!.length === b.bytes!.length &&
    Buffer.compare(Buffer.from(a.bytes!), Buffer.from(b.bytes!)) === 0
  );
}

it("400 concurrent reads and codec calls equal a sequential run; the wasm heap returns", async () => {
  expect(jobs.length).toBeGreaterThanOrEqual(400);
  const wasm = await blosc2Wasm();

  // The glue keeps one decompression context whose scratch buffers fit the last chunk
  // decoded (and a zstd context once zstd was used): two fixed calls put it in one state.
  const ramp = new Uint16Array(20000).map((_, i) => i);
  const settleChunks = [
    await compress(ramp, { codec: "lz4", blocksize: 2048 }),
    await compress(ramp, { codec: "zstd", blocksize: 8192 }),
  ];
  const settle = async () => {
    for (const c of settleChunks) await decompress(c);
  };

  // Sequential: one job at a time (this also warms C-Blosc2's one-time allocations).
  const sequential: Outcome[] = [];
  for (const job of jobs) sequential.push(await job.run());
  await settle();
  const baseline = wasm.heapInUse();
  expect(sequential.filter((o) => o.error !== undefined).length).toBeGreaterThan(0);
  expect(sequential.filter((o) => o.error === undefined).length).toBeGreaterThan(300);

  // Everything at once, three times: in order, in reverse, in order.
  for (const order of [jobs, [...jobs].reverse(), jobs]) {
    const results = await Promise.all(order.map((job) => job.run()));
    const mismatches = order
      .map((job, i) => ({ job, got: results[i]! }))
      .filter(({ job, got }) => !same(got, sequential[jobs.indexOf(job)]!))
      .map(({ job }) => job.name);
    expect(mismatches).toEqual([]);
    await settle();
    // dlmalloc counts a block's unsplittable slack (< 16 bytes) as in use, so the long-lived
    // context buffers may sit a few bytes differently after a different call order (seen: 8).
    // A leak of anything per call would be hundreds of bytes at least (400 calls).
    expect(Math.abs(wasm.heapInUse() - baseline)).toBeLessThanOrEqual(64);
  }
  expect(await blosc2Wasm()).toBe(wasm); // no trap replaced the instance
}, 300_000);
