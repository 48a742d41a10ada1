// A file that may not exist anywhere as bytes: its size and validators are known up front and
// any byte range is produced on demand. The virtual Parquet file is one; the server
// (src/serve) serves any of them over HTTP and S3 with range requests.

/** Counters of what serving a ByteRangeFile has cost so far (summed over all reads). */
export interface ByteRangeStats {
  /** Bytes handed out by `read` and `stream`. */
  bytesProduced: number;
  /** b2nd blocks decompressed to produce them (0 when nothing had to be decoded). */
  blocksDecoded: number;
  /** Chunks touched to produce them. */
  chunksTouched: number;
  /** Bytes read from the underlying source (files, HTTP). */
  bytesRead: number;
  /** Requests made to the underlying source. */
  requests: number;
}

export interface ByteRangeFile {
  /** Total size in bytes, known without producing any byte. */
  readonly size: number;
  /** A strong HTTP validator, quoted (`"…"`): changes whenever any byte would change. */
  readonly etag: string;
  readonly lastModified: Date;
  /** Live counters; the server reports them per file. */
  readonly stats: ByteRangeStats;
  /**
   * Bytes [offset, offset + length) as successive pieces in order, each at most about
   * 1 MiB, produced only as the consumer pulls (so memory stays bounded whatever the length).
   * The range must lie inside [0, size). Errors are typed (ZarrBlosc2Error subclasses).
   */
  stream(offset: number, length: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** The same bytes in one buffer (for small ranges). */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** Releases files held open; later reads fail. */
  close?(): Promise<void>;
}

export function newByteRangeStats(): ByteRangeStats {
  return { bytesProduced: 0, blocksDecoded: 0, chunksTouched: 0, bytesRead: 0, requests: 0 };
}
