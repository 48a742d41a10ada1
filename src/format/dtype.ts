// NumPy dtype strings as b2nd stores them ("<f8", "|b1", ">i2", ...), and the JS arrays
// that hold their values.
import { FormatError } from "../errors.js";

export type DTypeKind = "b" | "i" | "u" | "f" | "c";

export interface DType {
  /** The NumPy dtype string, normalised ("|" for one-byte types, "<" or ">" otherwise). */
  name: string;
  kind: DTypeKind;
  itemsize: number;
  /** Byte order of the stored values; one-byte types count as little-endian. */
  littleEndian: boolean;
}

/** Arrays `get` returns data in. */
export type TypedArray =
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

/** The typed array for a dtype's kind and size ("f8", "u1", ...). */
type ArrayOfKind<K extends string> = K extends "b1" | "u1"
  ? Uint8Array
  : K extends "i1"
    ? Int8Array
    : K extends "i2"
      ? Int16Array
      : K extends "u2" | "f2"
        ? Uint16Array
        : K extends "i4"
          ? Int32Array
          : K extends "u4"
            ? Uint32Array
            : K extends "i8"
              ? BigInt64Array
              : K extends "u8"
                ? BigUint64Array
                : K extends "f4" | "c8"
                  ? Float32Array
                  : K extends "f8" | "c16"
                    ? Float64Array
                    : TypedArray;

/** The kind and size of each name in ALIASES (below). */
interface AliasKinds {
  bool: "b1";
  int8: "i1";
  uint8: "u1";
  int16: "i2";
  uint16: "u2";
  int32: "i4";
  uint32: "u4";
  int64: "i8";
  uint64: "u8";
  float16: "f2";
  float32: "f4";
  float64: "f8";
  complex64: "c8";
  complex128: "c16";
}

/**
 * The array `get` returns values of dtype `D` in (see arrayFor): `ArrayOfDtype<"<f8">` is
 * Float64Array, `ArrayOfDtype<"bool">` Uint8Array; big-endian multi-byte dtypes give the
 * stored bytes (Uint8Array); `string` (a dtype not known when compiling) any TypedArray.
 */
export type ArrayOfDtype<D extends string> = D extends keyof AliasKinds
  ? ArrayOfKind<AliasKinds[D]>
  : D extends `>${infer K}`
    ? K extends "b1" | "i1" | "u1"
      ? ArrayOfKind<K>
      : Uint8Array
    : D extends `${"<" | "|" | "="}${infer K}`
      ? ArrayOfKind<K>
      : ArrayOfKind<D>;

const SIZES: Record<DTypeKind, number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8],
  c: [8, 16],
};

// NumPy names for the same types, as python-blosc2 sometimes writes them.
const ALIASES: Record<keyof AliasKinds, string> & Record<string, string | undefined> = {
  bool: "|b1",
  int8: "|i1",
  uint8: "|u1",
  int16: "<i2",
  uint16: "<u2",
  int32: "<i4",
  uint32: "<u4",
  int64: "<i8",
  uint64: "<u8",
  float16: "<f2",
  float32: "<f4",
  float64: "<f8",
  complex64: "<c8",
  complex128: "<c16",
};

/** Parses a NumPy dtype string; anything else is a FormatError "unsupported dtype <name>". */
export function parseDtype(text: string, source = "dtype"): DType {
  const s = ALIASES[text] ?? text;
  const m = /^([<>|=]?)([biufc])(\d+)$/.exec(s);
  const unsupported = () => new FormatError(source, `unsupported dtype ${JSON.stringify(text)}`);
  if (!m) throw unsupported();
  const [, order, kind, size] = m as unknown as [string, string, DTypeKind, string];
  const itemsize = Number(size);
  if (!SIZES[kind].includes(itemsize)) throw unsupported();
  const littleEndian = itemsize === 1 || order !== ">";
  const prefix = itemsize === 1 ? "|" : littleEndian ? "<" : ">";
  return { name: `${prefix}${kind}${itemsize}`, kind, itemsize, littleEndian };
}

/**
 * The typed array that holds values of `dtype` in native (little-endian) order: bool as
 * Uint8Array (0/1), float16 as Uint16Array (raw bits), complex as Float32Array/Float64Array
 * with interleaved real and imaginary parts (two numbers per element).
 */
export function arrayFor(dtype: DType, bytes: Uint8Array): TypedArray {
  const { buffer, byteOffset, byteLength } = bytes;
  const n = byteLength;
  switch (`${dtype.kind}${dtype.itemsize}`) {
    case "b1":
    case "u1":
      return new Uint8Array(buffer, byteOffset, n);
    case "i1":
      return new Int8Array(buffer, byteOffset, n);
    case "i2":
      return new Int16Array(buffer, byteOffset, n / 2);
    case "u2":
    case "f2":
      return new Uint16Array(buffer, byteOffset, n / 2);
    case "i4":
      return new Int32Array(buffer, byteOffset, n / 4);
    case "u4":
      return new Uint32Array(buffer, byteOffset, n / 4);
    case "i8":
      return new BigInt64Array(buffer, byteOffset, n / 8);
    case "u8":
      return new BigUint64Array(buffer, byteOffset, n / 8);
    case "f4":
    case "c8":
      return new Float32Array(buffer, byteOffset, n / 4);
    case "f8":
    case "c16":
      return new Float64Array(buffer, byteOffset, n / 8);
    default:
      throw new FormatError("dtype", `unsupported dtype ${dtype.name}`);
  }
}

/** Size in bytes of one swapped unit: complex numbers swap each of their two parts. */
function swapUnit(dtype: DType): number {
  return dtype.kind === "c" ? dtype.itemsize / 2 : dtype.itemsize;
}

/**
 * Byte-swaps stored big-endian values into a new native-order typed array. For
 * little-endian dtypes it returns the values as they are (no copy).
 */
export function toNativeByteOrder(bytes: Uint8Array, dtype: DType): TypedArray {
  if (dtype.littleEndian) return arrayFor(dtype, bytes);
  const out = new Uint8Array(bytes.length);
  const unit = swapUnit(dtype);
  for (let i = 0; i < bytes.length; i += unit) {
    for (let j = 0; j < unit; j++) out[i + j] = bytes[i + unit - 1 - j]!;
  }
  return arrayFor(dtype, out);
}

/** The dtype of a typed array's elements (for writing). */
export function dtypeOfArray(data: ArrayBufferView): DType | undefined {
  const name = (
    {
      Int8Array: "|i1",
      Uint8Array: "|u1",
      Uint8ClampedArray: "|u1",
      Int16Array: "<i2",
      Uint16Array: "<u2",
      Int32Array: "<i4",
      Uint32Array: "<u4",
      BigInt64Array: "<i8",
      BigUint64Array: "<u8",
      Float32Array: "<f4",
      Float64Array: "<f8",
    } as Record<string, string>
  )[data.constructor.name];
  return name === undefined ? undefined : parseDtype(name);
}
