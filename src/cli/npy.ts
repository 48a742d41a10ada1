// NumPy .npy files (format version 1.0), as np.save writes them: magic, version, a
// little-endian uint16 header length, then a Python dict literal padded so the data starts
// at a multiple of 64 bytes. https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { OptionsError } from "../errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE = MAGIC.length + 2 + 2; // magic, version, header length
const ALIGN = 64;

/** The shape as a Python tuple literal: "()", "(3,)", "(3, 4)". */
function shapeTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/**
 * Wraps C-order array bytes in a .npy 1.0 file. `dtype` is the NumPy descr written as is
 * (e.g. "<f8", ">i4", "|b1"), so the stored byte order is kept.
 */
export function encodeNpy(bytes: Uint8Array, dtype: string, shape: readonly number[]): Uint8Array {
  if (!/^[<>|=][a-zA-Z]\d+$/.test(dtype)) {
    throw new OptionsError(`npy: dtype ${JSON.stringify(dtype)} is not a NumPy descr like "<f8"`);
  }
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new OptionsError(`npy: invalid shape [${shape.join(", ")}]`);
    }
  }
  const itemsize = Number(dtype.slice(2));
  const expected = shape.reduce((a, b) => a * b, 1) * itemsize;
  if (bytes.length !== expected) {
    throw new OptionsError(
      `npy: ${bytes.length} bytes do not hold shape ${shapeTuple(shape)} of ${dtype} (${expected} bytes)`,
    );
  }
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  // Pad with spaces and end with "\n" so the preamble plus the header fill whole 64-byte lines.
  const unpadded = PREAMBLE + dict.length + 1;
  const headerLength = dict.length + 1 + ((ALIGN - (unpadded % ALIGN)) % ALIGN);
  if (headerLength > 0xffff) {
    throw new OptionsError(`npy: a ${shape.length}-d header does not fit format version 1.0`);
  }
  const out = new Uint8Array(PREAMBLE + headerLength + bytes.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = headerLength & 0xff;
  out[9] = headerLength >> 8;
  const header = `${dict.padEnd(headerLength - 1, " ")}\n`;
  for (let i = 0; i < header.length; i++) out[PREAMBLE + i] = header.charCodeAt(i);
  out.set(bytes, PREAMBLE + headerLength);
  return out;
}
