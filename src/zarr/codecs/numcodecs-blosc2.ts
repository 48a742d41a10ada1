// Zarr v2 compressor {"id": "blosc2", ...}: zarrita turns a v2 compressor into the codec
// "numcodecs.<id>", so this is registered as "numcodecs.blosc2". Producers of this id write
// assorted keys (e.g. {"cname": "blosc2", "clevel": 5} from ad-hoc numcodecs classes), so
// the configuration never stops a read: decode is plain decompress, unknown keys are
// ignored, and a configuration encode cannot use is reported when encoding.
import { compress, decompress, resolveCompressOptions } from "../../decode/blosc2.js";
import type { ZarrCodecMeta } from "./b2nd.js";
import {
  compressOptionsOf,
  parseBlosc2Config,
  type ResolvedBlosc2Config,
  SHUFFLE_INTS,
} from "./blosc2.js";

/** The known keys of a numcodecs.blosc2 configuration, as encode uses them. */
export interface NumcodecsBlosc2Config {
  cname: string;
  clevel: number;
  /** numcodecs int: 0 NOSHUFFLE, 1 SHUFFLE, 2 BITSHUFFLE (AUTOSHUFFLE -1 resolved). */
  shuffle: number;
  typesize: number;
  blocksize: number;
}

/**
 * Zarr v2 compressor "blosc2" (bytes -> bytes). Same keys and defaults as the v3 "blosc2"
 * codec (cname "zstd", clevel 5, shuffle 1, typesize = itemsize, blocksize 0); other keys
 * are ignored.
 */
export class NumcodecsBlosc2Codec {
  readonly kind = "bytes_to_bytes" as const;
  readonly #resolved: ResolvedBlosc2Config | undefined;
  readonly #error: unknown;

  constructor(configuration: unknown, meta?: Partial<ZarrCodecMeta>) {
    let resolved: ResolvedBlosc2Config | undefined;
    let error: unknown;
    try {
      resolved = parseBlosc2Config(configuration, meta?.dataType, {
        where: "numcodecs.blosc2 codec",
        strict: false,
      });
      resolveCompressOptions(new Uint8Array(0), compressOptionsOf(resolved));
    } catch (e) {
      resolved = undefined;
      error = e;
    }
    this.#resolved = resolved;
    this.#error = error;
  }

  static fromConfig(configuration: unknown, meta?: Partial<ZarrCodecMeta>): NumcodecsBlosc2Codec {
    return new NumcodecsBlosc2Codec(configuration, meta);
  }

  /**
   * The configuration encode uses: known keys only, defaults applied, shuffle as a numcodecs
   * int. Throws the OptionsError (naming the key) when the configuration cannot be encoded.
   */
  get configuration(): NumcodecsBlosc2Config {
    const r = this.#settings();
    return {
      cname: r.cname,
      clevel: r.clevel,
      shuffle: SHUFFLE_INTS[r.shuffle],
      typesize: r.typesize,
      blocksize: r.blocksize,
    };
  }

  #settings(): ResolvedBlosc2Config {
    if (this.#resolved === undefined) throw this.#error;
    return this.#resolved;
  }

  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    return compress(bytes, compressOptionsOf(this.#settings()));
  }

  decode(bytes: Uint8Array): Promise<Uint8Array> {
    return decompress(bytes);
  }
}
