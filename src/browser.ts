// The package entry for browsers (package.json "exports" → "browser" condition) and the core
// of the Node entry (./index.ts): chunks, b2nd arrays, the decode pool and byte sources. No
// module behind it imports a Node built-in or an optional dependency, so bundlers need no
// configuration for them. Zarr (zarrita) is "zarr-blosc2/zarr"; the table layer
// (Arrow, DuckDB, Parquet) and writeB2ndFile are Node's (./index.ts).
export {
  B2ndArray,
  type GetOptions,
  type GetResult,
  type GetStats,
  type OpenB2ndOptions,
  openB2nd,
} from "./decode/b2nd-read.js";
export { type B2ndWriteOptions, writeB2nd } from "./decode/b2nd-write.js";
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
  type ArrayOfDtype,
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
