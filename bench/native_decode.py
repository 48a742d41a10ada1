"""Native side of the full-chunk decode benchmark (driven by bench/full-decode.mjs).

1. Makes the benchmark chunks with python-blosc2 from deterministic data and writes them,
   with a manifest (parameters, sizes, sha256 of the original data), to the output folder.
2. Times native C-Blosc2 decoding of those exact bytes with one thread, into a preallocated
   buffer, checks the decoded bytes against the original data's sha256, and writes the
   timings to native.json in the same folder.

Usage: .venv/bin/python bench/native_decode.py [--out bench/out] [--runs 31] [--warmup 3]
Progress goes to stderr; a non-zero exit means a check failed.
"""

import argparse
import hashlib
import itertools
import json
import os
import platform
import statistics
import sys
import time

import blosc2
import numpy as np

CHUNK_BYTES = 32 * 1024 * 1024  # 32 MiB of float64 per chunk
SEED = 20240601
CLEVEL = 5
CODECS = {"lz4": blosc2.Codec.LZ4, "zstd": blosc2.Codec.ZSTD, "blosclz": blosc2.Codec.BLOSCLZ}
FILTERS = {"shuffle": blosc2.Filter.SHUFFLE, "bitshuffle": blosc2.Filter.BITSHUFFLE}


def log(msg: str) -> None:
    print(f"native: {msg}", file=sys.stderr, flush=True)


def make_data(kind: str) -> np.ndarray:
    """Deterministic float64 data: the same bytes on every run and every machine."""
    n = CHUNK_BYTES // 8
    rng = np.random.default_rng(SEED)
    if kind == "smooth":
        # Sum of three sines with seeded phases, rounded to 4 decimals (a field stored with
        # sensor-like resolution): smooth, so shuffle + codec compress it well.
        t = np.linspace(0.0, 1.0, n)
        phases = rng.uniform(0.0, 2.0 * np.pi, size=3)
        field = (
            np.sin(2 * np.pi * 2 * t + phases[0])
            + 0.5 * np.sin(2 * np.pi * 5 * t + phases[1])
            + 0.25 * np.sin(2 * np.pi * 13 * t + phases[2])
        )
        return np.round(field * 1e4) / 1e4
    if kind == "noisy":
        # Standard normal values: full-entropy mantissas, compresses little.
        return rng.normal(0.0, 1.0, size=n)
    raise ValueError(kind)


def sha256(buf) -> str:
    return hashlib.sha256(memoryview(buf).cast("B")).hexdigest()


def make_chunks(out: str) -> list[dict]:
    cases = []
    for kind in ("smooth", "noisy"):
        data = make_data(kind)
        assert data.dtype == np.float64 and data.nbytes == CHUNK_BYTES
        digest = sha256(data)
        for (name, codec), (fname, filt) in itertools.product(CODECS.items(), FILTERS.items()):
            chunk = blosc2.compress2(
                data,
                codec=codec,
                clevel=CLEVEL,
                typesize=8,
                filters=[filt],
                filters_meta=[0],
                nthreads=1,
            )
            path = os.path.join(out, f"{kind}-{name}-{fname}.b2")
            with open(path, "wb") as f:
                f.write(chunk)
            cases.append(
                {
                    "data": kind,
                    "codec": name,
                    "clevel": CLEVEL,
                    "filters": [fname],
                    "typesize": 8,
                    "file": os.path.basename(path),
                    "nbytes": data.nbytes,
                    "cbytes": len(chunk),
                    "sha256": digest,
                }
            )
            log(f"made {kind}/{name}/{fname}: {len(chunk)} bytes (ratio {data.nbytes / len(chunk):.2f})")
        del data
    return cases


def time_case(out: str, case: dict, runs: int, warmup: int) -> dict:
    with open(os.path.join(out, case["file"]), "rb") as f:
        chunk = f.read()
    dst = np.empty(case["nbytes"], dtype=np.uint8)
    dparams = blosc2.DParams(nthreads=1)

    def decode() -> int:
        dst.fill(0)  # outside the timed region; a stale correct buffer must not pass the check
        start = time.perf_counter_ns()
        blosc2.decompress2(chunk, dst=dst, dparams=dparams)
        return time.perf_counter_ns() - start

    for _ in range(warmup):
        decode()
    if warmup and sha256(dst) != case["sha256"]:
        raise SystemExit(f"native: {case['file']} decoded to the wrong bytes")
    times = [decode() for _ in range(runs)]
    if sha256(dst) != case["sha256"]:
        raise SystemExit(f"native: {case['file']} decoded to the wrong bytes")
    median = statistics.median(times) / 1e9
    return {
        "data": case["data"],
        "codec": case["codec"],
        "filters": case["filters"],
        "seconds": [t / 1e9 for t in times],
        "median_s": median,
        "best_s": min(times) / 1e9,
        "mbps": case["nbytes"] / median / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out"))
    ap.add_argument("--runs", type=int, default=31)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    blosc2.set_nthreads(1)

    cases = make_chunks(args.out)
    manifest = {
        "seed": SEED,
        "chunk_bytes": CHUNK_BYTES,
        "dtype": "float64",
        "python_blosc2": blosc2.__version__,
        "c_blosc2": blosc2.VERSION_STRING,
        "cases": cases,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)

    results = []
    for case in cases:
        r = time_case(args.out, case, args.runs, args.warmup)
        log(f"{case['data']}/{case['codec']}/{case['filters'][0]}: {r['mbps']:.0f} MB/s (median of {args.runs})")
        results.append(r)
    native = {
        "python_blosc2": blosc2.__version__,
        "c_blosc2": blosc2.VERSION_STRING,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "nthreads": blosc2.nthreads,
        "runs": args.runs,
        "warmup": args.warmup,
        "results": results,
    }
    with open(os.path.join(args.out, "native.json"), "w") as f:
        json.dump(native, f, indent=2)


if __name__ == "__main__":
    main()
