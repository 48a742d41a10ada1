// zarr-blosc2/zarr: the Zarr codecs themselves, for direct use. Importing this module loads
// zarrita (an optional peer dependency); the package entry exports only what does not.
export { B2ndCodec, parseB2ndConfig, type ResolvedB2ndConfig } from "./codecs/b2nd.js";
export { Blosc2Codec, parseBlosc2Config } from "./codecs/blosc2.js";
export {
  ImagecodecsBlosc2Codec,
  parseImagecodecsBlosc2Config,
} from "./codecs/imagecodecs-blosc2.js";
export { NumcodecsBlosc2Codec } from "./codecs/numcodecs-blosc2.js";
export { bytesOfChunkData, numpyDtypeOf, toZarritaData } from "./dtype.js";
export {
  get,
  type ZarrArrayLike,
  type ZarrChunk,
  type ZarrDataOf,
  type ZarrGetOptions,
  type ZarrGetStats,
  type ZarrScalarOf,
} from "./get.js";
export { BLOSC2_CODEC_NAMES, type CodecRegistry, registerBlosc2Codecs } from "./register.js";
