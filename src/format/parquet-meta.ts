// Parquet metadata structs (parquet-format's parquet.thrift) and their Thrift compact
// encoding: the subset a writer of PLAIN, UNCOMPRESSED, REQUIRED columns needs: the footer
// (FileMetaData), data page headers (v1) and the page index (ColumnIndex, OffsetIndex).
// Field ids are the ones of parquet.thrift.
import { ThriftWriter } from "./thrift.js";

export const ParquetType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  FLOAT: 4,
  DOUBLE: 5,
} as const;
export type ParquetPhysicalType = keyof typeof ParquetType;

export const ConvertedType = {
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
} as const;
export type ParquetConvertedType = keyof typeof ConvertedType;

const REQUIRED = 0;
const PLAIN = 0;
const RLE = 3;
const UNCOMPRESSED = 0;
const DATA_PAGE = 0;
export const BoundaryOrder = { UNORDERED: 0, ASCENDING: 1, DESCENDING: 2 } as const;

export interface SchemaLeaf {
  name: string;
  type: ParquetPhysicalType;
  convertedType?: ParquetConvertedType;
  /** LogicalType INTEGER(bitWidth, isSigned), written alongside the converted type. */
  integer?: { bitWidth: 8 | 16 | 32 | 64; signed: boolean };
}

export interface Statistics {
  /** PLAIN-encoded bounds in the column's sort order (min_value / max_value). */
  min?: Uint8Array;
  max?: Uint8Array;
  /** Also write the deprecated min/max (signed sort order only). */
  legacy?: boolean;
  minExact?: boolean;
  maxExact?: boolean;
  nullCount?: number;
  nanCount?: number;
}

export interface ColumnChunkMeta {
  type: ParquetPhysicalType;
  path: string;
  numValues: number;
  /** Bytes of all pages including their headers (uncompressed = compressed). */
  totalSize: number;
  dataPageOffset: number;
  statistics?: Statistics;
  offsetIndex?: { offset: number; length: number };
  columnIndex?: { offset: number; length: number };
}

export interface RowGroupMeta {
  columns: ColumnChunkMeta[];
  numRows: number;
  /** Offset of the row group's first page. */
  fileOffset: number;
  totalSize: number;
  ordinal: number;
}

export interface FileMeta {
  schema: SchemaLeaf[];
  numRows: number;
  rowGroups: RowGroupMeta[];
  keyValue: { key: string; value: string }[];
  createdBy: string;
}

function writeStatistics(w: ThriftWriter, s: Statistics): void {
  if (s.legacy && s.max) w.binary(1, s.max);
  if (s.legacy && s.min) w.binary(2, s.min);
  if (s.nullCount !== undefined) w.i64(3, s.nullCount);
  if (s.max) w.binary(5, s.max);
  if (s.min) w.binary(6, s.min);
  if (s.max && s.maxExact !== undefined) w.bool(7, s.maxExact);
  if (s.min && s.minExact !== undefined) w.bool(8, s.minExact);
  if (s.nanCount !== undefined) w.i64(9, s.nanCount);
}

/** A data page (v1) header of a REQUIRED, PLAIN, UNCOMPRESSED column: no levels, just values. */
export function encodeDataPageHeader(numValues: number, dataBytes: number): Uint8Array {
  const w = new ThriftWriter();
  w.structBody((h) => {
    h.i32(1, DATA_PAGE);
    h.i32(2, dataBytes);
    h.i32(3, dataBytes);
    h.struct(5, (d) => {
      d.i32(1, numValues);
      d.i32(2, PLAIN);
      d.i32(3, RLE);
      d.i32(4, RLE);
    });
  });
  return w.bytes();
}

export interface PageLocation {
  offset: number;
  /** Header plus data. */
  size: number;
  /** First row of the page within its row group. */
  firstRow: number;
}

export function encodeOffsetIndex(pages: readonly PageLocation[]): Uint8Array {
  const w = new ThriftWriter();
  w.structBody((o) => {
    o.listStruct(1, pages, (p, page) => {
      p.i64(1, page.offset);
      p.i32(2, page.size);
      p.i64(3, page.firstRow);
    });
  });
  return w.bytes();
}

export interface ColumnIndexMeta {
  mins: Uint8Array[];
  maxs: Uint8Array[];
  boundaryOrder: keyof typeof BoundaryOrder;
  /** Per page, for float columns. */
  nanCounts?: number[];
}

export function encodeColumnIndex(ci: ColumnIndexMeta): Uint8Array {
  const w = new ThriftWriter();
  const n = ci.mins.length;
  w.structBody((c) => {
    c.listBool(
      1,
      Array.from({ length: n }, () => false),
    );
    c.listBinary(2, ci.mins);
    c.listBinary(3, ci.maxs);
    c.i32(4, BoundaryOrder[ci.boundaryOrder]);
    c.listI64(
      5,
      Array.from({ length: n }, () => 0),
    );
    if (ci.nanCounts) c.listI64(8, ci.nanCounts);
  });
  return w.bytes();
}

function writeSchemaLeaf(w: ThriftWriter, leaf: SchemaLeaf): void {
  w.i32(1, ParquetType[leaf.type]);
  w.i32(3, REQUIRED);
  w.string(4, leaf.name);
  if (leaf.convertedType) w.i32(6, ConvertedType[leaf.convertedType]);
  if (leaf.integer) {
    const int = leaf.integer;
    w.struct(10, (lt) =>
      lt.struct(10, (it) => {
        it.i8(1, int.bitWidth);
        it.bool(2, int.signed);
      }),
    );
  }
}

function writeColumnChunk(w: ThriftWriter, c: ColumnChunkMeta): void {
  w.i64(2, 0); // file_offset: no ColumnMetaData outside the footer
  w.struct(3, (m) => {
    m.i32(1, ParquetType[c.type]);
    m.listI32(2, [PLAIN]);
    m.listString(3, [c.path]);
    m.i32(4, UNCOMPRESSED);
    m.i64(5, c.numValues);
    m.i64(6, c.totalSize);
    m.i64(7, c.totalSize);
    m.i64(9, c.dataPageOffset);
    if (c.statistics) {
      const s = c.statistics;
      m.struct(12, (st) => writeStatistics(st, s));
    }
  });
  if (c.offsetIndex) {
    w.i64(4, c.offsetIndex.offset);
    w.i32(5, c.offsetIndex.length);
  }
  if (c.columnIndex) {
    w.i64(6, c.columnIndex.offset);
    w.i32(7, c.columnIndex.length);
  }
}

/** The footer: FileMetaData, without the trailing length and magic. */
export function encodeFileMetaData(meta: FileMeta): Uint8Array {
  const w = new ThriftWriter();
  w.structBody((f) => {
    f.i32(1, 1);
    f.listStruct(2, [undefined, ...meta.schema], (s, leaf) => {
      if (leaf === undefined) {
        s.string(4, "schema");
        s.i32(5, meta.schema.length);
      } else writeSchemaLeaf(s, leaf);
    });
    f.i64(3, meta.numRows);
    f.listStruct(4, meta.rowGroups, (r, rg) => {
      r.listStruct(1, rg.columns, writeColumnChunk);
      r.i64(2, rg.totalSize);
      r.i64(3, rg.numRows);
      r.i64(5, rg.fileOffset);
      r.i64(6, rg.totalSize);
      if (rg.ordinal <= 0x7fff) r.i16(7, rg.ordinal);
    });
    if (meta.keyValue.length > 0) {
      f.listStruct(5, meta.keyValue, (k, kv) => {
        k.string(1, kv.key);
        k.string(2, kv.value);
      });
    }
    f.string(6, meta.createdBy);
    // column_orders: TYPE_ORDER for every leaf (min_value/max_value are meaningful).
    f.listStruct(7, meta.schema, (o) => o.struct(1, () => {}));
  });
  return w.bytes();
}
