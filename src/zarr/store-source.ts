// A ByteSource over one key of a zarrita store, read with getRange: a whole b2nd frame (one Zarr
// chunk) or a region of a shard (one inner chunk). The first read of a frame of unknown size
// fetches its first 8 KiB, which hold frame_len, and keeps them for the header parse.
import type { AbsolutePath, AsyncReadable, RangeQuery } from "@zarrita/storage";
import { FormatError } from "../errors.js";
import { FRAME_PREFIX_LENGTH, framePrefix } from "../format/frame.js";
import {
  type ByteSource,
  byteRange,
  checkRange,
  SourceError,
  type SourceStats,
} from "../io/source.js";

/** What zarrita stores look like for reading (sync or async). */
export interface RangeStore {
  get(
    key: AbsolutePath,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  getRange?(
    key: AbsolutePath,
    range: RangeQuery,
    opts?: { signal?: AbortSignal },
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

const PREFIX_BYTES = 8192;

/** Thrown (and caught by the reader) when the key does not exist: the chunk is missing. */
export class MissingChunk extends Error {}

/** getRange that counts the request and the bytes, and turns failures into SourceErrors. */
export async function storeRange(
  store: RangeStore,
  key: AbsolutePath,
  range: RangeQuery,
  stats: SourceStats,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  stats.requests++;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await (store as AsyncReadable).getRange!(key, range, { signal });
  } catch (cause) {
    const where = "suffixLength" in range ? undefined : byteRange(range.offset, range.length);
    throw new SourceError(
      key,
      where,
      `store read failed: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
      },
    );
  }
  if (bytes) stats.bytesRead += bytes.length;
  return bytes;
}

export class StoreRangeSource implements ByteSource {
  private prefix: Uint8Array | undefined;
  private knownSize: number | undefined;

  constructor(
    private readonly store: RangeStore,
    private readonly key: AbsolutePath,
    readonly stats: SourceStats,
    /** Where the frame starts inside the stored object (a shard's inner chunk), and its length. */
    private readonly base = 0,
    length?: number,
    readonly name: string = key,
  ) {
    this.knownSize = length;
  }

  async size(): Promise<number> {
    if (this.knownSize !== undefined) return this.knownSize;
    const bytes = await storeRange(
      this.store,
      this.key,
      { offset: this.base, length: PREFIX_BYTES },
      this.stats,
    );
    if (bytes === undefined) throw new MissingChunk(this.key);
    const { frameLength } = framePrefix(bytes.subarray(0, FRAME_PREFIX_LENGTH), this.name);
    // Some stores pad a short read with zeros: only the frame's own bytes count.
    if (bytes.length < Math.min(frameLength, PREFIX_BYTES)) {
      throw new FormatError(
        this.name,
        `frame length ${frameLength} exceeds the ${bytes.length} bytes stored`,
      );
    }
    this.prefix = bytes.subarray(0, Math.min(bytes.length, frameLength));
    this.knownSize = frameLength;
    return frameLength;
  }

  async read(
    offset: number,
    length: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.knownSize);
    if (length === 0) return new Uint8Array(0);
    if (this.prefix && offset + length <= this.prefix.length)
      return this.prefix.subarray(offset, offset + length);
    const bytes = await storeRange(
      this.store,
      this.key,
      { offset: this.base + offset, length },
      this.stats,
      options.signal,
    );
    if (bytes === undefined)
      throw new SourceError(this.name, byteRange(offset, length), "no longer in the store");
    if (bytes.length < length) {
      throw new SourceError(
        this.name,
        byteRange(offset, length),
        `short read: got ${bytes.length} of ${length} bytes`,
      );
    }
    return bytes.length === length ? bytes : bytes.subarray(0, length);
  }
}
