// `npm run bench`: the benchmark suite. Writes docs/benchmarks.md and docs/benchmarks.svg.
//
//   npm run bench                          everything (setup + build first)
//   npm run bench -- --only w2             a subset: any of w1,w2,w3,decode,memory
//   node --expose-gc bench/run.mjs [--only w1,decode] [--w1-first N] [--runs N] [--warmup N]
//                                  [--budget S] [--rounds N] [--out-doc PATH]
//   node bench/run.mjs --render        only re-render the report from bench/out/results.json
//
// Order: (1) python makes or reuses the data (bench/make_data.py, cached in bench/out/data);
// (2) every native timing (bench/native_decode.py, bench/native_slices.py, and the same
// C-Blosc2 source built natively for SSE2 as a reference: bench/native-ref.mjs), so native and
// JS never run at the same time; (3) JS timings (bench/full-decode.mjs, bench/slices.mjs);
// (2) and (3) are repeated (--rounds, default 2) and each time kept is its fastest round's;
// (4) peak memory in fresh child processes (bench/memory.mjs); (5) the report
// (bench/report.mjs). A subset writes bench/out/benchmarks.md (+ .svg) unless --out-doc is
// given; the full run writes docs/benchmarks.md. Every contender's result is checked against
// the native one (sha256); any mismatch fails the run. Raw numbers: bench/out/results.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { blosc2Version } from "../dist/index.js";
import { runNativeDecode, runWasmDecode } from "./full-decode.mjs";
import { fail, loadAverage, log, outDir, root, runPython } from "./lib.mjs";
import { runMemory } from "./memory.mjs";
import { buildNativeRef, refDecode, refSlices } from "./native-ref.mjs";
import { renderReport } from "./report.mjs";
import { runJsSlices } from "./slices.mjs";

const PARTS = ["w1", "w2", "w3", "decode", "memory"];

function parseArgs(argv) {
  const opts = {
    only: new Set(),
    w1First: 50, // W1 full size; --w1-first 10 for quicker runs
    runs: 15,
    warmup: 3,
    budget: 1.5,
    rounds: 2,
    outDoc: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]?.replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) fail(`${argv[i]} needs a value`);
    i++;
    if (key === "only") {
      for (const part of value.split(",")) {
        if (!PARTS.includes(part))
          fail(`--only: unknown part ${part} (one of ${PARTS.join(", ")})`);
        opts.only.add(part);
      }
    } else if (key === "w1-first" || key === "runs" || key === "warmup" || key === "rounds") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (key === "warmup" ? 0 : 1))
        fail(`bad ${argv[i - 1]} ${value}`);
      opts[key === "w1-first" ? "w1First" : key] = n;
    } else if (key === "budget") {
      opts.budget = Number(value);
      if (!(opts.budget > 0)) fail(`bad --budget ${value}`);
    } else if (key === "out-doc") {
      opts.outDoc = value;
    } else {
      fail(`unknown argument ${argv[i - 1]}`);
    }
  }
  return opts;
}

function writeReport(run, opts) {
  const docPath =
    opts.outDoc ??
    (run.opts.only.length ? join(outDir, "benchmarks.md") : join(root, "docs", "benchmarks.md"));
  const svgPath = join(dirname(docPath), `${basename(docPath, ".md")}.svg`);
  const { markdown, svg } = renderReport(run, basename(svgPath));
  writeFileSync(docPath, markdown);
  writeFileSync(svgPath, svg);
  return { docPath, svgPath };
}

async function main() {
  if (process.argv[2] === "--render") {
    const run = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8"));
    const { docPath, svgPath } = writeReport(run, parseArgs(process.argv.slice(3)));
    log(`re-rendered ${docPath} and ${svgPath} from bench/out/results.json`);
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  const wants = (part) => opts.only.size === 0 || opts.only.has(part);
  const workloads = ["w1", "w2", "w3"].filter(wants);
  const started = new Date();
  const load = loadAverage(); // before anything of ours runs: other work skews the numbers
  log(`load average at start: ${load}`);
  if (!globalThis.gc) log("warning: run with node --expose-gc to collect garbage between runs");
  mkdirSync(outDir, { recursive: true });
  const dataDir = join(outDir, "data");
  const specPath = join(dataDir, "workloads.json");

  // 1. Data (cached).
  // The memory cases read W2 and W3.
  const dataWorkloads = [...new Set([...workloads, ...(wants("memory") ? ["w2", "w3"] : [])])];
  const needData = dataWorkloads.length > 0;
  if (needData) {
    runPython([
      "bench/make_data.py",
      "--out",
      dataDir,
      "--w1-first",
      `${opts.w1First}`,
      "--only",
      dataWorkloads.join(","),
    ]);
  }
  const spec = needData ? JSON.parse(readFileSync(specPath, "utf8")) : { workloads: [] };

  // 2-3. Rounds of native timings, then JS timings (never at the same time). The machine's
  // speed drifts over minutes, so with two rounds (native, JS, native, JS) each side has a
  // measurement in both halves of the run, and each time kept is the faster of its rounds.
  if (wants("decode") || workloads.length) buildNativeRef();
  const rounds = [];
  for (let round = 1; round <= opts.rounds; round++) {
    log(`round ${round} of ${opts.rounds}`);
    rounds.push(await timingRound(spec, specPath, workloads, wants, opts));
  }
  const { decodeNative, decode, nativeSlices, slices } = rounds.reduce(fasterOf);

  // 4. Memory, one fresh process per case.
  const memory = wants("memory") ? runMemory(spec, new Set(["w2", "w3"])) : undefined;

  // 5. Report.
  const elapsed = (Date.now() - started.getTime()) / 1e3;
  const run = {
    started,
    elapsed,
    load,
    opts: { ...opts, only: [...opts.only] },
    wasmVersion: await blosc2Version(),
    spec,
    decodeNative,
    decode,
    nativeSlices,
    slices,
    memory,
  };
  writeFileSync(join(outDir, "results.json"), JSON.stringify(run, null, 1));
  const { docPath, svgPath } = writeReport(run, opts);
  log(`wrote ${docPath}, ${svgPath} and bench/out/results.json (${elapsed.toFixed(0)} s)`);
}

/** One round of timings: every native timing first, then every JS timing. */
async function timingRound(spec, specPath, workloads, wants, opts) {
  const decodeNative = wants("decode") ? runNativeDecode(opts) : undefined;
  if (decodeNative) decodeNative.ref = refDecode(decodeNative.manifest, opts);
  let nativeSlices;
  if (workloads.length) {
    const out = join(outDir, "native-slices.json");
    runPython([
      "bench/native_slices.py",
      "--data",
      specPath,
      "--out",
      out,
      "--only",
      workloads.join(","),
      "--budget",
      `${opts.budget}`,
    ]);
    nativeSlices = JSON.parse(readFileSync(out, "utf8"));
    refSlices(spec, nativeSlices, workloads, opts.budget);
  }
  // JS timings.
  const decode = decodeNative ? await runWasmDecode(decodeNative, opts) : undefined;
  const timing = { minRuns: 3, maxRuns: 15, budget: opts.budget };
  const slices = nativeSlices
    ? await runJsSlices(spec, nativeSlices, { only: new Set(workloads), timing })
    : undefined;
  return { decodeNative, decode, nativeSlices, slices };
}

/**
 * Merges two rounds' results: wherever both hold a timing summary (an object with
 * median_s), the one with the smaller median is kept, with every round's median beside it.
 */
export function fasterOf(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => fasterOf(x, b[i]));
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a;
  if (typeof a.median_s === "number" && typeof b.median_s === "number") {
    const rounds = [...(a.round_medians_s ?? [a.median_s]), b.median_s];
    return { ...(b.median_s < a.median_s ? b : a), round_medians_s: rounds };
  }
  const out = {};
  for (const key of Object.keys(a)) out[key] = key in b ? fasterOf(a[key], b[key]) : a[key];
  return out;
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
