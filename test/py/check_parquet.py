#!/usr/bin/env python3
"""Check a Parquet file written by toParquet against NumPy, with pyarrow and DuckDB.

Usage: check_parquet.py FILE.parquet SPEC.json [FILE.parquet SPEC.json ...]

SPEC: {"zarr": group path, "dims": [names], "variables": [names], "chunks": chunk shape of the
first variable, "nan_as_null": bool, "fill_as_null": bool}
or    {"b2nd": path, "chunks": [...], ...} for a b2nd array (dims dim_0.., variable "value").

Prints one JSON line per file: {"problems": [...], "row_groups": n, "rows": n}; a problem is
anything that differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

problems: list[str] = []


def expected(spec: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[np.ndarray]]:
    """(column values, null masks, per-dimension index arrays), flattened in C order."""
    if "b2nd" in spec:
        import blosc2

        a = blosc2.open(spec["b2nd"])[...]
        a = a.astype(a.dtype.newbyteorder("="))
        arrays = {"value": a}
        dims = [f"dim_{d}" for d in range(a.ndim)]
        coords = {d: None for d in dims}
        fills = {"value": None}
    else:
        import zarr
        import zarr_codecs  # noqa: F401  (registers the codecs)

        g = zarr.open_group(spec["zarr"], mode="r")
        dims = spec["dims"]
        arrays = {v: np.asarray(g[v][...]) for v in spec["variables"]}
        fills = {v: g[v].metadata.fill_value for v in spec["variables"]}
        coords = {}
        for d in dims:
            coords[d] = np.asarray(g[d][...]) if d in g else None
    shape = next(iter(arrays.values())).shape
    idx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    idx = [i.ravel() for i in idx] or [np.zeros(int(np.prod(shape)), np.int64)]  # 0-d: one row
    cols: dict[str, np.ndarray] = {}
    nulls: dict[str, np.ndarray] = {}
    for d, name in enumerate(dims):
        c = coords[name]
        cols[name] = c[idx[d]] if c is not None else idx[d].astype(np.int64)
        nulls[name] = np.zeros(idx[d].shape, bool)
    for name, a in arrays.items():
        v = a.ravel()
        m = np.zeros(v.shape, bool)
        if spec.get("nan_as_null") and v.dtype.kind == "f":
            m |= np.isnan(v)
        fill = fills.get(name)
        if spec.get("fill_as_null") and fill is not None:
            f = np.asarray(fill).astype(v.dtype) if not (isinstance(fill, float) and np.isnan(fill)) else None
            m |= np.isnan(v) if f is None else (v == f)
        cols[name] = v
        nulls[name] = m
    return cols, nulls, idx


def same(got: np.ndarray, gotnull: np.ndarray, want: np.ndarray, wantnull: np.ndarray, what: str) -> None:
    if got.shape != want.shape:
        problems.append(f"{what}: {got.shape[0]} rows, expected {want.shape[0]}")
        return
    if not np.array_equal(gotnull, wantnull):
        problems.append(f"{what}: nulls differ ({int(gotnull.sum())} vs {int(wantnull.sum())})")
        return
    keep = ~wantnull
    g = got[keep].astype(np.float64) if want.dtype.kind == "f" else got[keep]
    w = want[keep].astype(np.float64) if want.dtype.kind == "f" else want[keep]
    if want.dtype.kind == "b":
        g, w = g.astype(bool), w.astype(bool)
    ok = np.array_equal(g, w, equal_nan=True) if want.dtype.kind == "f" else np.array_equal(g.astype(w.dtype), w)
    if not ok:
        bad = int(np.nonzero(~((g == w) | (np.isnan(g) & np.isnan(w)) if want.dtype.kind == "f" else (g.astype(w.dtype) == w)))[0][0])
        problems.append(f"{what}: values differ (first at row {bad}: {g[bad]!r} vs {w[bad]!r})")


def main() -> int:
    args = sys.argv[1:]
    for path, spec_path in zip(args[::2], args[1::2]):
        problems.clear()
        check(path, json.loads(Path(spec_path).read_text()))
    return 0


def check(path: str, spec: dict) -> None:
    cols, nulls, idx = expected(spec)
    names = list(cols)
    # pyarrow
    t = pq.read_table(path)
    if t.column_names != names:
        problems.append(f"pyarrow: columns {t.column_names}, expected {names}")
    for name in names:
        if name not in t.column_names:
            continue
        col = t.column(name)
        m = np.asarray(col.is_null())
        v = np.asarray(col.fill_null(0) if col.null_count else col)
        same(v, m, cols[name], nulls[name], f"pyarrow {name}")
    # DuckDB
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{path}')")
    got = rel.fetchnumpy()
    for name in names:
        if name not in got:
            problems.append(f"duckdb: no column {name}")
            continue
        v = got[name]
        if np.ma.isMaskedArray(v):
            m = np.ma.getmaskarray(v)
            v = np.ma.getdata(v)
        else:
            m = np.zeros(v.shape, bool)
        same(np.asarray(v), m, cols[name], nulls[name], f"duckdb {name}")
    # Row groups: aligned to chunks along the first dimension, min/max statistics on dimensions
    md = pq.ParquetFile(path).metadata
    chunk0 = spec["chunks"][0] if spec["chunks"] else None
    start = 0
    dims = [n for n in names if n in spec.get("dims", [f"dim_{d}" for d in range(len(idx))])]
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        rows = slice(start, start + rg.num_rows)
        first = idx[0][rows]
        if chunk0 and len(first) and first.min() // chunk0 != first.max() // chunk0:
            problems.append(f"row group {i} spans chunks {first.min() // chunk0}..{first.max() // chunk0} of dimension 0")
        for j, name in enumerate(names):
            if name not in dims:
                continue
            st = rg.column(j).statistics
            if st is None or not st.has_min_max:
                problems.append(f"row group {i} column {name}: no min/max statistics")
                continue
            want = cols[name][rows]
            if not (np.isclose(float(st.min), float(want.min())) and np.isclose(float(st.max), float(want.max()))):
                problems.append(f"row group {i} column {name}: statistics {st.min}..{st.max}, expected {want.min()}..{want.max()}")
        start += rg.num_rows
    if start != len(idx[0]):
        problems.append(f"row groups hold {start} rows, expected {len(idx[0])}")
    print(json.dumps({"problems": problems, "row_groups": md.num_row_groups, "rows": md.num_rows}))


if __name__ == "__main__":
    sys.exit(main())
