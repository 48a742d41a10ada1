// The plan of a virtual Parquet file, computed from array metadata alone (nothing decoded):
// row groups (one per chunk slab, like toParquet), pages (boxes of the slab, in C order),
// every page header and offset, the page index and the footer. Because every column is
// REQUIRED, PLAIN and UNCOMPRESSED, a page's size is its row count times the value width, so
// the whole file's layout is known before any value is produced.
import { OptionsError } from "../errors.js";
import type { TypedArray } from "../format/dtype.js";
import {
  type ColumnChunkMeta,
  type ColumnIndexMeta,
  encodeColumnIndex,
  encodeDataPageHeader,
  encodeFileMetaData,
  encodeOffsetIndex,
  type RowGroupMeta,
  type Statistics,
} from "../format/parquet-meta.js";
import {
  type Extent,
  extentOf,
  parquetColumn,
  plainBytes,
  schemaLeaf,
  statBounds,
} from "./plain.js";
import { slabsOf } from "./scan.js";
import { type BoxStats, boxStats, type VariableStats } from "./stats-sidecar.js";
import type { ColumnType, Dimension, Variable } from "./tables.js";
import type { IndexRange } from "./where.js";

/** Bump when the same source and options would give different bytes. */
export const LAYOUT_VERSION = 1;
export const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** Default most rows per page before rounding up to whole blocks. */
const PAGE_ROWS_TARGET = 1 << 17;
/** A page's data must fit Parquet's i32 sizes (and readers' buffers): at most 1 GiB. */
const MAX_PAGE_BYTES = 2 ** 30;

export interface LayoutColumn {
  name: string;
  kind: "dimension" | "variable";
  type: ColumnType;
  /** Parquet physical type. */
  physicalType: string;
  /** Whether row groups carry min/max statistics for it. */
  statistics: boolean;
}

export interface PageLayout {
  /** Header offset in the file. */
  offset: number;
  headerSize: number;
  dataSize: number;
}

export interface ColumnChunkLayout {
  /** First page header's offset; the chunk is `size` bytes of headers and data. */
  offset: number;
  size: number;
  pages: PageLayout[];
  /** Page index entries, when written. */
  columnIndex?: { offset: number; size: number };
  offsetIndex: { offset: number; size: number };
}

export interface RowGroupLayout {
  /** The box of the source array the row group holds, one range per dimension. */
  box: IndexRange[];
  rows: number;
  /** Index of the row group's first row in the file. */
  firstRow: number;
  offset: number;
  size: number;
  /** The pages' rows (shared by every column): boxes in C order of the row group's box. */
  pages: { box: IndexRange[]; rows: number; firstRow: number }[];
  columns: ColumnChunkLayout[];
}

/** Everything about the file's bytes that is known before any value is produced. */
export interface VirtualParquetLayout {
  size: number;
  rows: number;
  /** Most rows per page used. */
  pageRows: number;
  columns: LayoutColumn[];
  rowGroups: RowGroupLayout[];
  /** ColumnIndex and OffsetIndex structures of every column chunk. */
  pageIndex: { offset: number; size: number };
  /** The FileMetaData (followed by its 4-byte length and "PAR1"). */
  footer: { offset: number; size: number };
}

export interface LayoutColumnInput {
  name: string;
  kind: "dimension" | "variable";
  type: ColumnType;
  /** Dimension columns: the dimension and its position. */
  dim?: { dim: Dimension; index: number };
  variable?: Variable;
  /** Variables: per-chunk statistics from a sidecar. */
  stats?: VariableStats;
}

export interface LayoutInput {
  ranges: IndexRange[];
  columns: LayoutColumnInput[];
  /** Slab alignment: the first variable's chunks and blocks. */
  chunk: readonly number[];
  block: readonly number[] | undefined;
  rowGroupRows: number;
  pageRows: number | undefined;
  keyValue: { key: string; value: string }[];
  createdBy: string;
}

/** The plan plus what producing bytes needs: page headers and a sorted page table. */
export interface Plan {
  layout: VirtualParquetLayout;
  columns: LayoutColumnInput[];
  /** Bytes from the page index to the end of the file (page index, footer, length, magic). */
  tail: Uint8Array;
  tailOffset: number;
  /** Per page of every column chunk, in file order: header offset, header bytes, where. */
  pageStarts: Float64Array;
  pageHeaders: Uint8Array[];
  pageRef: Int32Array; // [rowGroup, column, page] triples
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/**
 * Most rows per page when the caller gives none: about 128 Ki rows, rounded up so that pages
 * hold whole blocks (b2nd) or chunks along the dimension they are split on, when a row
 * group is at least that thick; a page never cutting through blocks means reading a page
 * decodes each of its blocks once.
 */
export function defaultPageRows(
  slab: readonly IndexRange[],
  chunk: readonly number[],
  block: readonly number[] | undefined,
): number {
  const counts = slab.map((r) => r.stop - r.start);
  const rows = prod(counts);
  const n = counts.length;
  if (rows <= PAGE_ROWS_TARGET || n === 0) return Math.max(1, rows);
  let k = 0;
  while (k < n - 1 && prod(counts.slice(k + 1)) > PAGE_ROWS_TARGET) k++;
  const inner = prod(counts.slice(k + 1));
  const per = Math.floor(PAGE_ROWS_TARGET / inner);
  const unit = block?.[k] ?? chunk[k] ?? 1;
  if (per >= unit || unit >= counts[k]!) return per >= unit ? PAGE_ROWS_TARGET : rows;
  return unit * inner;
}

/** Extents of a dimension over index ranges, memoized (row groups and pages repeat ranges). */
class DimExtents {
  private readonly memo = new Map<string, Extent>();
  constructor(private readonly dim: Dimension) {}
  of(r: IndexRange): Extent {
    if (!this.dim.coords) return { min: r.start, max: r.stop - 1, nanCount: 0 };
    const key = `${r.start}:${r.stop}`;
    let e = this.memo.get(key);
    if (!e) {
      e = extentOf(this.dim.type, this.dim.coords as TypedArray, r.start, r.stop);
      if (this.memo.size > 65536) this.memo.clear();
      this.memo.set(key, e);
    }
    return e;
  }
}

interface Bound {
  min?: number | bigint;
  max?: number | bigint;
  minExact: boolean;
  maxExact: boolean;
  nanCount?: number;
}

function columnBound(
  c: LayoutColumnInput,
  extents: DimExtents | undefined,
  box: readonly IndexRange[],
): Bound | undefined {
  if (c.dim) {
    const e = extents!.of(box[c.dim.index]!);
    const b: Bound = { minExact: true, maxExact: true, nanCount: e.nanCount };
    if (e.min !== undefined) {
      b.min = e.min;
      b.max = e.max!;
    }
    return b;
  }
  if (c.stats && c.variable) {
    const b: BoxStats = boxStats(c.stats, c.variable.shape, box);
    return b;
  }
  return undefined;
}

function statistics(type: ColumnType, b: Bound): Statistics {
  const pc = parquetColumn(type);
  const s: Statistics = { nullCount: 0 };
  if (b.min !== undefined && b.max !== undefined) {
    const { min, max } = statBounds(type, b.min, b.max);
    Object.assign(s, { min, max, minExact: b.minExact, maxExact: b.maxExact });
    // The deprecated fields are signed-order and taken as actual values by old readers.
    s.legacy = pc.signed && b.minExact && b.maxExact;
  }
  if (pc.float && b.nanCount !== undefined) s.nanCount = b.nanCount;
  return s;
}

function less(a: number | bigint, b: number | bigint): boolean {
  return a < b;
}

function boundaryOrder(bounds: Bound[]): ColumnIndexMeta["boundaryOrder"] {
  let asc = true;
  let desc = true;
  for (let i = 1; i < bounds.length; i++) {
    const p = bounds[i - 1]!;
    const q = bounds[i]!;
    if (less(q.min!, p.min!) || less(q.max!, p.max!)) asc = false;
    if (less(p.min!, q.min!) || less(p.max!, q.max!)) desc = false;
  }
  return asc ? "ASCENDING" : desc ? "DESCENDING" : "UNORDERED";
}

/** The page index entry of a column chunk, or undefined when one cannot be exact. */
function columnIndex(type: ColumnType, bounds: Bound[]): Uint8Array | undefined {
  const pc = parquetColumn(type);
  // No entry when a page has no non-NaN value, or (sidecar bounds) is not exact.
  if (bounds.some((b) => b.min === undefined || !b.minExact || !b.maxExact)) return undefined;
  const mins: Uint8Array[] = [];
  const maxs: Uint8Array[] = [];
  for (const b of bounds) {
    const v = statBounds(type, b.min!, b.max!);
    mins.push(v.min);
    maxs.push(v.max);
  }
  const nan = pc.float && bounds.every((b) => b.nanCount !== undefined);
  return encodeColumnIndex({
    mins,
    maxs,
    boundaryOrder: boundaryOrder(bounds),
    ...(nan ? { nanCounts: bounds.map((b) => b.nanCount!) } : {}),
  });
}

/** Computes the whole layout. Decodes nothing and reads nothing. */
export function planLayout(input: LayoutInput): Plan {
  const { ranges, columns, chunk, block } = input;
  const rowGroupRows = input.rowGroupRows;
  const extents = columns.map((c) => (c.dim ? new DimExtents(c.dim.dim) : undefined));
  const maxWidth = Math.max(1, ...columns.map((c) => parquetColumn(c.type).width));
  const pageLimit = Math.floor(MAX_PAGE_BYTES / maxWidth);
  if (input.pageRows !== undefined && input.pageRows > pageLimit) {
    throw new OptionsError(
      `pageRows ${input.pageRows} makes pages above ${MAX_PAGE_BYTES} bytes (at most ${pageLimit} rows here)`,
    );
  }
  const headerMemo = new Map<string, Uint8Array>();
  const header = (rows: number, bytes: number): Uint8Array => {
    const key = `${rows}:${bytes}`;
    let h = headerMemo.get(key);
    if (!h) {
      h = encodeDataPageHeader(rows, bytes);
      headerMemo.set(key, h);
    }
    return h;
  };

  let pageRows = input.pageRows;
  const rowGroups: RowGroupLayout[] = [];
  const metas: RowGroupMeta[] = [];
  const pageStarts: number[] = [];
  const pageHeaders: Uint8Array[] = [];
  const pageRef: number[] = [];
  const columnIndexes: (Uint8Array | undefined)[][] = [];
  const offsetIndexes: Uint8Array[][] = [];
  let offset = MAGIC.length;
  let firstRow = 0;
  for (const box of slabsOf(ranges, chunk, block, rowGroupRows, false)) {
    pageRows ??= Math.min(pageLimit, defaultPageRows(box, chunk, block));
    const rows = prod(box.map((r) => r.stop - r.start));
    const pages: RowGroupLayout["pages"] = [];
    let pageFirst = 0;
    for (const p of slabsOf(box, chunk, block, pageRows, true)) {
      const n = prod(p.map((r) => r.stop - r.start));
      pages.push({ box: p, rows: n, firstRow: pageFirst });
      pageFirst += n;
    }
    const rg = rowGroups.length;
    const chunks: ColumnChunkLayout[] = [];
    const chunkMetas: ColumnChunkMeta[] = [];
    const cis: (Uint8Array | undefined)[] = [];
    const ois: Uint8Array[] = [];
    const rgOffset = offset;
    columns.forEach((c, ci) => {
      const start = offset;
      const pageLayouts: PageLayout[] = [];
      const locations = pages.map((p, pi) => {
        const dataSize = plainBytes(c.type, p.rows);
        const h = header(p.rows, dataSize);
        pageStarts.push(offset);
        pageHeaders.push(h);
        pageRef.push(rg, ci, pi);
        pageLayouts.push({ offset, headerSize: h.length, dataSize });
        const loc = { offset, size: h.length + dataSize, firstRow: p.firstRow };
        offset += h.length + dataSize;
        return loc;
      });
      const rgBound = columnBound(c, extents[ci], box);
      const ci_ = rgBound
        ? columnIndex(
            c.type,
            pages.map((p) => columnBound(c, extents[ci], p.box)!),
          )
        : undefined;
      cis.push(ci_);
      ois.push(encodeOffsetIndex(locations));
      chunks.push({
        offset: start,
        size: offset - start,
        pages: pageLayouts,
        offsetIndex: { offset: 0, size: 0 },
      });
      chunkMetas.push({
        type: parquetColumn(c.type).physical,
        path: c.name,
        numValues: rows,
        totalSize: offset - start,
        dataPageOffset: start,
        ...(rgBound ? { statistics: statistics(c.type, rgBound) } : {}),
      });
    });
    rowGroups.push({
      box,
      rows,
      firstRow,
      offset: rgOffset,
      size: offset - rgOffset,
      pages,
      columns: chunks,
    });
    metas.push({
      columns: chunkMetas,
      numRows: rows,
      fileOffset: rgOffset,
      totalSize: offset - rgOffset,
      ordinal: rg,
    });
    columnIndexes.push(cis);
    offsetIndexes.push(ois);
    firstRow += rows;
  }

  // The page index: every ColumnIndex, then every OffsetIndex (as parquet-mr and Arrow do).
  const indexStart = offset;
  const tailParts: Uint8Array[] = [];
  rowGroups.forEach((rg, r) => {
    rg.columns.forEach((cc, c) => {
      const bytes = columnIndexes[r]![c];
      if (!bytes) return;
      cc.columnIndex = { offset, size: bytes.length };
      metas[r]!.columns[c]!.columnIndex = { offset, length: bytes.length };
      tailParts.push(bytes);
      offset += bytes.length;
    });
  });
  rowGroups.forEach((rg, r) => {
    rg.columns.forEach((cc, c) => {
      const bytes = offsetIndexes[r]![c]!;
      cc.offsetIndex = { offset, size: bytes.length };
      metas[r]!.columns[c]!.offsetIndex = { offset, length: bytes.length };
      tailParts.push(bytes);
      offset += bytes.length;
    });
  });
  const pageIndex = { offset: indexStart, size: offset - indexStart };
  const footer = encodeFileMetaData({
    schema: columns.map((c) => schemaLeaf(c.name, c.type)),
    numRows: firstRow,
    rowGroups: metas,
    keyValue: input.keyValue,
    createdBy: input.createdBy,
  });
  const footerOffset = offset;
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(0, footer.length, true);
  trailer.set(MAGIC, 4);
  tailParts.push(footer, trailer);
  offset += footer.length + trailer.length;
  const tail = new Uint8Array(offset - indexStart);
  let at = 0;
  for (const p of tailParts) {
    tail.set(p, at);
    at += p.length;
  }
  const rowsTotal = firstRow;
  return {
    layout: {
      size: offset,
      rows: rowsTotal,
      pageRows: pageRows ?? input.pageRows ?? 0,
      columns: columns.map((c, i) => ({
        name: c.name,
        kind: c.kind,
        type: c.type,
        physicalType: parquetColumn(c.type).physical,
        statistics: c.kind === "dimension" || (c.stats !== undefined && i >= 0),
      })),
      rowGroups,
      pageIndex,
      footer: { offset: footerOffset, size: footer.length },
    },
    columns,
    tail,
    tailOffset: indexStart,
    pageStarts: Float64Array.from(pageStarts),
    pageHeaders,
    pageRef: Int32Array.from(pageRef),
  };
}
