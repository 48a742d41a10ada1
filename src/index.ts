// The package entry for Node (and the types of every entry): the browser entry's exports
// (./browser.ts), plus what needs Node or an optional dependency — writeB2ndFile, the Zarr
// integration (zarrita, also "zarr-blosc2/zarr") and the table layer (Arrow, DuckDB, Parquet).
// Optional dependencies load on first use.
export * from "./browser.js";
export { writeB2ndFile } from "./decode/b2nd-write.js";
export { type RecordBatchLike, type ToArrowOptions, toArrow } from "./table/arrow.js";
export type { ByteRangeFile, ByteRangeStats } from "./table/byte-range-file.js";
export { MissingDependencyError } from "./table/deps.js";
export {
  type DuckDBConnectionLike,
  type RegisteredTable,
  type RegisterTableOptions,
  registerTable,
} from "./table/duckdb.js";
export { type ParquetResult, type ToParquetOptions, toParquet } from "./table/parquet.js";
export type {
  ColumnChunkLayout,
  LayoutColumn,
  PageLayout,
  RowGroupLayout,
  VirtualParquetLayout,
} from "./table/parquet-layout.js";
export type { Column, ColumnBatch, ColumnInfo, ScanOptions } from "./table/scan.js";
export { extractDimensionWhere } from "./table/sql-where.js";
export {
  computeStatsSidecar,
  readStatsSidecar,
  type StatsSidecar,
  type StatsSidecarOptions,
  statsSidecarPath,
  type VariableStats,
  writeStatsSidecar,
} from "./table/stats-sidecar.js";
export {
  type ColumnType,
  listTables,
  type ScanStats,
  type TableSource,
  type TableSpec,
} from "./table/tables.js";
export {
  type VirtualParquet,
  type VirtualParquetOptions,
  virtualParquet,
} from "./table/virtual-parquet.js";
export type { DimCondition, Where } from "./table/where.js";
export {
  get,
  type ZarrArrayLike,
  type ZarrBoolArray,
  type ZarrChunk,
  type ZarrDataOf,
  type ZarrDimSelection,
  type ZarrGetOptions,
  type ZarrGetStats,
  type ZarrScalarOf,
} from "./zarr/get.js";
export {
  type CodecRegistry,
  registerBlosc2Codecs,
} from "./zarr/register.js";
