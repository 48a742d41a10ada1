// `zarr-blosc2 demo`: the main job on an embedded default. It writes the embedded sample as a
// b2nd file, slices it (printing what each read touched), then times every codec on it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZarrBlosc2Error } from "../errors.js";
import {
  blosc2Version,
  bytesEqual,
  type CodecName,
  compress,
  decompress,
  type GetStats,
  openB2nd,
  type Selection,
  slice,
  writeB2ndFile,
} from "../index.js";
import { SAMPLE_SHAPE, sampleData } from "./sample.js";

export class UsageError extends Error {}

interface CodecRow {
  codec: CodecName;
  nbytes: number;
  cbytes: number;
  ratio: number;
  compressMBps: number;
  decompressMBps: number;
}

interface SliceRow {
  selection: string;
  shape: number[];
  ms: number;
  stats: GetStats;
}

const MB = 1024 * 1024;
const CHUNK_SHAPE = [512, 512];
const BLOCK_SHAPE = [64, 64];

/** Best of a few runs, so one slow run (JIT warm-up, GC) does not decide the number. */
async function bestSeconds(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

async function codecTable(data: Uint8Array, typesize: number): Promise<CodecRow[]> {
  const rows: CodecRow[] = [];
  for (const codec of ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] as const) {
    const options = { codec, clevel: 5, typesize, filters: ["shuffle" as const] };
    const chunk = await compress(data, options);
    if (!bytesEqual(await decompress(chunk), data)) {
      throw new ZarrBlosc2Error(`demo: ${codec} did not round-trip the sample`);
    }
    const ct = await bestSeconds(3, () => compress(data, options));
    const dt = await bestSeconds(3, () => decompress(chunk));
    rows.push({
      codec,
      nbytes: data.length,
      cbytes: chunk.length,
      ratio: data.length / chunk.length,
      compressMBps: data.length / MB / ct,
      decompressMBps: data.length / MB / dt,
    });
  }
  return rows;
}

/** Writes the sample as a b2nd file and reads a few typical selections from it. */
async function sliceSample(
  data: Uint8Array,
): Promise<{ path: string; bytes: number; rows: SliceRow[]; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "zarr-blosc2-demo-"));
  const path = join(dir, "sample.b2nd");
  await writeB2ndFile(
    path,
    new Float64Array(data.buffer, data.byteOffset, data.length / 8),
    SAMPLE_SHAPE,
    {
      chunkShape: CHUNK_SHAPE,
      blockShape: BLOCK_SHAPE,
      codec: "zstd",
      clevel: 5,
      filters: ["shuffle"],
      attrs: { description: "zarr-blosc2 demo sample: a smooth field with noise", units: "degC" },
    },
  );
  const bytes = (await readFile(path)).length;
  const selections: [string, Selection][] = [
    ["1234, 567", [1234, 567]],
    ["1000, :", [1000, null]],
    [":, 700", [null, 700]],
    ["100:300, 200:400", [slice(100, 300), slice(200, 400)]],
    ["::16, ::16", [slice(null, null, 16), slice(null, null, 16)]],
    ["(everything)", null],
  ];
  const arr = await openB2nd(path);
  const rows: SliceRow[] = [];
  try {
    for (const [text, selection] of selections) {
      const t0 = performance.now();
      const r = await arr.get(selection);
      rows.push({ selection: text, shape: r.shape, ms: performance.now() - t0, stats: r.stats });
    }
  } finally {
    await arr.close();
  }
  return { path, bytes, rows, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function demo(args: string[]): Promise<void> {
  let file: string | undefined;
  let typesize: number | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--json") json = true;
    else if (a === "--typesize") {
      typesize = Number(args[++i]);
      if (!Number.isInteger(typesize) || typesize < 1 || typesize > 255) {
        throw new UsageError("--typesize takes an integer 1-255");
      }
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  const data = file === undefined ? sampleData() : new Uint8Array(await readFile(file));
  const ts = typesize ?? (file === undefined ? 8 : 1);
  const label = file ?? `embedded sample (${SAMPLE_SHAPE.join(" x ")} float64, 16 MiB)`;
  const sliced = file === undefined ? await sliceSample(data) : undefined;
  try {
    const rows = await codecTable(data, ts);
    const version = await blosc2Version();
    if (json) {
      const slices = sliced && {
        bytes: sliced.bytes,
        chunkShape: CHUNK_SHAPE,
        blockShape: BLOCK_SHAPE,
        rows: sliced.rows,
      };
      console.log(
        JSON.stringify({ input: label, typesize: ts, c_blosc2: version, slices, rows }, null, 1),
      );
      return;
    }
    console.log(`C-Blosc2 ${version} in WebAssembly, 1 thread.`);
    if (sliced) {
      const blocksPerChunk =
        (CHUNK_SHAPE[0]! / BLOCK_SHAPE[0]!) * (CHUNK_SHAPE[1]! / BLOCK_SHAPE[1]!);
      console.log(
        `\nb2nd file: ${label} written to ${sliced.path} (${sliced.bytes} bytes; chunks ${CHUNK_SHAPE.join("x")}, blocks ${BLOCK_SHAPE.join("x")}, ${blocksPerChunk} blocks per chunk, zstd + shuffle)`,
      );
      console.log(
        "selection            result      chunks  blocks decoded  bytes read  requests      ms",
      );
      for (const r of sliced.rows) {
        const s = r.stats;
        console.log(
          `${r.selection.padEnd(20)} ${(r.shape.join("x") || "scalar").padEnd(10)} ${String(s.chunksTouched).padStart(7)} ${String(s.blocksDecoded).padStart(15)} ${String(s.bytesRead).padStart(11)} ${String(s.requests).padStart(9)} ${r.ms.toFixed(1).padStart(7)}`,
        );
      }
    }
    console.log(
      `\nWhole-buffer codecs on ${label}: ${data.length} bytes, typesize ${ts}, shuffle, clevel 5 (best of 3 runs)`,
    );
    console.log("codec     ratio   compress MB/s   decompress MB/s   round-trip");
    for (const r of rows) {
      console.log(
        `${r.codec.padEnd(8)} ${r.ratio.toFixed(2).padStart(6)}x ${r.compressMBps.toFixed(0).padStart(15)} ${r.decompressMBps.toFixed(0).padStart(17)}   ok`,
      );
    }
  } finally {
    await sliced?.cleanup();
  }
}
