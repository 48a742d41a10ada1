// Shared helpers of the benchmark scripts (bench/run.mjs and the parts it runs).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const outDir = join(root, "bench", "out");
export const python = join(root, ".venv", "bin", "python");

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

export function fail(msg) {
  throw new Error(`bench: ${msg}`);
}

export const collect = globalThis.gc ?? (() => {});

export function sha256(view) {
  const bytes =
    view instanceof Uint8Array
      ? view
      : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const hash = createHash("sha256");
  // Hash.update takes at most 2 GiB at once; W1's full read at full size is 3 GiB.
  for (let i = 0; i < bytes.length; i += 2 ** 30) hash.update(bytes.subarray(i, i + 2 ** 30));
  return hash.digest("hex");
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, best and all times in seconds; with `nbytes`, also MB/s at the median. */
export function summary(seconds, nbytes) {
  const med = median(seconds);
  const s = { seconds, median_s: med, best_s: Math.min(...seconds) };
  return nbytes === undefined ? s : { ...s, mbps: nbytes / med / 1e6 };
}

/** Runs a Python script of bench/ with the venv's interpreter; its stderr shows as progress. */
export function runPython(args) {
  log(`${python} ${args.join(" ")}`);
  const r = spawnSync(python, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error) fail(`cannot run ${python}: ${r.error.message} (run \`npm run setup\`)`);
  if (r.status !== 0) fail(`${args[0]} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Times `fn` (async): one warm-up call whose result goes to `check`, then timed calls until at
 * least `minRuns` and about `budget` seconds, at most `maxRuns`; garbage collected between
 * calls, outside the timing. Returns the median, best and all times in seconds.
 */
export async function timeAsync(fn, check, { minRuns = 3, maxRuns = 15, budget = 1.5 } = {}) {
  collect();
  const t0 = performance.now();
  let result = await fn();
  const first = (performance.now() - t0) / 1e3;
  await check(result);
  result = undefined;
  const runs = Math.max(minRuns, Math.min(maxRuns, Math.floor(budget / Math.max(first, 1e-6))));
  const times = [];
  for (let i = 0; i < runs; i++) {
    collect();
    const t = performance.now();
    result = await fn();
    times.push((performance.now() - t) / 1e3);
    result = undefined;
  }
  return summary(times);
}

export function cpuModel() {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
    const flags = new Set(/^flags\s*:\s*(.+)$/m.exec(info)?.[1]?.split(/\s+/) ?? []);
    const simd = ["sse2", "avx2", "avx512f"].filter((f) => flags.has(f));
    return { model: model ?? cpus()[0]?.model ?? "unknown", simd };
  } catch {
    return { model: cpus()[0]?.model ?? "unknown", simd: [] };
  }
}

export function loadAverage() {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

export function nproc() {
  const r = spawnSync("nproc", { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : `${cpus().length}`;
}

export function memTotal() {
  try {
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    return `${(kb / 2 ** 20).toFixed(0)} GiB`;
  } catch {
    return "unknown";
  }
}

/** A markdown table padded so it also reads well in a terminal. */
export function table(header, rows, rightAligned) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (cell, i) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = widths.map((w, i) =>
    rightAligned[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2),
  );
  return [line(header), `|${rule.join("|")}|`, ...rows.map(line)].join("\n");
}

export function formatBytes(n) {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function ms(seconds) {
  const v = seconds * 1e3;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
