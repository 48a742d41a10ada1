// toParquet: a source as a Parquet file written with hyparquet-writer (pure JS, loaded on first
// use). One row group per chunk slab: the scan never lets a slab span two chunks along its
// split dimension, so a row group holds the rows of one chunk row (or of a block-aligned part
// of one when a chunk row is larger than rowGroupRows). Every column gets min/max statistics,
// so readers (pyarrow, DuckDB) can skip row groups on dimension predicates.
import { OptionsError } from "../errors.js";
import { loadParquetWriter } from "./deps.js";
import { type Column, openScan, type ScanOptions } from "./scan.js";
import type { ColumnType, ScanStats, TableSource } from "./tables.js";
import { halfToFloat } from "./values.js";

export interface ToParquetOptions
  extends Omit<ScanOptions, "batchRows" | "slabRows" | "mergeSlabs"> {
  /** Most rows in one row group (default 1 048 576); chunk slabs larger than this are split. */
  rowGroupRows?: number;
  /** Compression codec of the pages (default "SNAPPY", hyparquet-writer's built-in). */
  codec?: "UNCOMPRESSED" | "SNAPPY";
}

export interface ParquetResult {
  rows: number;
  rowGroups: number;
  /** Rows of each row group, in order. */
  rowGroupRows: number[];
  columns: { name: string; type: ColumnType }[];
  stats: ScanStats;
}

interface SchemaElement {
  name: string;
  type?: string;
  repetition_type?: "REQUIRED" | "OPTIONAL";
  converted_type?: string;
  num_children?: number;
}

function schemaElement(name: string, type: ColumnType, nullable: boolean): SchemaElement {
  const base = { name, repetition_type: nullable ? "OPTIONAL" : "REQUIRED" } as const;
  switch (type) {
    case "bool":
      return { ...base, type: "BOOLEAN" };
    case "int8":
      return { ...base, type: "INT32", converted_type: "INT_8" };
    case "int16":
      return { ...base, type: "INT32", converted_type: "INT_16" };
    case "int32":
      return { ...base, type: "INT32" };
    case "int64":
      return { ...base, type: "INT64" };
    case "uint8":
      return { ...base, type: "INT32", converted_type: "UINT_8" };
    case "uint16":
      return { ...base, type: "INT32", converted_type: "UINT_16" };
    case "uint32":
      return { ...base, type: "INT32", converted_type: "UINT_32" };
    case "uint64":
      return { ...base, type: "INT64", converted_type: "UINT_64" };
    case "float16":
    case "float32":
      return { ...base, type: "FLOAT" };
    case "float64":
      return { ...base, type: "DOUBLE" };
  }
}

/** Values as hyparquet-writer takes them: typed arrays where it can, plain arrays with nulls. */
function columnValues(c: Column): ArrayLike<unknown> {
  let values: ArrayLike<unknown> = c.values as unknown as ArrayLike<unknown>;
  if (c.type === "bool") values = Array.from(c.values as Uint8Array, (v) => v !== 0);
  else if (c.type === "float16") values = Float32Array.from(c.values as Uint16Array, halfToFloat);
  else if (c.type === "uint32") values = c.values; // converted by the writer
  if (!c.valid) return values;
  const valid = c.valid;
  return Array.from({ length: values.length }, (_, i) => (valid[i] ? values[i] : null));
}

/**
 * Writes `source` (a b2nd array, a zarrita array or group) to the Parquet file `destination`:
 * dimension columns then variables, `where` and `columns` pushed into the read.
 */
export async function toParquet(
  source: TableSource,
  destination: string,
  options: ToParquetOptions = {},
): Promise<ParquetResult> {
  if (typeof destination !== "string" || destination === "") {
    throw new OptionsError("toParquet: destination must be a file path");
  }
  const pq = await loadParquetWriter("toParquet");
  const rowGroupRows = options.rowGroupRows ?? 1 << 20;
  // One batch per slab: batchRows = slabRows, and slabs never span two chunks.
  const scan = await openScan(source, {
    ...options,
    batchRows: rowGroupRows,
    slabRows: rowGroupRows,
    mergeSlabs: false,
  });
  const nullable = options.nanAsNull === true || options.fillAsNull === true;
  const schema: SchemaElement[] = [
    { name: "root", num_children: scan.columns.length },
    ...scan.columns.map((c) => schemaElement(c.name, c.type, c.kind === "variable" && nullable)),
  ];
  const writer = new pq.ParquetWriter({
    writer: pq.fileWriter(destination),
    schema: schema as never,
    codec: options.codec ?? "SNAPPY",
    statistics: true,
    kvMetadata: [
      { key: "zarr_blosc2.table", value: scan.table.name },
      { key: "zarr_blosc2.dimensions", value: JSON.stringify(scan.table.dims.map((d) => d.name)) },
      { key: "zarr_blosc2.ranges", value: JSON.stringify(scan.ranges) },
    ],
    createdBy: "zarr-blosc2",
  });
  const groups: number[] = [];
  for await (const batch of scan.batches()) {
    if (!batch.slabEnd) throw new OptionsError("toParquet: a slab spans several batches");
    const columnData = batch.columns.map((c, i) => ({
      name: c.name,
      data: columnValues(c),
      nullable: schema[i + 1]!.repetition_type === "OPTIONAL",
    }));
    await writer.write({ columnData: columnData as never, rowGroupSize: batch.rows });
    groups.push(batch.rows);
  }
  await writer.finish();
  return {
    rows: scan.stats.rows,
    rowGroups: groups.length,
    rowGroupRows: groups,
    columns: scan.columns.map((c) => ({ name: c.name, type: c.type })),
    stats: scan.stats,
  };
}
