// Reusable read buffers for one read of an array: compressed bytes become garbage as soon as
// their chunk is decoded, and V8 frees array buffers only when it next collects (it waits for
// tens of MB of them), so a read that allocated per chunk peaked far above what it held.

import type { ByteSource } from "./source.js";

/** Reads smaller than this allocate: reusing them saves nothing worth the bookkeeping. */
const MIN_SCRATCH = 64 * 1024;
/** Free buffers kept at most; the smallest goes first. */
const MAX_FREE = 16;

/** A free list of byte buffers, best fit first. Not thread-safe (one calling thread). */
export class ScratchPool {
  readonly #free: Uint8Array[] = [];

  /** A buffer of exactly `length` bytes: a view of a free one that is large enough, or new. */
  take(length: number): Uint8Array {
    let best = -1;
    for (const [i, b] of this.#free.entries()) {
      if (b.length >= length && (best < 0 || b.length < this.#free[best]!.length)) best = i;
    }
    if (best < 0) return new Uint8Array(length);
    return this.#free.splice(best, 1)[0]!.subarray(0, length);
  }

  /** Returns a buffer from take() for reuse; the caller keeps no view of it. */
  give(view: Uint8Array): void {
    const whole = new Uint8Array(view.buffer);
    if (whole.length < MIN_SCRATCH) return;
    this.#free.push(whole);
    if (this.#free.length > MAX_FREE) {
      let smallest = 0;
      for (const [i, b] of this.#free.entries()) {
        if (b.length < this.#free[smallest]!.length) smallest = i;
      }
      this.#free.splice(smallest, 1);
    }
  }

  /**
   * Reads `length` bytes at `offset` of `source`, into a pooled buffer when the source can
   * read in place and the read is large enough; `held` collects what to give back, which
   * the caller does only once every read into them has settled.
   */
  async read(
    source: ByteSource,
    offset: number,
    length: number,
    held: Uint8Array[],
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    if (!source.readInto || length < MIN_SCRATCH) return source.read(offset, length, { signal });
    const target = this.take(length);
    held.push(target);
    return source.readInto(offset, target, { signal });
  }
}
