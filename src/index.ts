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
