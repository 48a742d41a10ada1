// The b2nd metalayer (README_B2ND_METALAYER; "caterva" in older files):
// [version, ndim, shape, chunkshape, blockshape, dtype_format, dtype].
import { FormatError } from "../errors.js";
import { type DType, parseDtype } from "./dtype.js";
import { type MsgValue, unpack } from "./msgpack.js";

/** b2nd allows up to 8 dimensions (B2ND_MAX_DIM). */
export const MAX_DIM = 8;

export interface B2ndMeta {
  shape: number[];
  chunkShape: number[];
  blockShape: number[];
  dtype: DType;
}

function dims(v: MsgValue, ndim: number, what: string, source: string): number[] {
  if (!Array.isArray(v) || v.length !== ndim) {
    throw new FormatError(source, `b2nd ${what} does not have ${ndim} dimensions`);
  }
  return v.map((x, i) => {
    if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
      throw new FormatError(source, `b2nd ${what}[${i}] = ${String(x)} is not a valid size`);
    }
    return x;
  });
}

/**
 * Parses the metalayer content. `typesize` (from the frame) supplies the dtype of old
 * "caterva" files that store none: unsigned integers of that size.
 */
export function parseB2ndMeta(content: Uint8Array, typesize: number, source: string): B2ndMeta {
  const v = unpack(content, source);
  if (!Array.isArray(v) || v.length < 5)
    throw new FormatError(source, "b2nd metalayer is not an array of 5-7 fields");
  const ndim = v[1];
  if (typeof ndim !== "number" || !Number.isInteger(ndim) || ndim < 0 || ndim > MAX_DIM) {
    throw new FormatError(source, `b2nd ndim ${String(ndim)} is not 0-${MAX_DIM}`);
  }
  const shape = dims(v[2]!, ndim, "shape", source);
  const chunkShape = dims(v[3]!, ndim, "chunkshape", source);
  const blockShape = dims(v[4]!, ndim, "blockshape", source);
  let dtype: DType;
  if (v.length >= 7 && typeof v[6] === "string") {
    if (v[5] !== 0) throw new FormatError(source, `unsupported b2nd dtype format ${String(v[5])}`);
    dtype = parseDtype(v[6], source);
  } else {
    dtype = parseDtype(typesize === 1 ? "|u1" : `<u${typesize}`, source);
  }
  for (let d = 0; d < ndim; d++) {
    if (shape[d]! > 0 && chunkShape[d]! === 0) {
      throw new FormatError(source, `b2nd chunkshape[${d}] is 0 for a non-empty dimension`);
    }
    if (blockShape[d]! > chunkShape[d]! || (chunkShape[d]! > 0 && blockShape[d]! === 0)) {
      throw new FormatError(
        source,
        `b2nd blockshape ${JSON.stringify(blockShape)} does not fit chunkshape ${JSON.stringify(chunkShape)}`,
      );
    }
  }
  return { shape, chunkShape, blockShape, dtype };
}
