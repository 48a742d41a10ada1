// The "blosc2" Zarr v3 codec (bytes -> bytes): one plain Blosc2 chunk per Zarr chunk, with
// numcodecs-Blosc-style configuration keys. Decoding reads any valid Blosc2 or Blosc1
// chunk whatever the configuration says. Keys and defaults: docs/codecs.md.
import {
  type CompressOptions,
  compress,
  decompress,
  resolveCompressOptions,
} from "../../decode/blosc2.js";
import { OptionsError } from "../../errors.js";
import { CODEC_IDS, type CodecName, type FilterName } from "../../format/chunk.js";
import { itemsizeOf } from "../dtype.js";
import type { ZarrCodecMeta } from "./b2nd.js";

/** Shuffle names as the Zarr v3 "blosc" codec spells them. */
export type ShuffleName = "noshuffle" | "shuffle" | "bitshuffle";

/** numcodecs' shuffle constants: NOSHUFFLE 0, SHUFFLE 1, BITSHUFFLE 2, AUTOSHUFFLE -1. */
export const SHUFFLE_INTS: Readonly<Record<ShuffleName, number>> = {
  noshuffle: 0,
  shuffle: 1,
  bitshuffle: 2,
};

/** The configuration of a blosc2 / numcodecs.blosc2 codec with defaults applied. */
export interface ResolvedBlosc2Config {
  cname: CodecName;
  clevel: number;
  /** AUTOSHUFFLE (-1) resolved against typesize. */
  shuffle: ShuffleName;
  typesize: number;
  /** 0: C-Blosc2 chooses. */
  blocksize: number;
}

export const BLOSC2_CONFIG_KEYS = ["cname", "clevel", "shuffle", "typesize", "blocksize"];

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** `where: configuration "key" problem`, as an OptionsError. */
export function configError(where: string, key: string, problem: string): OptionsError {
  return new OptionsError(`${where}: configuration "${key}" ${problem}`);
}

/** Default typesize: the data type's itemsize (1 for types without one), at most 255. */
export function defaultTypesize(dataType: string | undefined): number {
  const size = dataType === undefined ? undefined : itemsizeOf(dataType);
  return size === undefined ? 1 : Math.min(size, 255);
}

/** Resolves a shuffle name or numcodecs int (-1 = AUTOSHUFFLE) for `typesize`. */
export function resolveShuffle(
  value: unknown,
  typesize: number,
  where: string,
  key = "shuffle",
): ShuffleName {
  if (typeof value === "string" && Object.hasOwn(SHUFFLE_INTS, value)) return value as ShuffleName;
  if (value === 0) return "noshuffle";
  if (value === 1) return "shuffle";
  if (value === 2) return "bitshuffle";
  if (value === -1) return typesize > 1 ? "shuffle" : "bitshuffle";
  throw configError(
    where,
    key,
    `must be "noshuffle", "shuffle", "bitshuffle" or 0, 1, 2, -1 (AUTOSHUFFLE), got ${JSON.stringify(value)}`,
  );
}

/**
 * Validates a blosc2 configuration (keys cname, clevel, shuffle, typesize, blocksize; null
 * means the default) and applies the defaults. With `strict`, keys other than these are an
 * OptionsError too. Every error names the key.
 */
/**
 * typesize (default: the data type's item size) and blocksize (default 0, automatic), the two
 * keys every Blosc2 codec configuration shares, validated with errors naming the key.
 */
export function resolveSizes(
  get: (key: string) => unknown,
  dataType: string | undefined,
  where: string,
): { typesize: number; blocksize: number } {
  const typesize = get("typesize") ?? defaultTypesize(dataType);
  if (!isInt(typesize, 1, 255)) {
    throw configError(
      where,
      "typesize",
      `must be an integer 1-255, got ${JSON.stringify(typesize)}`,
    );
  }
  const blocksize = get("blocksize") ?? 0;
  if (!isInt(blocksize, 0, 0x7fffffff)) {
    throw configError(
      where,
      "blocksize",
      `must be a non-negative integer (0: automatic), got ${JSON.stringify(blocksize)}`,
    );
  }
  return { typesize, blocksize };
}

export function parseBlosc2Config(
  configuration: unknown,
  dataType: string | undefined,
  options: { where: string; strict: boolean },
): ResolvedBlosc2Config {
  const { where, strict } = options;
  const config = configuration ?? {};
  if (!isPlainObject(config)) {
    throw new OptionsError(
      `${where}: configuration must be an object, got ${JSON.stringify(configuration)}`,
    );
  }
  if (strict) {
    for (const key of Object.keys(config)) {
      if (!BLOSC2_CONFIG_KEYS.includes(key)) {
        throw new OptionsError(
          `${where}: unknown configuration key "${key}" (expected ${BLOSC2_CONFIG_KEYS.join(", ")})`,
        );
      }
    }
  }
  const get = (key: string): unknown => (config[key] === null ? undefined : config[key]);
  const cname = get("cname") ?? "zstd";
  if (typeof cname !== "string" || !Object.hasOwn(CODEC_IDS, cname)) {
    throw configError(
      where,
      "cname",
      `must be one of ${Object.keys(CODEC_IDS).join(", ")}, got ${JSON.stringify(cname)}`,
    );
  }
  const clevel = get("clevel") ?? 5;
  if (!isInt(clevel, 0, 9)) {
    throw configError(where, "clevel", `must be an integer 0-9, got ${JSON.stringify(clevel)}`);
  }
  const { typesize, blocksize } = resolveSizes(get, dataType, where);
  const shuffle = resolveShuffle(get("shuffle") ?? "shuffle", typesize, where);
  return { cname: cname as CodecName, clevel, shuffle, typesize, blocksize };
}

/** The `compress` options for a resolved configuration. */
export function compressOptionsOf(config: ResolvedBlosc2Config): CompressOptions {
  const filters: FilterName[] = config.shuffle === "noshuffle" ? [] : [config.shuffle];
  return {
    codec: config.cname,
    clevel: config.clevel,
    typesize: config.typesize,
    filters,
    blocksize: config.blocksize,
  };
}

/**
 * Zarr v3 bytes -> bytes codec "blosc2". The configuration is checked when the codec is
 * created (strictly: unknown keys are errors); decode accepts any valid Blosc2/Blosc1 chunk.
 */
export class Blosc2Codec {
  readonly kind = "bytes_to_bytes" as const;
  readonly config: ResolvedBlosc2Config;
  readonly #options: CompressOptions;

  constructor(configuration: unknown, meta?: Partial<ZarrCodecMeta>) {
    this.config = parseBlosc2Config(configuration, meta?.dataType, {
      where: "blosc2 codec",
      strict: true,
    });
    this.#options = compressOptionsOf(this.config);
    resolveCompressOptions(new Uint8Array(0), this.#options);
  }

  static fromConfig(configuration: unknown, meta?: Partial<ZarrCodecMeta>): Blosc2Codec {
    return new Blosc2Codec(configuration, meta);
  }

  encode(bytes: Uint8Array): Promise<Uint8Array> {
    return compress(bytes, this.#options);
  }

  decode(bytes: Uint8Array): Promise<Uint8Array> {
    return decompress(bytes);
  }
}
