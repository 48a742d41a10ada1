"""Native side of the slicing benchmark (driven by bench/run.mjs): python-blosc2 b2nd slicing.

For every workload and selection in workloads.json (written by bench/make_data.py), opens the
.b2nd file and times `arr[sel]` (C-Blosc2's b2nd slicing into a new NumPy array) with
`blosc2.set_nthreads(1)` and then 2. Each timing is the median of several runs after one
warm-up; the sha256 of the result's C-order bytes is recorded so the JS contenders can be
checked against it. Writes native-slices.json in the output folder.

Usage: .venv/bin/python bench/native_slices.py --data bench/out/data/workloads.json
         --out bench/out/native-slices.json [--only w1,w2] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import statistics
import sys
import time

import blosc2
import numpy as np


def log(msg: str) -> None:
    print(f"native: {msg}", file=sys.stderr, flush=True)


def key(sel: list) -> tuple:
    return tuple(slice(None) if e is None else e for e in sel) if sel else ()


def runs_for(first_s: float, min_runs: int, max_runs: int, budget_s: float) -> int:
    return max(min_runs, min(max_runs, int(budget_s / max(first_s, 1e-6))))


def time_selection(path: str, sel: list, nthreads: int, opts) -> dict:
    blosc2.set_nthreads(nthreads)
    arr = blosc2.open(path, mode="r", dparams=blosc2.DParams(nthreads=nthreads))
    k = key(sel)
    gc.collect()
    t0 = time.perf_counter_ns()
    out = arr[k] if k else arr[...]
    first = (time.perf_counter_ns() - t0) / 1e9
    out = np.ascontiguousarray(out)
    digest = hashlib.sha256(memoryview(out).cast("B")).hexdigest()
    shape = list(out.shape)
    del out
    times = []
    for _ in range(runs_for(first, opts.min_runs, opts.max_runs, opts.budget)):
        gc.collect()
        t0 = time.perf_counter_ns()
        out = arr[k] if k else arr[...]
        times.append((time.perf_counter_ns() - t0) / 1e9)
        del out
    return {"median_s": statistics.median(times), "best_s": min(times), "seconds": times,
            "sha256": digest, "shape": shape}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--min-runs", type=int, default=3)
    ap.add_argument("--max-runs", type=int, default=15)
    ap.add_argument("--budget", type=float, default=1.5, help="seconds of timed runs per case")
    opts = ap.parse_args()
    spec = json.load(open(opts.data))
    only = set(filter(None, opts.only.split(",")))
    threads = [int(t) for t in opts.threads.split(",")]
    results = []
    for w in spec["workloads"]:
        if only and w["name"] not in only:
            continue
        for s in w["selections"]:
            entry = {"workload": w["name"], "id": s["id"], "native": {}}
            for n in threads:
                r = time_selection(w["b2nd"], s["sel"], n, opts)
                entry["native"][f"n{n}"] = r
                log(f"{s['id']} nthreads={n}: {r['median_s'] * 1e3:.2f} ms (median of {len(r['seconds'])})")
            digests = {r["sha256"] for r in entry["native"].values()}
            if len(digests) != 1:
                raise SystemExit(f"native: {s['id']}: results differ between thread counts")
            results.append(entry)
    with open(opts.out, "w") as f:
        json.dump(
            {
                "python_blosc2": blosc2.__version__,
                "c_blosc2": blosc2.VERSION_STRING,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "results": results,
            },
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()
