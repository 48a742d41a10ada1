// Table column types as Parquet columns: physical type and annotations (as toParquet writes
// them), the PLAIN encoding of values, and min/max statistics values in the column's sort order.

import type { TypedArray } from "../format/dtype.js";
import type {
  ParquetConvertedType,
  ParquetPhysicalType,
  SchemaLeaf,
} from "../format/parquet-meta.js";
import type { ColumnType } from "./tables.js";
import { halfToFloat } from "./values.js";

export interface ParquetColumn {
  physical: ParquetPhysicalType;
  converted?: ParquetConvertedType;
  integer?: SchemaLeaf["integer"];
  /** Bytes per PLAIN value; 0 for BOOLEAN (one bit per value). */
  width: number;
  /** Statistics in signed order (the deprecated min/max may be written too). */
  signed: boolean;
  float: boolean;
}

const COLUMNS: Record<ColumnType, ParquetColumn> = {
  bool: { physical: "BOOLEAN", width: 0, signed: false, float: false },
  int8: {
    physical: "INT32",
    converted: "INT_8",
    integer: { bitWidth: 8, signed: true },
    width: 4,
    signed: true,
    float: false,
  },
  int16: {
    physical: "INT32",
    converted: "INT_16",
    integer: { bitWidth: 16, signed: true },
    width: 4,
    signed: true,
    float: false,
  },
  int32: { physical: "INT32", width: 4, signed: true, float: false },
  int64: { physical: "INT64", width: 8, signed: true, float: false },
  uint8: {
    physical: "INT32",
    converted: "UINT_8",
    integer: { bitWidth: 8, signed: false },
    width: 4,
    signed: false,
    float: false,
  },
  uint16: {
    physical: "INT32",
    converted: "UINT_16",
    integer: { bitWidth: 16, signed: false },
    width: 4,
    signed: false,
    float: false,
  },
  uint32: {
    physical: "INT32",
    converted: "UINT_32",
    integer: { bitWidth: 32, signed: false },
    width: 4,
    signed: false,
    float: false,
  },
  uint64: {
    physical: "INT64",
    converted: "UINT_64",
    integer: { bitWidth: 64, signed: false },
    width: 8,
    signed: false,
    float: false,
  },
  float16: { physical: "FLOAT", width: 4, signed: true, float: true },
  float32: { physical: "FLOAT", width: 4, signed: true, float: true },
  float64: { physical: "DOUBLE", width: 8, signed: true, float: true },
};

export function parquetColumn(type: ColumnType): ParquetColumn {
  return COLUMNS[type];
}

export function schemaLeaf(name: string, type: ColumnType): SchemaLeaf {
  const c = COLUMNS[type];
  return {
    name,
    type: c.physical,
    ...(c.converted ? { convertedType: c.converted } : {}),
    ...(c.integer ? { integer: c.integer } : {}),
  };
}

/** Bytes of PLAIN data for `rows` values. */
export function plainBytes(type: ColumnType, rows: number): number {
  const w = COLUMNS[type].width;
  return w === 0 ? Math.ceil(rows / 8) : rows * w;
}

let halfTable: Float32Array | undefined;

/** float16 bits → float32, through a 64 K-entry table (exact: every half is a float). */
function halfToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  const t = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * PLAIN encoding of `values` (native typed arrays as the table layer reads them: bool as 0/1
 * bytes, float16 as raw bits). Booleans are bit-packed from bit 0 of the first byte, so for
 * pages the first value must be a page value whose index is a multiple of 8. A view when the
 * stored bytes already are the encoding (little-endian platforms).
 */
export function encodePlain(type: ColumnType, values: TypedArray): Uint8Array {
  switch (type) {
    case "bool": {
      const v = values as Uint8Array;
      const out = new Uint8Array(Math.ceil(v.length / 8));
      for (let i = 0; i < v.length; i++) if (v[i]) out[i >> 3]! |= 1 << (i & 7);
      return out;
    }
    case "int8":
    case "int16":
    case "uint8":
    case "uint16": {
      const out = new Int32Array(values.length);
      out.set(values as Int8Array); // sign- or zero-extends by the source type
      return bytesOf(out);
    }
    case "float16":
      return bytesOf(halfToFloat32(values as Uint16Array));
    default:
      return bytesOf(values);
  }
}

/** True on little-endian platforms (every platform Node and browsers run on in practice). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const statMemo = new Map<string, Uint8Array>();

/**
 * One statistics value (PLAIN, bool as one byte) of a column of `type`. Memoized: row groups
 * and pages repeat the same dimension values (never mutate the result).
 */
export function statValue(type: ColumnType, v: number | bigint): Uint8Array {
  const key = `${type}:${Object.is(v, -0) ? "-0" : String(v)}`;
  let bytes = statMemo.get(key);
  if (!bytes) {
    bytes = encodeStat(type, v);
    if (statMemo.size >= 1 << 16) statMemo.clear();
    statMemo.set(key, bytes);
  }
  return bytes;
}

function encodeStat(type: ColumnType, v: number | bigint): Uint8Array {
  const c = COLUMNS[type];
  const out = new Uint8Array(c.width === 0 ? 1 : c.width);
  const view = new DataView(out.buffer);
  switch (c.physical) {
    case "BOOLEAN":
      out[0] = Number(v) ? 1 : 0;
      break;
    case "INT32":
      if (type === "uint32") view.setUint32(0, Number(v), true);
      else view.setInt32(0, Number(v), true);
      break;
    case "INT64":
      if (type === "uint64") view.setBigUint64(0, BigInt(v), true);
      else view.setBigInt64(0, BigInt(v), true);
      break;
    case "FLOAT":
      view.setFloat32(0, Number(v), true);
      break;
    case "DOUBLE":
      view.setFloat64(0, Number(v), true);
      break;
  }
  return out;
}

/** Min, max (NaN excluded) and NaN count of values[start, stop), in the column's sort order. */
export interface Extent {
  min: number | bigint | undefined;
  max: number | bigint | undefined;
  nanCount: number;
}

export function extentOf(
  type: ColumnType,
  values: TypedArray,
  start = 0,
  stop = values.length,
): Extent {
  const a = values as unknown as ArrayLike<number | bigint>;
  if (typeof a[start] === "bigint") {
    let min: bigint | undefined;
    let max: bigint | undefined;
    for (let i = start; i < stop; i++) {
      const x = a[i] as bigint;
      if (min === undefined || x < min) min = x;
      if (max === undefined || x > max) max = x;
    }
    return { min, max, nanCount: 0 };
  }
  const half = type === "float16";
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let any = false;
  for (let i = start; i < stop; i++) {
    const x = half ? halfToFloat(a[i] as number) : (a[i] as number);
    if (Number.isNaN(x)) {
      nan++;
      continue;
    }
    any = true;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return any ? { min, max, nanCount: nan } : { min: undefined, max: undefined, nanCount: nan };
}

/** Parquet's rule for float statistics: a zero minimum is -0.0, a zero maximum +0.0. */
export function statBounds(
  type: ColumnType,
  min: number | bigint,
  max: number | bigint,
): { min: Uint8Array; max: Uint8Array } {
  const float = COLUMNS[type].float;
  return {
    min: statValue(type, float && min === 0 ? -0 : min),
    max: statValue(type, float && max === 0 ? 0 : max),
  };
}
