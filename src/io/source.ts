// Byte sources: one small async "read this range" interface over memory, local files and HTTP.
// Browser-safe: no node: imports here. The Node file source (./file.js) is loaded through
// "#platform" (./platform-node.ts), and only when openSource is given a local path.

import { ZarrBlosc2Error } from "../errors.js";
import { HttpDirectory, type HttpOptions, HttpSource } from "./http.js";

/** Counters shared by every source opened for one array. */
export interface SourceStats {
  /** Bytes received (for HTTP: body bytes actually transferred, HEAD counts 0). */
  bytesRead: number;
  /** Requests issued: one per non-empty read (file or HTTP), plus HTTP HEAD / size probes. */
  requests: number;
}

/** Random access to the bytes of one file, blob or URL. */
export interface ByteSource {
  /** Path or URL, for error messages. */
  readonly name: string;
  /** Shared counters. */
  readonly stats: SourceStats;
  /** Total bytes (cached after the first call). */
  size(): Promise<number>;
  /** Exactly `length` bytes starting at `offset`, or a SourceError. */
  read(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /**
   * Optional: reads `target.length` bytes starting at `offset` into `target` and returns it.
   * Sources that can read in place (local files) offer it so that readers can reuse buffers
   * instead of leaving one new array per read for the garbage collector.
   */
  readInto?(
    offset: number,
    target: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** A directory of named files: a sparse b2nd frame (chunks.b2frame + 00000000.chunk ...). */
export interface DirectorySource {
  readonly name: string;
  readonly stats: SourceStats;
  /** The file `name` inside the directory; it shares the directory's stats. Opened lazily. */
  file(name: string): ByteSource;
  close?(): Promise<void>;
}

/** Reading bytes from a source failed. The message names the source and the byte range. */
export class SourceError extends ZarrBlosc2Error {
  override name = "SourceError";
  /** The HTTP status when the failure is an HTTP answer. */
  readonly status: number | undefined;
  /** How many times the request was made, when it was retried (HTTP sources). */
  readonly attempts: number | undefined;
  constructor(
    /** Path or URL of the source. */
    readonly sourceName: string,
    /** The byte range that was requested, first and last byte inclusive (like HTTP), if any. */
    readonly range: [number, number] | undefined,
    /** What went wrong. */
    readonly problem: string,
    options?: { cause?: unknown; status?: number; attempts?: number },
  ) {
    super(
      range === undefined
        ? `${sourceName}: ${problem}`
        : `${sourceName} bytes ${range[0]}-${range[1]}: ${problem}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.status = options?.status;
    this.attempts = options?.attempts;
  }
}

export function newStats(): SourceStats {
  return { bytesRead: 0, requests: 0 };
}

/** The inclusive byte range [offset, offset + length - 1] used in error messages. */
export function byteRange(offset: number, length: number): [number, number] {
  return [offset, offset + length - 1];
}

/**
 * Validates a read request: offset and length are non-negative integers and, when `size` is
 * known, offset + length <= size. Throws a SourceError naming the source and range.
 */
export function checkRange(name: string, offset: number, length: number, size?: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SourceError(
      name,
      byteRange(offset, length),
      `invalid offset ${offset} (must be a non-negative integer)`,
    );
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new SourceError(
      name,
      byteRange(offset, length),
      `invalid length ${length} (must be a non-negative integer)`,
    );
  }
  if (size !== undefined && offset + length > size) {
    throw new SourceError(name, byteRange(offset, length), `past the end (${size} bytes)`);
  }
}

/** Splits a relative file name into URL-encoded segments; rejects names that escape the base. */
export function safeRelativeName(dirName: string, name: string): string[] {
  const segments = name.split(/[/\\]/);
  if (
    name.length === 0 ||
    segments.some((s) => s === "" || s === "." || s === "..") ||
    /^[a-z][a-z0-9+.-]*:/i.test(name)
  ) {
    throw new SourceError(dirName, undefined, `invalid file name ${JSON.stringify(name)}`);
  }
  return segments;
}

/** Human-readable text for an abort reason or an error cause. */
export function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message || reason.name;
  if (reason !== null && typeof reason === "object" && "message" in reason) {
    return String((reason as { message: unknown }).message);
  }
  return String(reason);
}

/** Throws a SourceError "aborted (reason)" if `signal` is aborted. */
export function throwIfAborted(
  name: string,
  range: [number, number] | undefined,
  signal: AbortSignal | undefined,
): void {
  if (signal?.aborted) {
    throw new SourceError(name, range, `aborted (${describeReason(signal.reason)})`, {
      cause: signal.reason,
    });
  }
}

/** Bytes held in memory. Reads return views into the given array (no copy): do not mutate. */
export class MemorySource implements ByteSource {
  readonly stats: SourceStats;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = "memory",
    stats?: SourceStats,
  ) {
    this.stats = stats ?? newStats();
  }

  async size(): Promise<number> {
    return this.bytes.length;
  }

  async read(
    offset: number,
    length: number,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.bytes.length);
    if (length === 0) return new Uint8Array(0);
    throwIfAborted(this.name, byteRange(offset, length), options?.signal);
    this.stats.requests += 1;
    this.stats.bytesRead += length;
    return this.bytes.subarray(offset, offset + length);
  }
}

/** True for a DirectorySource (has file()), false for a ByteSource. */
export function isDirectorySource(source: ByteSource | DirectorySource): source is DirectorySource {
  return typeof (source as DirectorySource).file === "function";
}

function isSourceObject(input: unknown): input is ByteSource | DirectorySource {
  return (
    typeof input === "object" &&
    input !== null &&
    (typeof (input as ByteSource).read === "function" ||
      typeof (input as DirectorySource).file === "function")
  );
}

export interface OpenSourceOptions
  extends Pick<
    HttpOptions,
    "retries" | "retryDelayMs" | "maxRetryDelayMs" | "allowFullRead" | "maxFullReadBytes"
  > {
  /** Counters to share (default: a new one). */
  stats?: SourceStats;
  /** fetch implementation for HTTP (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Extra HTTP request headers (e.g. Authorization). */
  headers?: Record<string, string>;
}

/**
 * Opens bytes or a directory of files:
 * - a ByteSource or DirectorySource is returned as is;
 * - Uint8Array / ArrayBuffer → MemorySource;
 * - http(s) URL (string or URL) → HttpDirectory if its path ends with "/", otherwise HttpSource
 *   (its size is fetched now; if that answers 404 and `<url>/chunks.b2frame` exists, an
 *   HttpDirectory for `<url>/`);
 * - a `file:` URL or any other string → local path (Node only): FileDirectory or FileSource.
 */
export async function openSource(
  input: string | URL | Uint8Array | ArrayBuffer | ByteSource | DirectorySource,
  options: OpenSourceOptions = {},
): Promise<ByteSource | DirectorySource> {
  const stats = options.stats ?? newStats();
  if (input instanceof Uint8Array) return new MemorySource(input, "memory", stats);
  if (input instanceof ArrayBuffer) return new MemorySource(new Uint8Array(input), "memory", stats);
  if (input instanceof URL) {
    if (input.protocol === "http:" || input.protocol === "https:") {
      return openHttp(input, stats, options);
    }
    if (input.protocol !== "file:") {
      throw new SourceError(input.href, undefined, `unsupported protocol "${input.protocol}"`);
    }
    return openLocal(input, stats);
  }
  if (typeof input === "string") {
    if (/^https?:\/\//i.test(input)) {
      let url: URL;
      try {
        url = new URL(input);
      } catch (cause) {
        throw new SourceError(input, undefined, "invalid URL", { cause });
      }
      return openHttp(url, stats, options);
    }
    // In a browser there are no local paths: a string is a URL relative to the page.
    const base = browserBase();
    if (base !== undefined) return openHttp(new URL(input, base), stats, options);
    return openLocal(input, stats);
  }
  if (isSourceObject(input)) return input;
  throw new SourceError(
    String(input),
    undefined,
    "cannot open: expected a path, URL, bytes or source",
  );
}

async function openLocal(
  input: string | URL,
  stats: SourceStats,
): Promise<ByteSource | DirectorySource> {
  const { localFiles } = await import("#platform");
  return (await localFiles()).openLocal(input, stats);
}

/** The page's URL when running in a browser or worker (not in Node). */
function browserBase(): string | undefined {
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    location?: { href: string };
  };
  if (g.process?.versions?.node !== undefined) return undefined;
  return g.location?.href;
}

async function openHttp(
  url: URL,
  stats: SourceStats,
  options: OpenSourceOptions,
): Promise<ByteSource | DirectorySource> {
  const { stats: _stats, ...rest } = options;
  const httpOptions: HttpOptions = { ...rest, stats };
  if (url.pathname.endsWith("/")) return new HttpDirectory(url, httpOptions);
  const source = new HttpSource(url, httpOptions);
  try {
    await source.size();
    return source;
  } catch (err) {
    if (!(err instanceof SourceError) || err.status !== 404) throw err;
    const dirUrl = new URL(url.href);
    dirUrl.pathname = `${dirUrl.pathname}/`;
    const dir = new HttpDirectory(dirUrl, httpOptions);
    try {
      await dir.file("chunks.b2frame").size();
    } catch {
      throw err;
    }
    return dir;
  }
}
