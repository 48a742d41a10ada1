// Registers the Blosc2 codecs with a zarrita codec registry (usually `zarr.registry`).
// Each entry is a lazy factory: the codec module (and the wasm behind it) loads on first use.

/** Registry names this module registers, and the codec class each one resolves to. */
export const BLOSC2_CODEC_NAMES = {
  /** Zarr v3 array -> bytes: one b2nd frame per chunk. */
  b2nd: "B2ndCodec",
  /** Zarr v3 bytes -> bytes: one Blosc2 chunk per chunk. */
  blosc2: "Blosc2Codec",
  /** Zarr v2 compressor {"id": "blosc2"} (zarrita prefixes v2 ids with "numcodecs."). */
  "numcodecs.blosc2": "NumcodecsBlosc2Codec",
  /** imagecodecs' Blosc2 codec as a Zarr v3 codec. */
  imagecodecs_blosc2: "ImagecodecsBlosc2Codec",
  /** imagecodecs' Blosc2 codec as a Zarr v2 compressor {"id": "imagecodecs_blosc2"}. */
  "numcodecs.imagecodecs_blosc2": "ImagecodecsBlosc2Codec",
} as const;

/** Anything shaped like zarrita's registry: a Map from codec name to a (lazy) factory. */
export type CodecRegistry = Map<string, () => unknown>;

/**
 * Adds "b2nd", "blosc2", "numcodecs.blosc2", "imagecodecs_blosc2" and
 * "numcodecs.imagecodecs_blosc2" to `registry` (replacing entries of the same names) and
 * returns it. Typical use: `registerBlosc2Codecs(zarr.registry)` before `zarr.open`.
 */
export function registerBlosc2Codecs<R extends CodecRegistry>(registry: R): R {
  const imagecodecs = () =>
    import("./codecs/imagecodecs-blosc2.js").then((m) => m.ImagecodecsBlosc2Codec);
  registry.set("b2nd", () => import("./codecs/b2nd.js").then((m) => m.B2ndCodec));
  registry.set("blosc2", () => import("./codecs/blosc2.js").then((m) => m.Blosc2Codec));
  registry.set("numcodecs.blosc2", () =>
    import("./codecs/numcodecs-blosc2.js").then((m) => m.NumcodecsBlosc2Codec),
  );
  registry.set("imagecodecs_blosc2", imagecodecs);
  registry.set("numcodecs.imagecodecs_blosc2", imagecodecs);
  return registry;
}
