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
  describeReason,
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

/**
 * The name of `key` in error messages: its URL for stores that have one (zarrita's
 * FetchStore resolves keys against `store.url` this way), its path for stores with a `root`
 * directory (FileSystemStore), else the key itself.
 */
export function keyName(store: RangeStore, key: AbsolutePath): string {
  const { url, root } = store as { url?: unknown; root?: unknown };
  // A FileSystemStore's key is a file under its root directory.
  if (typeof root === "string" && root !== "") return `${root.replace(/[/\\]+$/, "")}${key}`;
  if (typeof url !== "string" && !(url instanceof URL)) return key;
  try {
    const base = new URL(url);
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    const resolved = new URL(key.slice(1), base);
    resolved.search = base.search;
    return resolved.href;
  } catch {
    return key;
  }
}

/** A failed store read as a SourceError naming the key (its URL) and the byte range. */
export function storeFailure(
  store: RangeStore,
  key: AbsolutePath,
  range: RangeQuery | undefined,
  cause: unknown,
  signal?: AbortSignal,
): SourceError {
  if (cause instanceof SourceError) return cause;
  const where =
    range === undefined || "suffixLength" in range
      ? undefined
      : byteRange(range.offset, range.length);
  const suffix =
    range !== undefined && "suffixLength" in range ? ` (last ${range.suffixLength} bytes)` : "";
  const problem = signal?.aborted
    ? `aborted (${describeReason(signal.reason)})`
    : `store read failed${suffix}: ${describeReason(cause)}`;
  return new SourceError(keyName(store, key), where, problem, { cause });
}

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
    signal?.throwIfAborted();
    bytes = await (store as AsyncReadable).getRange!(key, range, { signal });
  } catch (cause) {
    throw storeFailure(store, key, range, cause, signal);
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
    /** For error messages (default: the key's URL, or the key). */
    readonly name: string = keyName(store, key),
    /** Aborts every read of this source, also those not given a signal (the size probe). */
    private readonly signal?: AbortSignal,
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
      this.signal,
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
      options.signal ?? this.signal,
    );
    if (bytes === undefined) throw this.failure(offset, length, "no longer in the store");
    if (bytes.length < length) {
      throw this.failure(offset, length, `short read: got ${bytes.length} of ${length} bytes`);
    }
    if (bytes.length > length) {
      // Which bytes these are is unknown (a server that ignores Range sends the whole object).
      throw this.failure(
        offset,
        length,
        `long read: the store returned ${bytes.length} bytes for ${length} (does the server ignore Range requests?)`,
      );
    }
    return bytes;
  }

  /** A SourceError naming the stored object and the range inside it (as storeRange does). */
  private failure(offset: number, length: number, problem: string): SourceError {
    const object = keyName(this.store, this.key);
    return new SourceError(
      object,
      byteRange(this.base + offset, length),
      this.name === object ? problem : `${problem} (${this.name})`,
    );
  }
}
