"""Reads .b2nd files with python-blosc2 and reports what it sees, as JSON on stdout.

Usage: read_b2nd.py cases.json
cases.json: [{"path": ".../a.b2nd", "expected": ".../a.bin"}, ...] where expected holds the
array's items in C order, in the stored byte order of the dtype the writer claims.
Per case: shape, chunks, blocks, dtype (arr.dtype.str), nchunks, attrs (dict(arr.vlmeta)),
equal (arr[()] bitwise equal to expected), and error when opening or reading failed.
Exit status 1 when any case failed or differs.
"""

import json
import sys

import blosc2
import numpy as np


def plain(v):
    """JSON-friendly copy of a vlmeta value (tuples become lists, bytes become lists of ints)."""
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return {"bytes": list(v)}
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


def check(case):
    out = {"path": case["path"]}
    try:
        arr = blosc2.open(case["path"])
        out["shape"] = list(arr.shape)
        out["chunks"] = list(arr.chunks)
        out["blocks"] = list(arr.blocks)
        out["dtype"] = arr.dtype.str
        out["nchunks"] = arr.schunk.nchunks
        out["attrs"] = plain({k: arr.vlmeta[k] for k in arr.vlmeta.keys()})
        got = np.asarray(arr[()])
        with open(case["expected"], "rb") as f:
            raw = f.read()
        expected = np.frombuffer(raw, dtype=arr.dtype).reshape(arr.shape)
        out["equal"] = (
            got.shape == expected.shape
            and got.dtype == arr.dtype
            and np.ascontiguousarray(got).tobytes() == raw
        )
        if not out["equal"]:
            out["first_values"] = [str(x) for x in got.reshape(-1)[:8]]
    except Exception as e:  # noqa: BLE001 - reported to the caller
        out["error"] = f"{type(e).__name__}: {e}"
        out["equal"] = False
    return out


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    results = [check(c) for c in cases]
    json.dump({"version": blosc2.__version__, "results": results}, sys.stdout)
    sys.exit(0 if all(r["equal"] for r in results) else 1)


if __name__ == "__main__":
    main()
