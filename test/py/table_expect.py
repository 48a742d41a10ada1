#!/usr/bin/env python3
"""What a b2nd array holds, as the table tests compare it: for each path on the command line,
one JSON line {"shape", "values" (C order, as strings: ints exact, floats repr, bools 0/1),
"count" (non-NaN), "min", "max" (NaN-aware, as strings; null when nothing is left)}."""

import json
import sys

import blosc2
import numpy as np


def s(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (np.floating, float)):
        return repr(float(x))
    return str(int(x))


for path in sys.argv[1:]:
    a = blosc2.open(path)[()] if blosc2.open(path).ndim == 0 else blosc2.open(path)[...]
    a = np.asarray(a)
    flat = a.ravel()
    keep = flat[~np.isnan(flat)] if flat.dtype.kind == "f" else flat
    print(json.dumps({
        "path": path,
        "shape": list(a.shape),
        "values": [s(x) for x in flat],
        "count": int(keep.size),
        "min": s(keep.min()) if keep.size else None,
        "max": s(keep.max()) if keep.size else None,
    }))
