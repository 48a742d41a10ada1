// toArrow: a source as a stream of apache-arrow RecordBatches, one row per array point.
// Vectors wrap the scan's typed arrays without copying (bool is bit-packed, nulls become a
// validity bitmap). apache-arrow is loaded on first use.
import type * as Arrow from "apache-arrow";
import { loadArrow } from "./deps.js";
import { type Column, type ColumnInfo, openScan, type ScanOptions } from "./scan.js";
import type { ColumnType, TableSource } from "./tables.js";

export type ToArrowOptions = ScanOptions;

/**
 * The part of an apache-arrow RecordBatch most reads need, structural so the package's types
 * compile without apache-arrow installed. The batches are apache-arrow's own: with it
 * installed, `toArrow<Arrow.RecordBatch>(source)` gives its full type.
 */
export interface RecordBatchLike {
  readonly numRows: number;
  readonly numCols: number;
  readonly schema: { readonly fields: readonly { readonly name: string }[] };
  getChild(name: string): {
    readonly length: number;
    get(index: number): unknown;
    toArray(): unknown;
  } | null;
}

type ArrowModule = import("./deps.js").ArrowModule;

/** @internal */
export function arrowType(arrow: ArrowModule, type: ColumnType): Arrow.DataType {
  switch (type) {
    case "bool":
      return new arrow.Bool();
    case "int8":
      return new arrow.Int8();
    case "int16":
      return new arrow.Int16();
    case "int32":
      return new arrow.Int32();
    case "int64":
      return new arrow.Int64();
    case "uint8":
      return new arrow.Uint8();
    case "uint16":
      return new arrow.Uint16();
    case "uint32":
      return new arrow.Uint32();
    case "uint64":
      return new arrow.Uint64();
    case "float16":
      return new arrow.Float16();
    case "float32":
      return new arrow.Float32();
    case "float64":
      return new arrow.Float64();
  }
}

/** LSB-first bits of 0/1 bytes, as Arrow stores booleans and validity. */
export function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 8));
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** @internal */
export function arrowSchema(
  arrow: ArrowModule,
  columns: readonly ColumnInfo[],
  table: string,
  nullable: boolean,
): Arrow.Schema {
  const fields = columns.map(
    (c) =>
      new arrow.Field(
        c.name,
        arrowType(arrow, c.type),
        c.kind === "variable" && nullable,
        new Map([["zarr_blosc2.kind", c.kind]]),
      ),
  );
  return new arrow.Schema(fields, new Map([["zarr_blosc2.table", table]]));
}

function columnData(arrow: ArrowModule, field: Arrow.Field, c: Column, rows: number): Arrow.Data {
  const nullBitmap = c.valid ? packBits(c.valid) : undefined;
  const data = c.type === "bool" ? packBits(c.values as Uint8Array) : c.values;
  return arrow.makeData({
    type: field.type,
    length: rows,
    nullCount: c.nullCount,
    data,
    ...(nullBitmap ? { nullBitmap } : {}),
  } as never);
}

/**
 * Streams `source` (a b2nd array, a zarrita array or a zarrita group) as Arrow RecordBatches:
 * one column per dimension (coordinates or int64 indices), then one per variable. `where`
 * on dimensions and `columns` are pushed into the reads; batches hold at most batchRows rows.
 */
export async function* toArrow<Batch extends RecordBatchLike = RecordBatchLike>(
  source: TableSource,
  options: ToArrowOptions = {},
): AsyncGenerator<Batch> {
  const arrow = await loadArrow("toArrow");
  const scan = await openScan(source, options);
  const nullable = options.nanAsNull === true || options.fillAsNull === true;
  const schema = arrowSchema(arrow, scan.columns, scan.table.name, nullable);
  let any = false;
  for await (const batch of scan.batches()) {
    any = true;
    const children = schema.fields.map((f, i) =>
      columnData(arrow, f, batch.columns[i]!, batch.rows),
    );
    const struct = arrow.makeData({
      type: new arrow.Struct(schema.fields),
      length: batch.rows,
      nullCount: 0,
      children,
    });
    yield new arrow.RecordBatch(schema, struct) as unknown as Batch;
  }
  // An empty selection still tells the schema.
  if (!any) {
    const children = schema.fields.map((f) => arrow.makeData({ type: f.type, length: 0 } as never));
    yield new arrow.RecordBatch(
      schema,
      arrow.makeData({ type: new arrow.Struct(schema.fields), length: 0, nullCount: 0, children }),
    ) as unknown as Batch;
  }
}
