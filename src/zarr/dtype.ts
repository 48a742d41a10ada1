// Zarr data types (zarrita's names) <-> NumPy little-endian dtype strings, and the arrays
// zarrita holds chunk values in.
import { BoolArray } from "zarrita";
import { OptionsError } from "../errors.js";
import { parseDtype } from "../format/dtype.js";

// The Zarr v3 numeric type names are NumPy's, which the dtype parser already knows.
const ZARR_TYPES = [
  "bool",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float16",
  "float32",
  "float64",
] as const;

/** The Zarr data types `numpyDtypeOf` accepts. */
export const SUPPORTED_DATA_TYPES: readonly string[] = ZARR_TYPES;

/**
 * Array types zarrita keeps chunk values in: a typed array per numeric type, zarrita's
 * BoolArray for bool, Float16Array for float16 where the runtime has it (else Uint16Array
 * holding the raw float16 bits).
 */
export type ZarritaData =
  | BoolArray
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

function unsupported(dataType: unknown): OptionsError {
  return new OptionsError(
    `zarr: data type ${JSON.stringify(dataType)} is not supported by the Blosc2 codecs (supported: ${SUPPORTED_DATA_TYPES.join(", ")})`,
  );
}

/**
 * The little-endian NumPy dtype string of a Zarr data type: "bool" -> "|b1", "int16" ->
 * "<i2", "float64" -> "<f8", ... Other types (strings, objects, complex) are an OptionsError
 * naming the type.
 */
export function numpyDtypeOf(dataType: string): string {
  if (!SUPPORTED_DATA_TYPES.includes(dataType)) throw unsupported(dataType);
  return parseDtype(dataType).name;
}

/** Bytes per item of a supported Zarr data type, undefined for any other type. */
export function itemsizeOf(dataType: string): number | undefined {
  return SUPPORTED_DATA_TYPES.includes(dataType) ? parseDtype(dataType).itemsize : undefined;
}

type ArrayCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ZarritaData;

function float16Ctor(): ArrayCtor {
  const f16 = (globalThis as { Float16Array?: ArrayCtor }).Float16Array;
  return f16 ?? (Uint16Array as unknown as ArrayCtor);
}

function ctorOf(dataType: string): ArrayCtor {
  switch (dataType) {
    case "bool":
      return BoolArray as unknown as ArrayCtor;
    case "int8":
      return Int8Array as unknown as ArrayCtor;
    case "uint8":
      return Uint8Array as unknown as ArrayCtor;
    case "int16":
      return Int16Array as unknown as ArrayCtor;
    case "uint16":
      return Uint16Array as unknown as ArrayCtor;
    case "int32":
      return Int32Array as unknown as ArrayCtor;
    case "uint32":
      return Uint32Array as unknown as ArrayCtor;
    case "int64":
      return BigInt64Array as unknown as ArrayCtor;
    case "uint64":
      return BigUint64Array as unknown as ArrayCtor;
    case "float16":
      return float16Ctor();
    case "float32":
      return Float32Array as unknown as ArrayCtor;
    case "float64":
      return Float64Array as unknown as ArrayCtor;
    default:
      throw unsupported(dataType);
  }
}

/**
 * Views little-endian stored values (e.g. `B2ndArray.get(...).data`, or decompressed bytes)
 * as the array zarrita uses for `dataType`: BoolArray for bool, BigInt64Array for int64,
 * Float16Array for float16 when `globalThis.Float16Array` exists (else Uint16Array of raw
 * bits; zarrita itself cannot open float16 arrays without Float16Array). No copy unless the
 * bytes are not aligned to the item size. Bool bytes are kept as they are (non-zero = true).
 */
export function toZarritaData(dataType: string, bytes: ArrayBufferView): ZarritaData {
  const Ctor = ctorOf(dataType);
  const itemsize = itemsizeOf(dataType)!;
  let view =
    bytes instanceof Uint8Array
      ? bytes
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength % itemsize !== 0) {
    throw new OptionsError(
      `zarr: ${view.byteLength} bytes is not a whole number of ${dataType} items (${itemsize} bytes each)`,
    );
  }
  if (view.byteOffset % itemsize !== 0) view = view.slice();
  return new Ctor(view.buffer, view.byteOffset, view.byteLength / itemsize);
}

/**
 * The bytes of zarrita chunk data (any typed array, BoolArray, Float16Array), viewed
 * without copying, in the host's (little-endian) byte order: what `writeB2nd` and
 * `compress` take. String and object arrays are an OptionsError.
 */
export function bytesOfChunkData(data: unknown): Uint8Array {
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof BoolArray) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const name =
    data === null || data === undefined
      ? String(data)
      : ((data as { constructor?: { name?: string } }).constructor?.name ?? typeof data);
  throw new OptionsError(
    `zarr: the Blosc2 codecs encode numeric and bool chunks only, not ${name} data`,
  );
}
