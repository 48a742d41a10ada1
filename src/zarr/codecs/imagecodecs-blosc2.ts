// imagecodecs' Blosc2 numcodecs codec, id "imagecodecs_blosc2": registered as
// "imagecodecs_blosc2" (Zarr v3) and "numcodecs.imagecodecs_blosc2" (a Zarr v2 compressor,
// which zarrita prefixes with "numcodecs."). imagecodecs writes every key, null for unset
// ones, and enum values as names ("ZSTD", "SHUFFLE") or ints. Decode is plain decompress
// whatever the configuration says; a configuration encode cannot use is reported when
// encoding. Keys and defaults: docs/codecs.md.
import {
  type CompressOptions,
  compress,
  decompress,
  resolveCompressOptions,
  type SplitMode,
} from "../../decode/blosc2.js";
import { OptionsError } from "../../errors.js";
import type { CodecName, FilterName } from "../../format/chunk.js";
import type { ZarrCodecMeta } from "./b2nd.js";
import { configError, isPlainObject, resolveSizes } from "./blosc2.js";

const WHERE = "imagecodecs_blosc2 codec";

/** imagecodecs.BLOSC2.COMPRESSOR (C-Blosc2's codec ids; 3 was snappy, unsupported). */
const COMPRESSORS: Readonly<Record<string, number>> = {
  BLOSCLZ: 0,
  LZ4: 1,
  LZ4HC: 2,
  ZLIB: 4,
  ZSTD: 5,
};
const COMPRESSOR_NAMES: Readonly<Record<number, CodecName>> = {
  0: "blosclz",
  1: "lz4",
  2: "lz4hc",
  4: "zlib",
  5: "zstd",
};

/** imagecodecs.BLOSC2.FILTER. */
const FILTERS: Readonly<Record<string, number>> = {
  NOFILTER: 0,
  NOSHUFFLE: 0,
  SHUFFLE: 1,
  BITSHUFFLE: 2,
  DELTA: 3,
  TRUNC_PREC: 4,
};
const FILTER_LISTS: Readonly<Record<number, FilterName[]>> = {
  0: [],
  1: ["shuffle"],
  2: ["bitshuffle"],
  3: ["delta"],
};

/** imagecodecs.BLOSC2.SPLIT. */
const SPLITS: Readonly<Record<string, number>> = {
  ALWAYS: 1,
  NEVER: 2,
  AUTO: 3,
  FORWARD_COMPAT: 4,
  FORWARD: 4,
};
const SPLIT_NAMES: Readonly<Record<number, SplitMode>> = {
  1: "always",
  2: "never",
  3: "auto",
  4: "forward_compat",
};

/** The known keys of an imagecodecs_blosc2 configuration, resolved as encode uses them. */
export interface ImagecodecsBlosc2Config {
  level: number;
  /** Enum name as imagecodecs writes it: "BLOSCLZ", "LZ4", "LZ4HC", "ZLIB", "ZSTD". */
  compressor: string;
  /** "NOSHUFFLE", "SHUFFLE", "BITSHUFFLE" or "DELTA". */
  shuffle: string;
  /** "ALWAYS", "NEVER", "AUTO" or "FORWARD_COMPAT". */
  splitmode: string;
  typesize: number;
  blocksize: number;
}

const nameOf = (table: Readonly<Record<string, number>>, id: number): string =>
  Object.keys(table).find((k) => table[k] === id)!;

/** An enum given as an int or a (case-insensitive) name, as imagecodecs' _enum_value reads it. */
function enumValue(
  value: unknown,
  table: Readonly<Record<string, number>>,
  key: string,
  usable: (id: number) => boolean,
): number {
  let id: number | undefined;
  if (typeof value === "string") id = table[value.toUpperCase()];
  else if (typeof value === "number" && Number.isInteger(value)) id = value;
  if (id === undefined || !usable(id)) {
    const names = Object.keys(table).filter((k) => usable(table[k]!));
    throw configError(
      WHERE,
      key,
      `must be one of ${names.join(", ")} (or their ints), got ${JSON.stringify(value)}`,
    );
  }
  return id;
}

/**
 * Validates an imagecodecs_blosc2 configuration for encoding and applies imagecodecs'
 * defaults: level 1 (clamped to 0-9), compressor ZSTD, shuffle SHUFFLE, splitmode ALWAYS,
 * typesize = the data type's itemsize, blocksize 0 (automatic). numthreads and unknown keys
 * are ignored; null means the default.
 */
export function parseImagecodecsBlosc2Config(
  configuration: unknown,
  dataType: string | undefined,
): ImagecodecsBlosc2Config {
  const config = configuration ?? {};
  if (!isPlainObject(config)) {
    throw new OptionsError(
      `${WHERE}: configuration must be an object, got ${JSON.stringify(configuration)}`,
    );
  }
  const get = (key: string): unknown => (config[key] === null ? undefined : config[key]);
  const level = get("level") ?? 1;
  if (typeof level !== "number" || !Number.isInteger(level)) {
    throw configError(WHERE, "level", `must be an integer, got ${JSON.stringify(level)}`);
  }
  const compressor = enumValue(
    get("compressor") ?? "ZSTD",
    COMPRESSORS,
    "compressor",
    (id) => id in COMPRESSOR_NAMES,
  );
  const shuffle = enumValue(get("shuffle") ?? "SHUFFLE", FILTERS, "shuffle", (id) =>
    Object.hasOwn(FILTER_LISTS, id),
  );
  let split = get("splitmode");
  // imagecodecs: a falsy splitmode (False, 0) means NEVER; True is ALWAYS.
  if (split === false || split === 0 || split === "") split = "NEVER";
  if (split === true) split = "ALWAYS";
  const splitmode = enumValue(split ?? "ALWAYS", SPLITS, "splitmode", (id) =>
    Object.hasOwn(SPLIT_NAMES, id),
  );
  const { typesize, blocksize } = resolveSizes(get, dataType, WHERE);
  return {
    level: Math.min(Math.max(level, 0), 9),
    compressor: nameOf(COMPRESSORS, compressor),
    shuffle: shuffle === 0 ? "NOSHUFFLE" : nameOf(FILTERS, shuffle),
    splitmode: nameOf(SPLITS, splitmode),
    typesize,
    blocksize,
  };
}

function compressOptions(c: ImagecodecsBlosc2Config): CompressOptions {
  return {
    codec: COMPRESSOR_NAMES[COMPRESSORS[c.compressor]!]!,
    clevel: c.level,
    typesize: c.typesize,
    filters: FILTER_LISTS[FILTERS[c.shuffle]!]!,
    blocksize: c.blocksize,
    splitmode: SPLIT_NAMES[SPLITS[c.splitmode]!]!,
  };
}

/**
 * imagecodecs' "imagecodecs_blosc2" numcodecs codec (bytes -> bytes): decode is plain
 * decompress (any valid Blosc2/Blosc1 chunk); encode compresses with the configuration,
 * throwing the OptionsError that names a key it cannot use.
 */
export class ImagecodecsBlosc2Codec {
  readonly kind = "bytes_to_bytes" as const;
  readonly #resolved: ImagecodecsBlosc2Config | undefined;
  readonly #error: unknown;

  constructor(configuration: unknown, meta?: Partial<ZarrCodecMeta>) {
    let resolved: ImagecodecsBlosc2Config | undefined;
    let error: unknown;
    try {
      resolved = parseImagecodecsBlosc2Config(configuration, meta?.dataType);
      resolveCompressOptions(new Uint8Array(0), compressOptions(resolved));
    } catch (e) {
      resolved = undefined;
      error = e;
    }
    this.#resolved = resolved;
    this.#error = error;
  }

  static fromConfig(configuration: unknown, meta?: Partial<ZarrCodecMeta>): ImagecodecsBlosc2Codec {
    return new ImagecodecsBlosc2Codec(configuration, meta);
  }

  /** The resolved configuration encode uses (throws when it cannot encode). */
  get configuration(): ImagecodecsBlosc2Config {
    if (this.#resolved === undefined) throw this.#error;
    return { ...this.#resolved };
  }

  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    return compress(bytes, compressOptions(this.configuration));
  }

  decode(bytes: Uint8Array): Promise<Uint8Array> {
    return decompress(bytes);
  }
}
