// Peak memory of one read (part of `npm run bench`, bench/run.mjs). Each case runs in a fresh
// child process (`node --expose-gc bench/memory.mjs --child JSON`) that loads the wasm module,
// opens the .b2nd file and reads one element of the first chunk (warm-up). Then the case's read
// is made three times, each time after collecting garbage, resetting the kernel's peak-RSS mark
// (writing 5 to /proc/self/clear_refs) and recording the resident set,
// process.resourceUsage().maxRSS and the wasm memory size. The peak growth (VmHWM after a read
// minus VmRSS before it) is what the read added at its peak (output + scratch); the first
// read's also holds V8's one-time optimizing compile of the decoder (some of it spills into
// the second), so the third is judged.
// maxRSS is a high-water mark since the process started, so its growth stays 0 whenever
// start-up peaked higher than the read: reported, not judged. The wasm memory growth is what
// the decoder's heap had to grow by.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fail, log, root } from "./lib.mjs";

const self = fileURLToPath(import.meta.url);

/** The cases: a one-element read and a row/plane through large chunks. */
export function memoryCases(spec) {
  const cases = [];
  for (const w of spec.workloads) {
    const mid = w.shape.map((n) => n >> 1);
    if (w.name === "w2") {
      cases.push({ workload: "w2", label: "one element", sel: mid });
      cases.push({ workload: "w2", label: `row [${mid[0]}, :]`, sel: [mid[0], null] });
    }
    if (w.name === "w3") {
      cases.push({ workload: "w3", label: "one element", sel: mid });
      cases.push({ workload: "w3", label: `plane [${mid[0]}, :, :]`, sel: [mid[0], null, null] });
      const whole = w.chunks.map((c) => ({ start: 0, stop: c, step: 1 }));
      cases.push({ workload: "w3", label: "one whole chunk", sel: whole });
    }
  }
  return cases;
}

export function runMemory(spec, only) {
  const results = [];
  for (const c of memoryCases(spec)) {
    if (only.size && !only.has(c.workload)) continue;
    const w = spec.workloads.find((x) => x.name === c.workload);
    const arg = JSON.stringify({ file: w.b2nd, sel: c.sel });
    const r = spawnSync(process.execPath, ["--expose-gc", self, "--child", arg], {
      cwd: root,
      encoding: "utf8",
    });
    if (r.status !== 0) fail(`memory child for ${c.workload} ${c.label} failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout);
    const entry = {
      ...c,
      ...m,
      block_bytes: w.block_bytes,
      chunk_bytes: w.chunk_bytes,
    };
    log(
      `memory ${c.workload} ${c.label}: peak RSS +${(m.peak_growth / 2 ** 20).toFixed(1)} MiB ` +
        `(first read +${(m.first_peak_growth / 2 ** 20).toFixed(1)} MiB), ` +
        `maxRSS +${(m.rss_delta / 2 ** 20).toFixed(1)} MiB, ` +
        `wasm ${(m.wasm_before / 2 ** 20).toFixed(1)} -> ${(m.wasm_after / 2 ** 20).toFixed(1)} MiB, ` +
        `output ${(m.output_bytes / 2 ** 20).toFixed(2)} MiB`,
    );
    results.push(entry);
  }
  return results;
}

/** VmRSS and VmHWM (peak) of this process in bytes, from /proc/self/status. */
function procStatus() {
  const text = readFileSync("/proc/self/status", "utf8");
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1]) * 1024;
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

async function child(arg) {
  const { file, sel } = JSON.parse(arg);
  const { initBlosc2, openB2nd } = await import("../dist/index.js");
  const wasm = await initBlosc2(); // the shared instance every later decode uses
  const arr = await openB2nd(file);
  const wasmSize = () => wasm.exports.memory.buffer.byteLength;
  // A warm-up read of one element in the first chunk (none of the cases touches it): the code
  // paths get compiled and the first-use allocations made, so what follows is one read's own
  // memory. The wasm size before it is reported too.
  const wasmCold = wasmSize();
  await arr.get(arr.shape.map(() => 0));
  const measure = async () => {
    globalThis.gc?.();
    writeFileSync("/proc/self/clear_refs", "5"); // peak RSS mark := current RSS (Linux >= 4.0)
    const before = procStatus();
    const rss0 = process.resourceUsage().maxRSS * 1024;
    const wasm0 = wasmSize();
    const result = await arr.get(sel);
    return {
      before,
      after: procStatus(),
      rss0,
      rss1: process.resourceUsage().maxRSS * 1024,
      wasm0,
      result,
    };
  };
  // The first read of a case also pays for V8 tiering the decoder's hot wasm functions up to
  // its optimizing compiler (tens of MB of compiler memory, once per process); the same read
  // made again shows what a read itself allocates.
  const first = await measure();
  await measure(); // tiering goes on into the second read; the third shows a read's own cost
  const { before, after, rss0, rss1, wasm0, result } = await measure();
  const wasm1 = wasmSize();
  await arr.close?.();
  process.stdout.write(
    JSON.stringify({
      first_peak_growth: first.after.hwm - first.before.rss,
      vmrss_before: before.rss,
      vmhwm_after: after.hwm,
      peak_growth: after.hwm - before.rss,
      rss_before: rss0,
      rss_after: rss1,
      rss_delta: rss1 - rss0,
      wasm_cold: wasmCold,
      wasm_before: wasm0,
      wasm_after: wasm1,
      output_bytes: result.data.byteLength,
      blocks_decoded: result.stats.blocksDecoded,
      chunks_touched: result.stats.chunksTouched,
    }),
  );
}

if (process.argv[2] === "--child") {
  child(process.argv[3]).catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
