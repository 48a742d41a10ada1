#!/usr/bin/env node
// The zarr-blosc2 command line. Errors become one line on stderr and exit code 1
// (stack traces only with --debug); usage errors exit with 2.
import { readFile } from "node:fs/promises";
import { ZarrBlosc2Error } from "../errors.js";
import { blosc2Version, bytesEqual, type CodecName, compress, decompress } from "../index.js";
import { sampleData } from "./sample.js";

const HELP = `zarr-blosc2 — Blosc2 chunks and b2nd arrays for JavaScript

Usage:
  zarr-blosc2 demo [file] [--typesize N] [--json]
      Compress and decompress a sample with every codec (shuffle on) and print
      the compression ratio and speed. Without a file, an embedded 16 MiB float64
      sample (a smooth field with a little noise) is used.
  zarr-blosc2 --version     Print the package and C-Blosc2 versions.
  zarr-blosc2 --help        Print this help.

Options:
  --debug                   Show stack traces on errors.
`;

class UsageError extends Error {}

interface DemoRow {
  codec: CodecName;
  nbytes: number;
  cbytes: number;
  ratio: number;
  compressMBps: number;
  decompressMBps: number;
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

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

async function demo(args: string[]): Promise<void> {
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
  const label = file ?? "embedded sample (16 MiB float64)";
  const rows: DemoRow[] = [];
  const MB = 1024 * 1024;
  for (const codec of ["blosclz", "lz4", "lz4hc", "zlib", "zstd"] as const) {
    const options = { codec, clevel: 5, typesize: ts, filters: ["shuffle" as const] };
    const chunk = await compress(data, options);
    const restored = await decompress(chunk);
    if (!bytesEqual(restored, data)) {
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
  if (json) {
    console.log(
      JSON.stringify(
        { input: label, typesize: ts, c_blosc2: await blosc2Version(), rows },
        null,
        1,
      ),
    );
    return;
  }
  console.log(`input: ${label}, ${data.length} bytes, typesize ${ts}, shuffle, clevel 5`);
  console.log(
    `C-Blosc2 ${await blosc2Version()} (WebAssembly, 1 thread); speeds are the best of 3 runs`,
  );
  console.log("codec     ratio   compress MB/s   decompress MB/s   round-trip");
  for (const r of rows) {
    console.log(
      `${r.codec.padEnd(8)} ${r.ratio.toFixed(2).padStart(6)}x ${r.compressMBps.toFixed(0).padStart(15)} ${r.decompressMBps.toFixed(0).padStart(17)}   ok`,
    );
  }
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  try {
    const [command, ...rest] = args;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "-V") {
      console.log(`zarr-blosc2 ${await packageVersion()} (C-Blosc2 ${await blosc2Version()})`);
      return 0;
    }
    if (command === "demo") {
      await demo(rest);
      return 0;
    }
    throw new UsageError(`unknown command "${command}" (see zarr-blosc2 --help)`);
  } catch (err) {
    if (debug) console.error(err);
    else console.error(`zarr-blosc2: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
