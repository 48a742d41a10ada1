// Full-chunk decode throughput: our wasm build versus native C-Blosc2 (python-blosc2), one
// thread each, on the very same chunk bytes. Part of `npm run bench` (bench/run.mjs), which
// calls runNativeDecode before any JS timing and runWasmDecode afterwards.
//
// 1. runNativeDecode runs bench/native_decode.py with .venv/bin/python. It makes the chunks
//    (deterministic float64 data, python-blosc2; LZ4, Zstd, BloscLZ, each with shuffle and with
//    bitshuffle), writes them and a manifest to bench/out/, times native decoding and writes
//    bench/out/native.json.
// 2. runWasmDecode times wasm decoding of the same files and checks every decoded buffer
//    against the sha256 of the original data. Any mismatch or failure throws.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chunkInfo, decompress, initBlosc2 } from "../dist/index.js";
import { collect, fail, log, outDir, runPython, sha256, summary, table } from "./lib.mjs";

export function runNativeDecode({ runs, warmup }) {
  runPython([
    "bench/native_decode.py",
    "--out",
    outDir,
    "--runs",
    `${runs}`,
    "--warmup",
    `${warmup}`,
  ]);
  const manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8"));
  const native = JSON.parse(readFileSync(join(outDir, "native.json"), "utf8"));
  return { manifest, native };
}

/** Checks the chunk header against what the manifest says was written. */
function checkHeader(c, chunk) {
  const info = chunkInfo(chunk);
  const problems = [];
  if (info.codec !== c.codec) problems.push(`codec ${info.codec}, expected ${c.codec}`);
  if (info.typesize !== c.typesize) problems.push(`typesize ${info.typesize}`);
  if (info.nbytes !== c.nbytes) problems.push(`nbytes ${info.nbytes}, expected ${c.nbytes}`);
  if (info.cbytes !== chunk.length) problems.push(`cbytes ${info.cbytes} vs ${chunk.length}`);
  if (info.filters.join() !== c.filters.join()) problems.push(`filters ${info.filters}`);
  if (problems.length) fail(`${c.file}: unexpected header: ${problems.join(", ")}`);
  return info;
}

function checkBytes(c, bytes, side) {
  if (bytes.length !== c.nbytes) fail(`${side} ${c.file}: ${bytes.length} bytes, not ${c.nbytes}`);
  const got = sha256(bytes);
  if (got !== c.sha256) fail(`${side} ${c.file}: decoded sha256 ${got} != original ${c.sha256}`);
}

/**
 * The public API, `decompress(chunk, { out })` into a preallocated buffer like native's `dst`:
 * the copies into and out of wasm memory are included.
 */
async function timeApi(c, chunk, { runs, warmup }) {
  const dst = new Uint8Array(c.nbytes);
  let out;
  for (let i = 0; i < warmup; i++) {
    collect();
    out = await decompress(chunk, { out: dst });
    if (i === 0) checkBytes(c, out, "wasm");
  }
  const times = [];
  for (let i = 0; i < runs; i++) {
    collect();
    const t0 = performance.now();
    out = await decompress(chunk, { out: dst });
    times.push((performance.now() - t0) / 1e3);
  }
  checkBytes(c, out, "wasm");
  return summary(times, c.nbytes);
}

/**
 * The decoder alone: `zb_decompress` from a chunk already in wasm memory into a preallocated
 * buffer there, which is what the native side measures.
 */
function timeCore(wasm, c, chunk, { runs, warmup }) {
  let src = 0;
  let dest = 0;
  try {
    src = wasm.copyIn(chunk, "bench");
    dest = wasm.malloc(c.nbytes, "bench");
    const decode = () => {
      wasm.heap().fill(0, dest, dest + c.nbytes); // a stale correct buffer must not pass
      const t0 = performance.now();
      const n = wasm.exports.zb_decompress(src, chunk.length, dest, c.nbytes);
      const t = (performance.now() - t0) / 1e3;
      if (n !== c.nbytes) fail(`wasm core ${c.file}: zb_decompress returned ${n}`);
      return t;
    };
    const view = () => wasm.heap().subarray(dest, dest + c.nbytes);
    for (let i = 0; i < warmup; i++) decode();
    if (warmup > 0) checkBytes(c, view(), "wasm core");
    const times = [];
    for (let i = 0; i < runs; i++) times.push(decode());
    checkBytes(c, view(), "wasm core");
    return summary(times, c.nbytes);
  } finally {
    if (src) wasm.exports.free(src);
    if (dest) wasm.exports.free(dest);
  }
}

export async function runWasmDecode({ manifest, native, ref }, opts) {
  log("full-chunk decode, wasm side");
  const wasm = await initBlosc2();
  const results = [];
  for (const c of manifest.cases) {
    const nat = native.results.find(
      (r) => r.data === c.data && r.codec === c.codec && r.filters.join() === c.filters.join(),
    );
    if (!nat) fail(`native.json has no result for ${c.data}/${c.codec}/${c.filters}`);
    const chunk = new Uint8Array(readFileSync(join(outDir, c.file)));
    const info = checkHeader(c, chunk);
    const api = await timeApi(c, chunk, opts);
    collect();
    const core = timeCore(wasm, c, chunk, opts);
    const ratio = c.nbytes / c.cbytes;
    const rel = (api.mbps / nat.mbps).toFixed(2);
    log(
      `${c.data}/${c.codec}/${c.filters}: wasm ${api.mbps.toFixed(0)} MB/s (${rel}x native), core ${core.mbps.toFixed(0)} MB/s`,
    );
    const { blocksize } = info;
    const filter = c.filters.join("+");
    results.push({
      data: c.data,
      codec: c.codec,
      filter,
      ratio,
      blocksize,
      native: nat,
      ref: ref?.[c.file],
      wasm: api,
      core,
    });
  }
  return results;
}

export function renderDecodeTable(results) {
  const hasRef = results.every((r) => r.ref);
  const header = ["data", "codec", "filter", "ratio", "native MB/s"];
  if (hasRef) header.push("native SSE2 MB/s");
  header.push("wasm MB/s", "wasm/native", "wasm core MB/s", "core/native");
  if (hasRef) header.push("core/native SSE2");
  const rows = results.map((r) => {
    const cells = [r.data, r.codec, r.filter, r.ratio.toFixed(2), r.native.mbps.toFixed(0)];
    if (hasRef) cells.push(r.ref.mbps.toFixed(0));
    cells.push(
      r.wasm.mbps.toFixed(0),
      `${(r.wasm.mbps / r.native.mbps).toFixed(2)}x`,
      r.core.mbps.toFixed(0),
      `${(r.core.mbps / r.native.mbps).toFixed(2)}x`,
    );
    if (hasRef) cells.push(`${(r.core.mbps / r.ref.mbps).toFixed(2)}x`);
    return cells;
  });
  return table(
    header,
    rows,
    header.map((_, i) => i > 2),
  );
}

/** "0.18x-0.37x": the spread of wasm/native over all cases for one wasm column. */
export function decodeRange(results, key) {
  const rel = results.map((r) => r[key].mbps / r.native.mbps);
  return `${Math.min(...rel).toFixed(2)}x-${Math.max(...rel).toFixed(2)}x`;
}

/** "512 KiB" or "smooth/lz4 256 KiB, ...": the block sizes C-Blosc2 picked. */
export function blocksizes(results) {
  const kib = (r) => `${r.blocksize / 1024} KiB`;
  if (new Set(results.map(kib)).size === 1) return kib(results[0]);
  return results.map((r) => `${r.data}/${r.codec}/${r.filter} ${kib(r)}`).join(", ");
}
