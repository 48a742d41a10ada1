// A Thrift compact-protocol writer: just what Parquet metadata needs (structs, lists, i8/i16/
// i32/i64, bool, binary/string). Fields are written in the order given; each field header
// carries the delta from the previous field id when it fits in 4 bits.

/** Compact-protocol type codes. */
export const TType = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  BINARY: 8,
  LIST: 9,
  STRUCT: 12,
} as const;

const text = new TextEncoder();

export class ThriftWriter {
  private buf = new Uint8Array(64);
  private pos = 0;
  /** Last field id per open struct (the top is the struct being written). */
  private readonly lastIds: number[] = [0];

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a copy, so the writer may be reused). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned LEB128 of a non-negative integer up to 2^53 (numbers) or any bigint. */
  varint(v: number | bigint): void {
    if (typeof v === "number" && v >= 0 && v < 2 ** 31) {
      let x = v;
      while (x >= 0x80) {
        this.byte((x & 0x7f) | 0x80);
        x >>>= 7;
      }
      this.byte(x);
      return;
    }
    let x = BigInt(v);
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  /** ZigZag varint of a signed 64-bit integer. */
  zigzag(v: number | bigint): void {
    if (typeof v === "number" && Number.isSafeInteger(v) && Math.abs(v) < 2 ** 30) {
      this.varint(v >= 0 ? 2 * v : -2 * v - 1);
      return;
    }
    const x = BigInt.asIntN(64, BigInt(v));
    this.varint(BigInt.asUintN(64, (x << 1n) ^ (x >> 63n)));
  }

  private fieldHeader(id: number, type: number): void {
    const last = this.lastIds[this.lastIds.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastIds[this.lastIds.length - 1] = id;
  }

  i8(id: number, v: number): void {
    this.fieldHeader(id, TType.BYTE);
    this.byte(v & 0xff);
  }

  i16(id: number, v: number): void {
    this.fieldHeader(id, TType.I16);
    this.zigzag(v);
  }

  i32(id: number, v: number): void {
    this.fieldHeader(id, TType.I32);
    this.zigzag(v);
  }

  i64(id: number, v: number | bigint): void {
    this.fieldHeader(id, TType.I64);
    this.zigzag(v);
  }

  bool(id: number, v: boolean): void {
    this.fieldHeader(id, v ? TType.TRUE : TType.FALSE);
  }

  binary(id: number, v: Uint8Array): void {
    this.fieldHeader(id, TType.BINARY);
    this.rawBinary(v);
  }

  string(id: number, v: string): void {
    this.binary(id, text.encode(v));
  }

  private rawBinary(v: Uint8Array): void {
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A struct field whose fields `body` writes. */
  struct(id: number, body: (w: ThriftWriter) => void): void {
    this.fieldHeader(id, TType.STRUCT);
    this.structBody(body);
  }

  /** A top-level struct (no field header), or a struct element of a list. */
  structBody(body: (w: ThriftWriter) => void): void {
    this.lastIds.push(0);
    body(this);
    this.byte(0); // STOP
    this.lastIds.pop();
  }

  private listHeader(id: number, elemType: number, size: number): void {
    this.fieldHeader(id, TType.LIST);
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.varint(size);
    }
  }

  listI32(id: number, items: readonly number[]): void {
    this.listHeader(id, TType.I32, items.length);
    for (const v of items) this.zigzag(v);
  }

  listI64(id: number, items: readonly (number | bigint)[]): void {
    this.listHeader(id, TType.I64, items.length);
    for (const v of items) this.zigzag(v);
  }

  /** Booleans in a list are one byte each: 1 true, 2 false (what Java and C++ write). */
  listBool(id: number, items: readonly boolean[]): void {
    this.listHeader(id, TType.TRUE, items.length);
    for (const v of items) this.byte(v ? 1 : 2);
  }

  listBinary(id: number, items: readonly Uint8Array[]): void {
    this.listHeader(id, TType.BINARY, items.length);
    for (const v of items) this.rawBinary(v);
  }

  listString(id: number, items: readonly string[]): void {
    this.listBinary(
      id,
      items.map((s) => text.encode(s)),
    );
  }

  listStruct<T>(id: number, items: readonly T[], body: (w: ThriftWriter, item: T) => void): void {
    this.listHeader(id, TType.STRUCT, items.length);
    for (const item of items) this.structBody((w) => body(w, item));
  }
}
