// A reference beside the contenders: the pinned C-Blosc2 source that wasm/build.sh compiles,
// built natively for baseline x86-64 (SSE2; bench/native_ref.sh, bench/native_ref.c). Native
// python-blosc2 differs from our wasm in two ways at once, the instruction set (its build uses
// AVX2 shuffle/bitshuffle and BMI2 Zstd code) and WebAssembly itself; this build keeps the
// instruction set closest to wasm SIMD128 and so shows each part. Timed in the native half of
// each round, one thread, outputs checked by sha256 like every contender's.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fail, log, outDir, root, summary } from "./lib.mjs";

const binary = join(outDir, "native-ref", "native_ref");

export function buildNativeRef() {
  execFileSync("bash", [join(root, "bench", "native_ref.sh")], { stdio: "inherit" });
}

function run(args) {
  const out = execFileSync(binary, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
  });
  return out
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

/** Times every chunk of the decode manifest; keyed by file name. */
export function refDecode(manifest, { runs, warmup }) {
  log("full-chunk decode, native SSE2 reference");
  const files = manifest.cases.map((c) => join(outDir, c.file));
  const lines = run(["decode", `${runs}`, `${warmup}`, ...files]);
  const out = {};
  manifest.cases.forEach((c, i) => {
    const r = lines[i];
    if (!r || r.file !== files[i]) fail(`native_ref decode: no result for ${c.file}`);
    if (r.sha256 !== c.sha256) fail(`native_ref ${c.file}: sha256 ${r.sha256} != ${c.sha256}`);
    out[c.file] = summary(r.seconds, c.nbytes);
  });
  return out;
}

/** START:STOP per dimension for b2nd_get_slice_cbuffer: an index i is i:i+1, null the whole axis. */
function ranges(sel, shape) {
  return shape
    .map((n, d) => (sel[d] === null || sel[d] === undefined ? `0:${n}` : `${sel[d]}:${sel[d] + 1}`))
    .join(",");
}

/** Times every selection of the workloads; stored as `native.ref` beside python's n1 and n2. */
export function refSlices(spec, nativeSlices, workloads, budget) {
  for (const w of spec.workloads) {
    if (!workloads.includes(w.name)) continue;
    for (const s of w.selections) {
      const entry = nativeSlices.results.find((r) => r.id === s.id);
      if (!entry) fail(`native-slices.json has no result for ${s.id}`);
      const [r] = run(["slice", w.b2nd, `${budget}`, ranges(s.sel, w.shape)]);
      if (r.sha256 !== entry.native.n1.sha256) {
        fail(`native_ref ${s.id}: sha256 ${r.sha256} != python-blosc2's ${entry.native.n1.sha256}`);
      }
      entry.native.ref = summary(r.seconds);
      log(`native SSE2 reference ${s.id}: ${(entry.native.ref.median_s * 1e3).toFixed(2)} ms`);
    }
  }
}
