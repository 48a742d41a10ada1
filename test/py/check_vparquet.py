#!/usr/bin/env python3
"""Check a virtual Parquet file (downloaded whole) against NumPy, with pyarrow, DuckDB and polars.

Usage: check_vparquet.py SPEC.json   (a list of specs, one per file)

SPEC: {"file": path, "zarr": group or array path, "dims": [names], "variables": [names],
       "coords": true when dimensions have coordinate arrays (group sources)}
   or {"file": path, "b2nd": path, "variables": ["value"]}
   plus "box": [[start, stop], ...] (the where box; default everything), "chunks": the chunk
   shape of each variable {name: [...]}, "sidecar": true when variables must carry statistics
   (bounds, equal to the true extent when a row group holds whole chunks), "prune": {"column",
   "value"} to check that pyarrow's filters skip row groups (reads are recorded).

Prints one JSON line per file: {"problems": [...], "row_groups": n, "rows": n, "pruned": n}.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

problems: list[str] = []


def expected(spec: dict):
    """(dims, column values, index arrays, variable arrays) in C order of the box."""
    if "b2nd" in spec:
        import blosc2

        a = blosc2.open(spec["b2nd"])
        a = np.asarray(a[()] if a.ndim == 0 else a[...])
        a = a.astype(a.dtype.newbyteorder("="))
        arrays = {"value": a}
        dims = [f"dim_{d}" for d in range(a.ndim)]
        coords = {d: None for d in dims}
    else:
        import zarr
        import zarr_codecs  # noqa: F401  (registers the codecs)

        node = zarr.open(spec["zarr"], mode="r")
        dims = spec["dims"]
        if isinstance(node, zarr.Group):
            arrays = {v: np.asarray(node[v][...]) for v in spec["variables"]}
            coords = {d: (np.asarray(node[d][...]) if spec.get("coords") and d in node else None) for d in dims}
        else:
            arrays = {spec["variables"][0]: np.asarray(node[...])}
            coords = {d: None for d in dims}
        arrays = {k: v.astype(v.dtype.newbyteorder("=")) for k, v in arrays.items()}
    shape = next(iter(arrays.values())).shape
    box = spec.get("box") or [[0, n] for n in shape]
    sl = tuple(slice(a, b) for a, b in box)
    arrays = {k: v[sl] for k, v in arrays.items()}
    sub = arrays[next(iter(arrays))].shape
    idx = np.meshgrid(*[np.arange(a, b) for a, b in box], indexing="ij")
    idx = [i.ravel() for i in idx] or [np.zeros(int(np.prod(sub)), np.int64)]
    cols: dict[str, np.ndarray] = {}
    for d, name in enumerate(dims):
        c = coords[name]
        cols[name] = c[idx[d]] if c is not None else idx[d].astype(np.int64)
    for name, a in arrays.items():
        cols[name] = a.ravel()
    return dims, cols, idx, shape, box


def same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    got = np.asarray(got)
    if got.shape != want.shape:
        problems.append(f"{what}: {got.shape[0]} rows, expected {want.shape[0]}")
        return
    if want.dtype.kind == "b":
        ok = np.array_equal(got.astype(bool), want)
    elif want.dtype.kind == "f":
        ok = np.array_equal(got.astype(np.float64), want.astype(np.float64), equal_nan=True)
    else:
        ok = np.array_equal(got.astype(want.dtype), want) and np.array_equal(got, want)
    if not ok:
        g = got.astype(np.float64) if want.dtype.kind == "f" else got
        w = want.astype(np.float64) if want.dtype.kind == "f" else want
        bad = np.nonzero(~((g == w) | ((g != g) & (w != w))))[0]
        i = int(bad[0]) if len(bad) else -1
        problems.append(f"{what}: values differ (first at row {i}: {got[i]!r} vs {want[i]!r})")


class Recording(io.RawIOBase):
    """A file that records the byte ranges read from it."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.reads: list[tuple[int, int]] = []

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, off, whence=0):
        self.pos = off if whence == 0 else self.pos + off if whence == 1 else len(self.data) + off
        return self.pos

    def tell(self):
        return self.pos

    def readinto(self, b):
        n = min(len(b), len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        if n:
            self.reads.append((self.pos, self.pos + n))
        self.pos += n
        return n


def check(spec: dict) -> dict:
    problems.clear()
    path = spec["file"]
    dims, cols, idx, shape, box = expected(spec)
    names = list(cols)
    variables = [n for n in names if n not in dims]
    # pyarrow
    pf = pq.ParquetFile(path)
    t = pf.read()
    if t.column_names != names:
        problems.append(f"pyarrow: columns {t.column_names}, expected {names}")
    for f in t.schema:
        if f.nullable:
            problems.append(f"pyarrow: column {f.name} is nullable")
    for name in names:
        if name in t.column_names:
            same(t.column(name).to_numpy(), cols[name], f"pyarrow {name}")
    # DuckDB
    got = duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')").fetchnumpy()
    for name in names:
        if name not in got:
            problems.append(f"duckdb: no column {name}")
        else:
            same(np.asarray(got[name]), cols[name], f"duckdb {name}")
    # polars
    df = pl.read_parquet(path)
    for name in names:
        if name not in df.columns:
            problems.append(f"polars: no column {name}")
        else:
            same(df[name].to_numpy(), cols[name], f"polars {name}")
    md = pf.metadata
    kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
    if json.loads(kv.get("zarr_blosc2.dimensions", "null")) != dims:
        problems.append(f"key-value metadata: dimensions {kv.get('zarr_blosc2.dimensions')}")
    if json.loads(kv.get("zarr_blosc2.ranges", "null")) != [{"start": a, "stop": b} for a, b in box]:
        problems.append(f"key-value metadata: ranges {kv.get('zarr_blosc2.ranges')}")
    if "zarr_blosc2.table" not in kv:
        problems.append("key-value metadata: no zarr_blosc2.table")
    # Row groups: dimension statistics exact, page index present; variables per the spec.
    start = 0
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        rows = slice(start, start + rg.num_rows)
        rbox = [(int(ix[rows].min()), int(ix[rows].max()) + 1) for ix in idx] if rg.num_rows else []
        for j, name in enumerate(names):
            c = rg.column(j)
            if c.compression != "UNCOMPRESSED" or "PLAIN" not in c.encodings:
                problems.append(f"row group {i} {name}: {c.compression} {c.encodings}")
            st = c.statistics
            want = cols[name][rows]
            if want.dtype.kind == "f":
                want = want[~np.isnan(want)]
            if name in dims:
                if st is None or not st.has_min_max:
                    problems.append(f"row group {i} {name}: no min/max statistics")
                elif len(want) and not (st.min == want.min() and st.max == want.max()):
                    problems.append(f"row group {i} {name}: statistics {st.min}..{st.max}, expected {want.min()}..{want.max()}")
                if not (c.has_column_index and c.has_offset_index):
                    problems.append(f"row group {i} {name}: no page index")
            elif spec.get("sidecar"):
                if "variable_page_index" in spec and c.has_column_index != spec["variable_page_index"]:
                    problems.append(f"row group {i} {name}: page index {c.has_column_index}, expected {spec['variable_page_index']}")
                if st is None or not st.has_min_max:
                    if len(want):
                        problems.append(f"row group {i} {name}: no min/max statistics from the sidecar")
                    continue
                if len(want) and not (st.min <= want.min() and st.max >= want.max()):
                    problems.append(f"row group {i} {name}: bounds {st.min}..{st.max} miss {want.min()}..{want.max()}")
                chunk = spec["chunks"][name]
                whole = all(a % k == 0 and (b % k == 0 or b == n) for (a, b), k, n in zip(rbox, chunk, shape))
                if whole and len(want) and not (st.min == want.min() and st.max == want.max()):
                    problems.append(f"row group {i} {name}: whole chunks but statistics {st.min}..{st.max}, expected {want.min()}..{want.max()}")
            else:
                if st is not None and st.has_min_max:
                    problems.append(f"row group {i} {name}: statistics without a sidecar")
                if c.has_column_index:
                    problems.append(f"row group {i} {name}: a page index without a sidecar")
        start += rg.num_rows
    if start != len(idx[0]):
        problems.append(f"row groups hold {start} rows, expected {len(idx[0])}")
    pruned = 0
    if "prune" in spec:
        col, value = spec["prune"]["column"], spec["prune"]["value"]
        rec = Recording(Path(path).read_bytes())
        got = pq.read_table(rec, filters=[(col, ">=", value)], pre_buffer=False)
        keep = cols[col] >= value
        same(got.column(col).to_numpy(), cols[col][keep], f"pyarrow filter {col}")
        for v in variables:
            same(got.column(v).to_numpy(), cols[v][keep], f"pyarrow filter {v}")
        j = names.index(col)
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            lo = min(rg.column(k).data_page_offset for k in range(rg.num_columns))
            hi = max(rg.column(k).data_page_offset + rg.column(k).total_compressed_size for k in range(rg.num_columns))
            # Reads ending at the end of the file are the footer's (a speculative 64 KiB tail).
            touched = any(a < hi and b > lo and b < len(rec.data) for a, b in rec.reads)
            if rg.column(j).statistics.max < value:
                pruned += 1
                if touched:
                    problems.append(f"pyarrow filter: row group {i} (max {rg.column(j).statistics.max} < {value}) was read")
            elif not touched:
                problems.append(f"pyarrow filter: row group {i} was not read")
    return {"problems": list(problems), "row_groups": md.num_row_groups, "rows": md.num_rows, "pruned": pruned}


def main() -> int:
    for spec in json.loads(Path(sys.argv[1]).read_text()):
        print(json.dumps(check(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
