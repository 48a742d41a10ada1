export {
  B2ndArray,
  type GetOptions,
  type GetResult,
  type GetStats,
  type OpenB2ndOptions,
  openB2nd,
} from "./decode/b2nd-read.js";
export { type B2ndWriteOptions, writeB2nd, writeB2ndFile } from "./decode/b2nd-write.js";
export {
  asBytes,
  blosc2Version,
  bytesEqual,
  type CompressOptions,
  compress,
  decompress,
  decompressBlocks,
  decompressItems,
  type ResolvedCompressOptions,
  type SplitMode,
} from "./decode/blosc2.js";
export {
  createDecodePool,
  DecodePool,
  type DecodePoolOptions,
} from "./decode/pool.js";
export { type Blosc2Wasm, initBlosc2, type WasmSource } from "./decode/wasm.js";
export {
  BLOSC2_ERROR_MEANINGS,
  Blosc2Error,
  FormatError,
  OptionsError,
  WasmTrapError,
  ZarrBlosc2Error,
} from "./errors.js";
export {
  type ChunkFlags,
  type ChunkInfo,
  type CodecName,
  chunkInfo,
  type FilterName,
  type SpecialKind,
} from "./format/chunk.js";
export {
  arrayFor,
  type DType,
  parseDtype,
  type TypedArray,
  toNativeByteOrder,
} from "./format/dtype.js";
export {
  type ByteSource,
  type DirectorySource,
  MemorySource,
  openSource,
  SourceError,
  type SourceStats,
} from "./io/source.js";
export { type DimSelection, type Selection, type Slice, slice } from "./plan/selection.js";
export { type ToArrowOptions, toArrow } from "./table/arrow.js";
export type { ByteRangeFile, ByteRangeStats } from "./table/byte-range-file.js";
export { MissingDependencyError } from "./table/deps.js";
export {
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
export { get, type ZarrGetOptions, type ZarrGetStats } from "./zarr/get.js";
export {
  type CodecRegistry,
  registerBlosc2Codecs,
} from "./zarr/register.js";
