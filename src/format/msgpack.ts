// A small msgpack reader and writer: just what Blosc2 frame headers, trailers and
// metalayers use. Big-endian integers; 64-bit values become numbers when they are safe
// integers (bigint otherwise).
import { FormatError } from "../errors.js";

export type MsgValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | MsgExt
  | MsgValue[]
  | Map<MsgValue, MsgValue>;

export interface MsgExt {
  ext: number;
  data: Uint8Array;
}

/** Reads msgpack values from `bytes`, tracking the position; errors name `source`. */
export class MsgReader {
  pos: number;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
    start = 0,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.bytes.length) {
      throw new FormatError(
        this.source,
        `msgpack value at byte ${at} runs past the end (${this.bytes.length} bytes)`,
      );
    }
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)]!;
  }

  private int(size: 1 | 2 | 4 | 8, signed: boolean): number | bigint {
    const at = this.need(size);
    const v = this.view;
    switch (size) {
      case 1:
        return signed ? v.getInt8(at) : v.getUint8(at);
      case 2:
        return signed ? v.getInt16(at) : v.getUint16(at);
      case 4:
        return signed ? v.getInt32(at) : v.getUint32(at);
      default: {
        const big = signed ? v.getBigInt64(at) : v.getBigUint64(at);
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(big)
          : big;
      }
    }
  }

  private raw(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  private str(n: number): string {
    return new TextDecoder().decode(this.raw(n));
  }

  private lengthOf(size: 1 | 2 | 4): number {
    return this.int(size, false) as number;
  }

  /** Reads one value. `depth` guards against hostile nesting. */
  read(depth = 0): MsgValue {
    if (depth > 64)
      throw new FormatError(this.source, `msgpack nesting deeper than 64 at byte ${this.pos}`);
    const at = this.pos;
    const t = this.u8();
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if ((t & 0xf0) === 0x80) return this.map(t & 0x0f, depth);
    if ((t & 0xf0) === 0x90) return this.array(t & 0x0f, depth);
    if ((t & 0xe0) === 0xa0) return this.str(t & 0x1f);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.raw(this.lengthOf(1)).slice();
      case 0xc5:
        return this.raw(this.lengthOf(2)).slice();
      case 0xc6:
        return this.raw(this.lengthOf(4)).slice();
      case 0xc7:
        return this.ext(this.lengthOf(1));
      case 0xc8:
        return this.ext(this.lengthOf(2));
      case 0xc9:
        return this.ext(this.lengthOf(4));
      case 0xca:
        return this.view.getFloat32(this.need(4));
      case 0xcb:
        return this.view.getFloat64(this.need(8));
      case 0xcc:
        return this.int(1, false);
      case 0xcd:
        return this.int(2, false);
      case 0xce:
        return this.int(4, false);
      case 0xcf:
        return this.int(8, false);
      case 0xd0:
        return this.int(1, true);
      case 0xd1:
        return this.int(2, true);
      case 0xd2:
        return this.int(4, true);
      case 0xd3:
        return this.int(8, true);
      case 0xd4:
        return this.ext(1);
      case 0xd5:
        return this.ext(2);
      case 0xd6:
        return this.ext(4);
      case 0xd7:
        return this.ext(8);
      case 0xd8:
        return this.ext(16);
      case 0xd9:
        return this.str(this.lengthOf(1));
      case 0xda:
        return this.str(this.lengthOf(2));
      case 0xdb:
        return this.str(this.lengthOf(4));
      case 0xdc:
        return this.array(this.lengthOf(2), depth);
      case 0xdd:
        return this.array(this.lengthOf(4), depth);
      case 0xde:
        return this.map(this.lengthOf(2), depth);
      case 0xdf:
        return this.map(this.lengthOf(4), depth);
      default:
        throw new FormatError(
          this.source,
          `invalid msgpack type byte 0x${t.toString(16)} at byte ${at}`,
        );
    }
  }

  private ext(n: number): MsgExt {
    const type = this.int(1, true) as number;
    return { ext: type, data: this.raw(n).slice() };
  }

  private array(n: number, depth: number): MsgValue[] {
    // Each element takes at least one byte: a claimed length beyond the buffer is a lie.
    if (n > this.bytes.length - this.pos) {
      throw new FormatError(
        this.source,
        `msgpack array of ${n} items at byte ${this.pos} exceeds the data`,
      );
    }
    const out: MsgValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.read(depth + 1));
    return out;
  }

  private map(n: number, depth: number): Map<MsgValue, MsgValue> {
    if (2 * n > this.bytes.length - this.pos) {
      throw new FormatError(
        this.source,
        `msgpack map of ${n} entries at byte ${this.pos} exceeds the data`,
      );
    }
    const out = new Map<MsgValue, MsgValue>();
    for (let i = 0; i < n; i++) {
      const k = this.read(depth + 1);
      out.set(k, this.read(depth + 1));
    }
    return out;
  }
}

/** Decodes the single msgpack value at the start of `bytes`. */
export function unpack(bytes: Uint8Array, source: string): MsgValue {
  return new MsgReader(bytes, source).read();
}

/** A growing byte buffer with the msgpack forms frames need (big-endian numbers). */
export class MsgWriter {
  private buf = new Uint8Array(512);
  private view = new DataView(this.buf.buffer);
  length = 0;

  /** Reserves `n` bytes and returns where they start. */
  private take(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  u8(v: number): this {
    const at = this.take(1);
    this.buf[at] = v;
    return this;
  }

  raw(data: Uint8Array): this {
    const at = this.take(data.length);
    this.buf.set(data, at);
    return this;
  }

  /** A big-endian number of `size` bytes after an optional msgpack marker. */
  num(marker: number | null, size: 1 | 2 | 4 | 8, v: number | bigint, signed = false): this {
    if (marker !== null) this.u8(marker);
    const at = this.take(size);
    if (size === 1) this.buf[at] = Number(v) & 0xff;
    else if (size === 2) this.view.setUint16(at, Number(v) & 0xffff);
    else if (size === 4) {
      if (signed) this.view.setInt32(at, Number(v));
      else this.view.setUint32(at, Number(v));
    } else if (signed) this.view.setBigInt64(at, BigInt(v));
    else this.view.setBigUint64(at, BigInt(v));
    return this;
  }

  /** Patches a big-endian int32 / uint16 written earlier. */
  setInt32(at: number, v: number): void {
    this.view.setInt32(at, v);
  }
  setUint16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }

  float64(v: number): this {
    this.u8(0xcb);
    const at = this.take(8);
    this.view.setFloat64(at, v);
    return this;
  }

  /** Smallest of fixint / int32 / int64 / uint64 (readable by any msgpack reader). */
  int(v: number | bigint): this {
    const n = BigInt(v);
    if (n >= 0n && n <= 0x7fn) return this.u8(Number(n));
    if (n < 0n && n >= -32n) return this.u8(Number(n) & 0xff);
    if (n >= -0x80000000n && n <= 0x7fffffffn) return this.num(0xd2, 4, n, true);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return this.num(0xd3, 8, n, true);
    if (n >= 0n && n < 2n ** 64n) return this.num(0xcf, 8, n);
    throw new TypeError(`integer ${n} does not fit in 64 bits`);
  }

  /** A length-prefixed form: fix (when `fix` and small), then 8-, 16- or 32-bit lengths. */
  private sized(
    n: number,
    fix: number | null,
    fixMax: number,
    m8: number | null,
    m16: number,
    m32: number,
  ): this {
    if (fix !== null && n <= fixMax) return this.u8(fix | n);
    if (m8 !== null && n <= 0xff) return this.num(m8, 1, n);
    if (n <= 0xffff) return this.num(m16, 2, n);
    return this.num(m32, 4, n);
  }

  str(s: string): this {
    const data = new TextEncoder().encode(s);
    return this.sized(data.length, 0xa0, 31, 0xd9, 0xda, 0xdb).raw(data);
  }

  bin(data: Uint8Array): this {
    return this.sized(data.length, null, 0, 0xc4, 0xc5, 0xc6).raw(data);
  }

  arrayHeader(n: number): this {
    return this.sized(n, 0x90, 15, null, 0xdc, 0xdd);
  }

  mapHeader(n: number): this {
    return this.sized(n, 0x80, 15, null, 0xde, 0xdf);
  }

  /**
   * Any JSON-like value, as python's msgpack reads it: null/undefined -> nil, booleans,
   * safe integers and bigints -> int, other numbers -> float64, strings, Uint8Array -> bin,
   * arrays, Maps and plain objects (string keys) -> maps.
   */
  value(v: unknown, depth = 0): this {
    if (depth > 512) throw new TypeError("value nests too deeply (or is circular)");
    if (v === null || v === undefined) return this.u8(0xc0);
    if (typeof v === "boolean") return this.u8(v ? 0xc3 : 0xc2);
    if (typeof v === "bigint") return this.int(v);
    if (typeof v === "number") return Number.isSafeInteger(v) ? this.int(v) : this.float64(v);
    if (typeof v === "string") return this.str(v);
    if (v instanceof Uint8Array) return this.bin(v);
    if (Array.isArray(v)) {
      this.arrayHeader(v.length);
      for (const x of v) this.value(x, depth + 1);
      return this;
    }
    if (v instanceof Map) {
      this.mapHeader(v.size);
      for (const [k, x] of v) this.value(k, depth + 1).value(x, depth + 1);
      return this;
    }
    if (typeof v === "object" && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
      const entries = Object.entries(v as Record<string, unknown>);
      this.mapHeader(entries.length);
      for (const [k, x] of entries) this.str(k).value(x, depth + 1);
      return this;
    }
    const what = ArrayBuffer.isView(v) || v instanceof ArrayBuffer ? v.constructor.name : typeof v;
    throw new TypeError(`cannot msgpack-encode a ${what} (use a Uint8Array for bytes)`);
  }
}

/** Converts decoded msgpack to plain JSON-like JS (maps become objects when keys are strings). */
export function toPlain(v: MsgValue): unknown {
  if (v instanceof Map) {
    const obj: Record<string, unknown> = {};
    for (const [k, x] of v) obj[typeof k === "string" ? k : String(k)] = toPlain(x);
    return obj;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}
