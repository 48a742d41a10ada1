"""Benchmark data for the slicing workloads W1-W3 (driven by bench/run.mjs).

For each workload: a .b2nd file made by python-blosc2 with the given chunks, blocks and
compression parameters, and an equivalent Zarr v2 store (numcodecs `Blosc`, i.e. Blosc1, same
codec, clevel and shuffle, chunks equal to the b2nd chunks) holding the same values, written by
zarr-python. Everything goes to bench/out/data/ (gitignored) with bench/out/data/workloads.json,
which lists the actual shapes, the files and the selections every contender times.

Data is cached: a workload is remade only when its parameters (or the library versions) differ
from those recorded next to it, or a file is missing.

Usage: .venv/bin/python bench/make_data.py [--out bench/out/data] [--w1-first N] [--only w1,w2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import blosc2
import numcodecs
import numpy as np
import zarr

SEED = 20261122
GENERATOR_VERSION = 1  # bump when the way data is made changes


def log(msg: str) -> None:
    print(f"make_data: {msg}", file=sys.stderr, flush=True)


def workloads(w1_first: int) -> dict[str, dict]:
    return {
        "w1": {
            "title": "W1: linspace, the Blosc2 NDim announcement case",
            "data": "linspace",
            "shape": [w1_first, 100, 300, 250],
            "full_shape": [50, 100, 300, 250],
            "chunks": [10, 25, 50, 50],
            "blocks": [3, 5, 10, 20],
            "codec": "zstd",
            "clevel": 1,
            "filter": "shuffle",
            "full_read": True,
        },
        "w2": {
            "title": "W2: linspace, the Caterva slicing case",
            "data": "linspace",
            "shape": [8000, 8000],
            "chunks": [4000, 100],
            "blocks": [500, 25],
            "codec": "lz4",
            "clevel": 5,
            "filter": "shuffle",
            "full_read": False,
        },
        "w3": {
            "title": "W3: noisy normal data (compresses about 2x)",
            "data": "normal",
            "shape": [1000, 250, 500],
            "chunks": [500, 20, 200],
            "blocks": [50, 10, 50],
            "codec": "zstd",
            "clevel": 5,
            "filter": "shuffle",
            "full_read": False,
        },
    }


def selections(name: str, w: dict) -> list[dict]:
    """The selections timed: a hyperplane (W1, W3) or a row/column (W2) through the middle
    index of each axis, and for W1 a full read. Entries: an integer or null (whole axis)."""
    shape = w["shape"]
    out = []
    for axis, n in enumerate(shape):
        sel = [None] * len(shape)
        sel[axis] = n // 2
        if name == "w2":
            label = f"row [{n // 2}, :]" if axis == 0 else f"column [:, {n // 2}]"
            kind = "row" if axis == 0 else "column"
        else:
            idx = ", ".join(str(n // 2) if a == axis else ":" for a in range(len(shape)))
            label = f"axis {axis} [{idx}]"
            kind = "hyperplane"
        out.append({"id": f"{name}-axis{axis}", "label": label, "kind": kind, "axis": axis, "sel": sel})
    if w["full_read"]:
        out.append({"id": f"{name}-full", "label": "full read", "kind": "full", "axis": None, "sel": []})
    return out


CODECS = {"zstd": blosc2.Codec.ZSTD, "lz4": blosc2.Codec.LZ4, "blosclz": blosc2.Codec.BLOSCLZ}
FILTERS = {"shuffle": blosc2.Filter.SHUFFLE, "bitshuffle": blosc2.Filter.BITSHUFFLE}
BLOSC1_SHUFFLE = {"shuffle": numcodecs.Blosc.SHUFFLE, "bitshuffle": numcodecs.Blosc.BITSHUFFLE}


def cparams(w: dict) -> blosc2.CParams:
    return blosc2.CParams(
        codec=CODECS[w["codec"]], clevel=w["clevel"], filters=[FILTERS[w["filter"]]], filters_meta=[0], typesize=8
    )


def normal_slab(shape: list[int], start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of the W3 data: standard normal values, quantized to 2**-20 so that
    about 22 mantissa bits vary (compresses about 2x with shuffle). Each axis-0 slab has its own
    seeded generator, so slabs can be made independently."""
    parts = []
    for i0 in range(start, stop, 100):
        i1 = min(stop, i0 + 100)
        rng = np.random.default_rng([SEED, i0])
        parts.append(np.round(rng.normal(0.0, 1.0, (i1 - i0, *shape[1:])) * 2**20) / 2**20)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def make_b2nd(w: dict, path: str) -> None:
    shape = tuple(w["shape"])
    common = dict(chunks=tuple(w["chunks"]), blocks=tuple(w["blocks"]), cparams=cparams(w), urlpath=path, mode="w")
    if w["data"] == "linspace":
        blosc2.linspace(0.0, 1.0, num=int(np.prod(shape)), shape=shape, dtype=np.float64, **common)
        return
    arr = blosc2.empty(shape, dtype=np.float64, **common)
    step = w["chunks"][0]
    for i0 in range(0, shape[0], step):
        i1 = min(shape[0], i0 + step)
        arr[i0:i1] = normal_slab(w["shape"], i0, i1)


def make_zarr_v2(w: dict, b2nd_path: str, path: str) -> None:
    src = blosc2.open(b2nd_path)
    compressor = numcodecs.Blosc(cname=w["codec"], clevel=w["clevel"], shuffle=BLOSC1_SHUFFLE[w["filter"]])
    z = zarr.create_array(
        store=path,
        shape=tuple(w["shape"]),
        chunks=tuple(w["chunks"]),
        dtype="<f8",
        zarr_format=2,
        compressors=compressor,
        fill_value=0.0,
        overwrite=True,
    )
    step = w["chunks"][0]
    for i0 in range(0, w["shape"][0], step):
        i1 = min(w["shape"][0], i0 + step)
        z[i0:i1] = src[i0:i1]


def dir_size(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(r, f)) for r, _d, fs in os.walk(path) for f in fs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out", "data"))
    ap.add_argument("--w1-first", type=int, default=50, help="first dimension of W1 (50: full size)")
    ap.add_argument("--only", default="w1,w2,w3")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    blosc2.set_nthreads(min(2, os.cpu_count() or 1))
    only = set(args.only.split(","))
    versions = {
        "python_blosc2": blosc2.__version__,
        "c_blosc2": blosc2.VERSION_STRING,
        "numcodecs": numcodecs.__version__,
        "zarr": zarr.__version__,
        "numpy": np.__version__,
        "generator": GENERATOR_VERSION,
        "seed": SEED,
    }
    listing = []
    for name, w in workloads(args.w1_first).items():
        if name not in only:
            continue
        b2nd_path = os.path.join(args.out, f"{name}.b2nd")
        zarr_path = os.path.join(args.out, f"{name}-v2.zarr")
        params_path = os.path.join(args.out, f"{name}.params.json")
        params = {"workload": w, "versions": versions}
        cached = (
            os.path.exists(b2nd_path)
            and os.path.exists(os.path.join(zarr_path, ".zarray"))
            and os.path.exists(params_path)
            and json.load(open(params_path)) == params
        )
        if cached:
            log(f"{name}: cached ({b2nd_path})")
        else:
            for p in (params_path, b2nd_path):
                if os.path.exists(p):
                    os.remove(p)
            shutil.rmtree(zarr_path, ignore_errors=True)
            t0 = time.perf_counter()
            make_b2nd(w, b2nd_path)
            t1 = time.perf_counter()
            log(f"{name}: made {b2nd_path} in {t1 - t0:.1f} s")
            make_zarr_v2(w, b2nd_path, zarr_path)
            log(f"{name}: made {zarr_path} in {time.perf_counter() - t1:.1f} s")
            with open(params_path, "w") as f:
                json.dump(params, f, indent=1)
        arr = blosc2.open(b2nd_path)
        assert list(arr.shape) == w["shape"] and list(arr.chunks) == w["chunks"] and list(arr.blocks) == w["blocks"]
        nbytes = int(np.prod(w["shape"])) * 8
        listing.append(
            {
                "name": name,
                **w,
                "b2nd": os.path.abspath(b2nd_path),
                "zarr_v2": os.path.abspath(zarr_path),
                "nbytes": nbytes,
                "b2nd_cbytes": dir_size(b2nd_path),
                "zarr_v2_cbytes": dir_size(zarr_path),
                "chunk_bytes": int(np.prod(w["chunks"])) * 8,
                "block_bytes": int(np.prod(w["blocks"])) * 8,
                "selections": selections(name, w),
            }
        )
        log(f"{name}: shape {w['shape']}, ratio {nbytes / listing[-1]['b2nd_cbytes']:.2f} (b2nd), "
            f"{nbytes / listing[-1]['zarr_v2_cbytes']:.2f} (Zarr v2 Blosc1)")
    with open(os.path.join(args.out, "workloads.json"), "w") as f:
        json.dump({"versions": versions, "w1_first": args.w1_first, "workloads": listing}, f, indent=1)


if __name__ == "__main__":
    main()
