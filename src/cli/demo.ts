// `zarr-blosc2 demo`: the main job on an embedded default. It writes the embedded sample as a
// b2nd file, slices it (printing what each read touched), then times every codec on it.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
import { defineCommand, UsageError } from "./command.js";
import { SAMPLE_SHAPE, sampleData } from "./sample.js";

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

interface Sliced {
  path: string;
  /** False when the file is in a temporary directory removed at the end. */
  kept: boolean;
  bytes: number;
  rows: SliceRow[];
  cleanup: () => Promise<void>;
}

/**
 * Writes the sample as a b2nd file (into `outDir`, kept, or a temporary directory removed at
 * the end) and reads a few typical selections from it.
 */
async function sliceSample(data: Uint8Array, outDir: string | undefined): Promise<Sliced> {
  const dir = outDir ? resolve(outDir) : await mkdtemp(join(tmpdir(), "zarr-blosc2-demo-"));
  if (outDir) await mkdir(dir, { recursive: true });
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
  const cleanup = outDir ? async () => {} : () => rm(dir, { recursive: true, force: true });
  return { path, kept: outDir !== undefined, bytes, rows, cleanup };
}

async function demo(
  file: string | undefined,
  typesize: number | undefined,
  json: boolean,
  outDir: string | undefined,
): Promise<void> {
  const data = file === undefined ? sampleData() : new Uint8Array(await readFile(file));
  const ts = typesize ?? (file === undefined ? 8 : 1);
  const label = file ?? `embedded sample (${SAMPLE_SHAPE.join(" x ")} float64, 16 MiB)`;
  const sliced = file === undefined ? await sliceSample(data, outDir) : undefined;
  try {
    const rows = await codecTable(data, ts);
    const version = await blosc2Version();
    if (json) {
      const slices = sliced && {
        file: sliced.kept ? sliced.path : null,
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
        `\nb2nd file: ${label} written to ${sliced.kept ? sliced.path : "a temporary file (removed at the end; --out-dir DIR keeps it)"} (${sliced.bytes} bytes; chunks ${CHUNK_SHAPE.join("x")}, blocks ${BLOCK_SHAPE.join("x")}, ${blocksPerChunk} blocks per chunk, zstd + shuffle)`,
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

export const demoCommand = defineCommand({
  name: "demo",
  description:
    "The main job on an embedded default: writes a 2048 x 1024 float64 sample (a smooth field with a little noise) as a b2nd file, slices it (a point, a row, a column, a box, a strided grid, everything) printing the chunks and blocks each read touched, then compresses and decompresses the sample with every codec (shuffle on), printing ratio and speed. With a file, only the codec table, on that file's bytes.",
  positionals: [{ name: "file", optional: true }],
  options: {
    "out-dir": {
      type: "string",
      value: "DIR",
      help: "Keep the sample file in DIR (created if needed); without it the sample goes to a temporary directory removed at the end.",
    },
    typesize: {
      type: "string",
      value: "N",
      help: "The item size shuffle works on (default 8 for the sample, 1 for a file).",
    },
    json: { type: "boolean", help: "Print the results as JSON." },
  },
  async run({ values, positionals }) {
    let typesize: number | undefined;
    if (values.typesize !== undefined) {
      typesize = Number(values.typesize);
      if (!Number.isInteger(typesize) || typesize < 1 || typesize > 255) {
        throw new UsageError("--typesize takes an integer 1-255");
      }
    }
    const file = positionals[0];
    if (file !== undefined && values["out-dir"] !== undefined) {
      throw new UsageError("--out-dir applies to the embedded sample, not to a file");
    }
    await demo(file, typesize, values.json, values["out-dir"]);
  },
});
