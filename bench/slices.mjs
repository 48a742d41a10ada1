// JS side of the slicing benchmark (part of `npm run bench`, bench/run.mjs): for every
// workload and selection of bench/out/data/workloads.json it times
//   - ours, one worker: `openB2nd(file)` once, then `arr.get(sel)` (decoding in this thread);
//   - ours, N workers: the same with `{ pool }` from `createDecodePool({ workers: N })`, when
//     dist/ exports createDecodePool (feature-detected; skipped otherwise);
//   - zarrita + numcodecs.js: `zarr.get(arr, sel)` on the equivalent Zarr v2 store (Blosc1).
// Every result's sha256 must equal the native (python-blosc2) result's, else the bench fails.
import { cpus } from "node:os";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import * as pkg from "../dist/index.js";
import { fail, log, sha256, timeAsync } from "./lib.mjs";

/** Our selection for a workload entry: integers and null; [] (full read) becomes null. */
function oursSelection(sel) {
  return sel.length === 0 ? null : sel;
}

function checkResult(contender, s, nativeEntry) {
  return (result) => {
    const want = nativeEntry.native.n1;
    const shape = Array.from(result.shape);
    if (shape.join() !== want.shape.join()) {
      fail(`${contender} ${s.id}: shape [${shape}], native [${want.shape}]`);
    }
    const got = sha256(result.data);
    if (got !== want.sha256) fail(`${contender} ${s.id}: sha256 ${got} != native ${want.sha256}`);
  };
}

export function poolAvailable() {
  return typeof pkg.createDecodePool === "function";
}

export async function runJsSlices(spec, native, { only, timing }) {
  const workers = cpus().length;
  const results = [];
  const hasPool = poolAvailable();
  log(
    hasPool
      ? `slices: ours with 1 worker and with ${workers} (createDecodePool)`
      : "slices: dist/ has no createDecodePool: ours with 1 worker only",
  );
  for (const w of spec.workloads) {
    if (only.size && !only.has(w.name)) continue;
    // The full read is larger than the default 2 GiB guard at W1's full size.
    const arr = await pkg.openB2nd(w.b2nd, { maxDecodedBytes: Math.max(2 ** 31, w.nbytes + 1) });
    const store = new FileSystemStore(w.zarr_v2);
    const zarrArr = await zarr.open.v2(store, { kind: "array" });
    const pool = hasPool ? await pkg.createDecodePool({ workers }) : undefined;
    try {
      for (const s of w.selections) {
        const nat = native.results.find((r) => r.id === s.id);
        if (!nat) fail(`native-slices.json has no result for ${s.id}`);
        const sel = oursSelection(s.sel);
        const entry = { workload: w.name, id: s.id, contenders: {} };
        entry.contenders.ours1 = await timeAsync(
          () => arr.get(sel),
          checkResult("ours", s, nat),
          timing,
        );
        if (pool) {
          entry.contenders.oursN = await timeAsync(
            () => arr.get(sel, { pool }),
            checkResult(`ours ${workers} workers`, s, nat),
            timing,
          );
          entry.contenders.oursN.workers = workers;
        }
        entry.contenders.zarrita = await timeAsync(
          () => zarr.get(zarrArr, s.sel.length === 0 ? null : s.sel),
          checkResult("zarrita", s, nat),
          timing,
        );
        const c = entry.contenders;
        log(
          `${s.id}: ours ${(c.ours1.median_s * 1e3).toFixed(2)} ms` +
            (c.oursN ? `, ours x${workers} ${(c.oursN.median_s * 1e3).toFixed(2)} ms` : "") +
            `, zarrita ${(c.zarrita.median_s * 1e3).toFixed(2)} ms, native n1 ${(nat.native.n1.median_s * 1e3).toFixed(2)} ms`,
        );
        results.push(entry);
      }
    } finally {
      await pool?.close();
      await arr.close?.();
    }
  }
  return { workers, hasPool, results };
}
