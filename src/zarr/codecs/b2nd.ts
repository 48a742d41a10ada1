// The "b2nd" Zarr codec (array -> bytes): each Zarr chunk is stored as one contiguous b2nd
// frame (a .b2nd file's bytes) whose shape is the chunk's. The frame keeps its own N-D
// layout (inner chunks and blocks), so a reader can decode only the blocks a selection
// touches. Proposal and configuration: docs/codecs.md.
import type { Chunk, DataType } from "zarrita";
import { openB2nd } from "../../decode/b2nd-read.js";
import { writeB2nd } from "../../decode/b2nd-write.js";
import { FormatError, OptionsError } from "../../errors.js";
import {
  CODEC_IDS,
  type CodecName,
  FILTER_IDS,
  type FilterName,
  MAX_FILTERS,
} from "../../format/chunk.js";
import { B2ND_MAX_DIM } from "../../format/frame-write.js";
import { MemorySource } from "../../io/source.js";
import { bytesOfChunkData, itemsizeOf, numpyDtypeOf, toZarritaData } from "../dtype.js";

/** What zarrita passes to `fromConfig` (its ChunkMetadata). */
export interface ZarrCodecMeta {
  /** Zarr data type of the array ("float64", "bool", ...), after array->array codecs. */
  dataType: string;
  /** Chunk shape: the Zarr chunk shape, or the inner chunk shape inside sharding_indexed. */
  shape: number[];
  /** The codec list this codec is part of (the inner list inside sharding_indexed). */
  codecs?: readonly { name: string; configuration?: unknown }[];
  fillValue?: unknown;
}

/** The b2nd codec's configuration with defaults applied. */
export interface ResolvedB2ndConfig {
  /** Inner b2nd chunk shape (default: the frame's shape, i.e. one inner chunk). */
  chunks: number[];
  /** Block shape; undefined means writeB2nd's default (chunks halved down to <= 128 KiB). */
  blocks: number[] | undefined;
  cname: CodecName;
  clevel: number;
  filters: FilterName[];
  /** One meta byte per filter (zeros by default). */
  filtersMeta: number[];
}

const CONFIG_KEYS = ["chunks", "blocks", "cname", "clevel", "filters", "filters_meta"];

const fmt = (xs: readonly unknown[]): string => `[${xs.join(", ")}]`;

function bad(key: string, problem: string): OptionsError {
  return new OptionsError(`b2nd codec: configuration "${key}" ${problem}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function shapeOption(key: string, value: unknown, rank: number): number[] {
  if (!Array.isArray(value)) throw bad(key, `must be an array of ${rank} integers`);
  if (value.length !== rank) {
    throw bad(key, `has ${value.length} dimensions but the chunk has ${rank}: ${fmt(value)}`);
  }
  for (const n of value) {
    if (!isInt(n, 1, 0x7fffffff)) {
      throw bad(key, `must hold positive integers, got ${JSON.stringify(value)}`);
    }
  }
  return value.slice() as number[];
}

/**
 * Validates a b2nd codec configuration and applies the defaults. `chunkShape` is the shape
 * of the frame: the Zarr chunk shape (the inner chunk shape inside sharding_indexed),
 * permuted by any transpose codec that precedes b2nd. Every problem is an OptionsError
 * naming the key: unknown keys, wrong types, shapes of the wrong rank, blocks larger than
 * chunks, unknown cname or filter, filters_meta not matching filters, unsupported data types.
 */
export function parseB2ndConfig(
  configuration: unknown,
  chunkShape: number[],
  dataType: string,
): ResolvedB2ndConfig {
  const dtype = numpyDtypeOf(dataType);
  const rank = chunkShape.length;
  if (rank > B2ND_MAX_DIM) {
    throw new OptionsError(
      `b2nd codec: chunks of ${rank} dimensions; b2nd frames hold at most ${B2ND_MAX_DIM}`,
    );
  }
  const config = configuration ?? {};
  if (!isPlainObject(config)) {
    throw new OptionsError(
      `b2nd codec: configuration must be an object, got ${JSON.stringify(configuration)}`,
    );
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.includes(key)) {
      throw new OptionsError(
        `b2nd codec: unknown configuration key "${key}" (expected ${CONFIG_KEYS.join(", ")})`,
      );
    }
  }
  const get = (key: string): unknown => (config[key] === null ? undefined : config[key]);

  const chunks =
    get("chunks") === undefined ? chunkShape.slice() : shapeOption("chunks", get("chunks"), rank);
  let blocks: number[] | undefined;
  if (get("blocks") !== undefined) {
    blocks = shapeOption("blocks", get("blocks"), rank);
    for (let d = 0; d < rank; d++) {
      if (blocks[d]! > chunks[d]!) {
        throw bad(
          "blocks",
          `${fmt(blocks)} exceeds chunks ${fmt(chunks)} in dimension ${d} (blocks must fit in chunks)`,
        );
      }
    }
  }

  const cname = get("cname") ?? "zstd";
  if (typeof cname !== "string" || !Object.hasOwn(CODEC_IDS, cname)) {
    throw bad(
      "cname",
      `must be one of ${Object.keys(CODEC_IDS).join(", ")}, got ${JSON.stringify(cname)}`,
    );
  }
  const clevel = get("clevel") ?? 5;
  if (!isInt(clevel, 0, 9)) {
    throw bad("clevel", `must be an integer 0-9, got ${JSON.stringify(clevel)}`);
  }
  const filters = get("filters") ?? ["shuffle"];
  if (!Array.isArray(filters) || filters.length > MAX_FILTERS) {
    throw bad("filters", `must be an array of at most ${MAX_FILTERS} filter names`);
  }
  for (const f of filters) {
    if (typeof f !== "string" || !Object.hasOwn(FILTER_IDS, f)) {
      throw bad(
        "filters",
        `holds unknown filter ${JSON.stringify(f)} (expected ${Object.keys(FILTER_IDS).join(", ")})`,
      );
    }
  }
  const filtersMeta = get("filters_meta") ?? filters.map(() => 0);
  if (!Array.isArray(filtersMeta) || filtersMeta.length !== filters.length) {
    throw bad(
      "filters_meta",
      `must be an array with one integer 0-255 per filter (${filters.length}), got ${JSON.stringify(filtersMeta)}`,
    );
  }
  for (const m of filtersMeta) {
    if (!isInt(m, 0, 255)) {
      throw bad("filters_meta", `must hold integers 0-255, got ${JSON.stringify(filtersMeta)}`);
    }
  }
  const trunc = filters.indexOf("trunc_prec");
  if (trunc >= 0) {
    if (dtype !== "<f4" && dtype !== "<f8") {
      throw bad("filters", `trunc_prec needs float32 or float64 data, not ${dataType}`);
    }
    if (filtersMeta[trunc] === 0) {
      throw bad("filters_meta", "must give trunc_prec the number of mantissa bits to keep");
    }
  }
  return {
    chunks,
    blocks,
    cname: cname as CodecName,
    clevel,
    filters: filters.slice() as FilterName[],
    filtersMeta: filtersMeta.slice() as number[],
  };
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/** Element strides of `shape` stored in `order` (order[0] slowest), as zarrita computes them. */
function stridesInOrder(shape: readonly number[], order: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let step = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    out[order[i]!] = step;
    step *= shape[order[i]!]!;
  }
  return out;
}

function transposeOrder(configuration: unknown, rank: number): number[] {
  const value = isPlainObject(configuration) ? (configuration.order ?? "C") : "C";
  if (value === "C") return Array.from({ length: rank }, (_, i) => i);
  if (value === "F") return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (
    Array.isArray(value) &&
    value.length === rank &&
    value.every((x) => isInt(x, 0, rank - 1)) &&
    new Set(value).size === rank
  ) {
    return value as number[];
  }
  throw new OptionsError(
    `b2nd codec: the transpose codec before it has an invalid order ${JSON.stringify(value)}`,
  );
}

/**
 * The frame's shape for a chunk of `meta.shape`, and the axis order mapping it back: a
 * transpose codec before b2nd hands it the chunk permuted (frame dimension i is chunk
 * dimension order[i]), so the frame holds the permuted array in C order. Without transpose
 * the frame shape is the chunk shape and order is the identity.
 */
export function b2ndFrameLayout(meta: ZarrCodecMeta): { frameShape: number[]; order: number[] } {
  const rank = meta.shape.length;
  let order = Array.from({ length: rank }, (_, i) => i);
  for (const codec of meta.codecs ?? []) {
    if (codec.name === "b2nd") break;
    if (codec.name === "transpose") {
      const o = transposeOrder(codec.configuration, rank);
      order = o.map((i) => order[i]!);
    }
  }
  return { frameShape: order.map((i) => meta.shape[i]!), order };
}

/** Copies items from a strided layout into C order over `shape` (strides in items). */
function gatherCOrder(
  src: Uint8Array,
  shape: readonly number[],
  strides: readonly number[],
  itemsize: number,
): Uint8Array {
  const n = prod(shape);
  const out = new Uint8Array(n * itemsize);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let s = 0;
  for (let k = 0; k < n; k++) {
    const at = s * itemsize;
    out.set(src.subarray(at, at + itemsize), k * itemsize);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      s += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      s -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Zarr array -> bytes codec "b2nd": one contiguous b2nd frame per chunk. decode checks the
 * frame's shape and dtype against the chunk and returns the whole chunk; encode writes the
 * chunk with the configured inner chunks, blocks, codec and filters.
 */
export class B2ndCodec {
  readonly kind = "array_to_bytes" as const;
  /** The configuration with defaults applied. */
  readonly config: ResolvedB2ndConfig;
  /** NumPy dtype of the frame (little-endian). */
  readonly dtype: string;
  /** Shape of each frame (the chunk shape, permuted by a preceding transpose codec). */
  readonly frameShape: number[];
  readonly #dataType: string;
  readonly #shape: number[];
  readonly #order: number[];
  readonly #itemsize: number;

  constructor(configuration: unknown, meta: ZarrCodecMeta) {
    const { frameShape, order } = b2ndFrameLayout(meta);
    this.config = parseB2ndConfig(configuration, frameShape, meta.dataType);
    this.dtype = numpyDtypeOf(meta.dataType);
    this.frameShape = frameShape;
    this.#dataType = meta.dataType;
    this.#shape = meta.shape.slice();
    this.#order = order;
    this.#itemsize = itemsizeOf(meta.dataType)!;
  }

  static fromConfig(configuration: unknown, meta: ZarrCodecMeta): B2ndCodec {
    return new B2ndCodec(configuration, meta);
  }

  async encode(chunk: Chunk<DataType>): Promise<Uint8Array> {
    if (!sameShape(chunk.shape, this.#shape)) {
      throw new OptionsError(
        `b2nd codec: expected a chunk of shape ${fmt(this.#shape)}, got ${fmt(chunk.shape)}`,
      );
    }
    let bytes = bytesOfChunkData(chunk.data);
    const need = prod(this.#shape) * this.#itemsize;
    if (bytes.length < need) {
      throw new OptionsError(
        `b2nd codec: chunk data holds ${bytes.length} bytes, shape ${fmt(this.#shape)} of ${this.#dataType} needs ${need}`,
      );
    }
    const frameStrides = this.#order.map((i) => chunk.stride[i]!);
    const contiguous = stridesInOrder(
      this.frameShape,
      this.frameShape.map((_, i) => i),
    );
    bytes = sameShape(frameStrides, contiguous)
      ? bytes.subarray(0, need)
      : gatherCOrder(bytes, this.frameShape, frameStrides, this.#itemsize);
    const c = this.config;
    return writeB2nd(bytes, this.frameShape, {
      dtype: this.dtype,
      chunkShape: c.chunks,
      ...(c.blocks ? { blockShape: c.blocks } : {}),
      codec: c.cname,
      clevel: c.clevel,
      filters: c.filters,
      filtersMeta: c.filtersMeta,
    });
  }

  async decode(bytes: Uint8Array): Promise<Chunk<DataType>> {
    const arr = await openB2nd(new MemorySource(bytes, "b2nd chunk"));
    try {
      if (!sameShape(arr.shape, this.frameShape)) {
        throw new FormatError(
          "b2nd chunk",
          `frame shape does not match the Zarr chunk: expected ${fmt(this.frameShape)}, found ${fmt(arr.shape)}`,
        );
      }
      if (arr.dtype !== this.dtype) {
        throw new FormatError(
          "b2nd chunk",
          `frame dtype does not match the Zarr data type ${this.#dataType}: expected ${JSON.stringify(this.dtype)}, found ${JSON.stringify(arr.dtype)}`,
        );
      }
      const { data } = await arr.get(null);
      return {
        data: toZarritaData(this.#dataType, data),
        shape: this.#shape.slice(),
        stride: stridesInOrder(this.#shape, this.#order),
      } as unknown as Chunk<DataType>;
    } finally {
      await arr.close();
    }
  }
}
