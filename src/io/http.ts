// HTTP byte sources: Range GET reads, HEAD for the size. Browser-safe (fetch only).

import {
  type ByteSource,
  byteRange,
  checkRange,
  type DirectorySource,
  describeReason,
  newStats,
  SourceError,
  type SourceStats,
  safeRelativeName,
  throwIfAborted,
} from "./source.js";

export interface HttpOptions {
  /** Counters to share (default: a new one). */
  stats?: SourceStats;
  /** fetch implementation (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. Authorization). A Range header given here is replaced. */
  headers?: Record<string, string>;
}

type FetchFn = typeof fetch;

const defaultFetch: FetchFn = (input, init) => globalThis.fetch(input, init);

function statusText(res: Response): string {
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
}

/** Parses "bytes a-b/total" (or "bytes * /total"). Missing or "*" parts are undefined. */
function parseContentRange(
  header: string | null,
): { start?: number; end?: number; total?: number } | undefined {
  if (header === null) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*\/\s*(\d+|\*)\s*$/i.exec(header);
  if (!m) return undefined;
  return {
    start: m[1] === undefined ? undefined : Number(m[1]),
    end: m[2] === undefined ? undefined : Number(m[2]),
    total: m[3] === undefined || m[3] === "*" ? undefined : Number(m[3]),
  };
}

async function discardBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // The body is being thrown away; failures to cancel do not matter.
  }
}

/** A file served over HTTP(S), read with Range requests. */
export class HttpSource implements ByteSource {
  readonly name: string;
  readonly url: URL;
  readonly stats: SourceStats;
  readonly #fetch: FetchFn;
  readonly #headers: Record<string, string>;
  #size: number | undefined;
  #sizePromise: Promise<number> | undefined;

  constructor(url: string | URL, options: HttpOptions = {}) {
    this.url = new URL(url);
    this.name = this.url.href;
    this.stats = options.stats ?? newStats();
    this.#fetch = options.fetch ?? defaultFetch;
    this.#headers = { ...options.headers };
  }

  #requestHeaders(range?: string): Headers {
    const headers = new Headers(this.#headers);
    if (range !== undefined) headers.set("Range", range);
    return headers;
  }

  /** fetch, turning network failures and aborts into SourceErrors. Counts the request. */
  async #send(
    range: [number, number] | undefined,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    throwIfAborted(this.name, range, signal);
    const doFetch = this.#fetch;
    this.stats.requests += 1;
    try {
      return await doFetch(this.url, signal ? { ...init, signal } : init);
    } catch (err) {
      throw this.#failure(range, err, signal);
    }
  }

  #failure(range: [number, number] | undefined, err: unknown, signal?: AbortSignal): SourceError {
    if (err instanceof SourceError) return err;
    if (signal?.aborted) {
      return new SourceError(this.name, range, `aborted (${describeReason(signal.reason)})`, {
        cause: err,
      });
    }
    if ((err as { name?: unknown })?.name === "AbortError") {
      return new SourceError(this.name, range, `aborted (${describeReason(err)})`, { cause: err });
    }
    const inner = (err as { cause?: unknown })?.cause;
    const detail =
      inner === undefined
        ? describeReason(err)
        : `${describeReason(err)}: ${describeReason((inner as { code?: unknown })?.code ?? inner)}`;
    return new SourceError(this.name, range, `network error (${detail})`, { cause: err });
  }

  #learnSize(total: number | undefined): void {
    if (total !== undefined && this.#size === undefined) this.#size = total;
  }

  /** Total size: HEAD's Content-Length, or a 1-byte Range GET's Content-Range when HEAD fails. */
  size(): Promise<number> {
    if (this.#size !== undefined) return Promise.resolve(this.#size);
    if (this.#sizePromise === undefined) {
      this.#sizePromise = this.#fetchSize().then(
        (size) => {
          this.#size = size;
          return size;
        },
        (err: unknown) => {
          this.#sizePromise = undefined;
          throw err;
        },
      );
    }
    return this.#sizePromise;
  }

  async #fetchSize(): Promise<number> {
    const head = await this.#send(
      undefined,
      { method: "HEAD", headers: this.#requestHeaders() },
      undefined,
    );
    await discardBody(head);
    if (head.ok) {
      const length = head.headers.get("Content-Length");
      if (length !== null && /^\s*\d+\s*$/.test(length)) return Number(length);
      // No usable Content-Length (e.g. chunked): ask for one byte instead.
      return this.#sizeFromRange();
    }
    if (head.status === 405 || head.status === 501) return this.#sizeFromRange();
    throw new SourceError(this.name, undefined, statusText(head), { status: head.status });
  }

  async #sizeFromRange(): Promise<number> {
    const range: [number, number] = [0, 0];
    const res = await this.#send(range, { headers: this.#requestHeaders("bytes=0-0") }, undefined);
    if (res.status === 206) {
      let body: Uint8Array;
      try {
        body = new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        throw this.#failure(range, err);
      }
      this.stats.bytesRead += body.length;
      const total = parseContentRange(res.headers.get("Content-Range"))?.total;
      if (total === undefined) throw this.#noContentRange(range, res);
      return total;
    }
    await discardBody(res);
    if (res.status === 416) {
      // An empty file: "Content-Range: bytes */0".
      const total = parseContentRange(res.headers.get("Content-Range"))?.total;
      if (total !== undefined) return total;
    }
    if (res.status === 200) {
      throw new SourceError(this.name, range, "server ignored the Range header (HTTP 200)", {
        status: 200,
      });
    }
    throw new SourceError(this.name, range, statusText(res), { status: res.status });
  }

  #noContentRange(range: [number, number], res: Response): SourceError {
    return new SourceError(
      this.name,
      range,
      `missing or unreadable Content-Range header (${JSON.stringify(res.headers.get("Content-Range"))}); ` +
        "a cross-origin server must expose it with Access-Control-Expose-Headers",
      { status: res.status },
    );
  }

  async read(
    offset: number,
    length: number,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.#size);
    if (length === 0) return new Uint8Array(0);
    const range = byteRange(offset, length);
    const signal = options?.signal;
    const res = await this.#send(
      range,
      { headers: this.#requestHeaders(`bytes=${range[0]}-${range[1]}`) },
      signal,
    );
    if (res.status !== 206) {
      await discardBody(res);
      if (res.status === 200) {
        throw new SourceError(this.name, range, "server ignored the Range header (HTTP 200)", {
          status: 200,
        });
      }
      if (res.status === 416) {
        const total = parseContentRange(res.headers.get("Content-Range"))?.total;
        this.#learnSize(total);
        const detail = total === undefined ? "" : `, past the end (${total} bytes)`;
        throw new SourceError(this.name, range, `${statusText(res)}${detail}`, { status: 416 });
      }
      throw new SourceError(this.name, range, statusText(res), { status: res.status });
    }
    const contentRange = parseContentRange(res.headers.get("Content-Range"));
    this.#learnSize(contentRange?.total);
    if (contentRange?.start !== undefined && contentRange.start !== offset) {
      await discardBody(res);
      throw new SourceError(
        this.name,
        range,
        `server answered another range (Content-Range: ${res.headers.get("Content-Range")})`,
        { status: 206 },
      );
    }
    const out = new Uint8Array(length);
    let received = 0;
    let excess = false;
    try {
      if (res.body === null) {
        // No stream (unusual fetch implementations): fall back to the whole body.
        const body = new Uint8Array(await res.arrayBuffer());
        this.stats.bytesRead += body.length;
        out.set(body.subarray(0, length));
        received = body.length;
        excess = body.length > length;
      } else {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.stats.bytesRead += value.length;
          if (received + value.length > length) {
            out.set(value.subarray(0, length - received), received);
            received += value.length;
            excess = true;
            await reader.cancel().catch(() => {});
            break;
          }
          out.set(value, received);
          received += value.length;
        }
      }
    } catch (err) {
      throw this.#failure(range, err, signal);
    }
    if (excess) {
      throw new SourceError(this.name, range, `long read: server sent more than ${length} bytes`, {
        status: 206,
      });
    }
    if (received < length) {
      const total = contentRange?.total;
      const detail =
        total !== undefined && offset + length > total ? `, past the end (${total} bytes)` : "";
      throw new SourceError(
        this.name,
        range,
        `short read: got ${received} of ${length} bytes${detail}`,
        { status: 206 },
      );
    }
    return out;
  }
}

/** A directory served over HTTP: `file(name)` is `new URL(name, base)`. */
export class HttpDirectory implements DirectorySource {
  readonly name: string;
  readonly url: URL;
  readonly stats: SourceStats;
  readonly #options: HttpOptions;
  readonly #files = new Map<string, HttpSource>();

  constructor(baseUrl: string | URL, options: HttpOptions = {}) {
    const url = new URL(baseUrl);
    if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
    this.url = url;
    this.name = url.href;
    this.stats = options.stats ?? newStats();
    this.#options = { ...options, stats: this.stats };
  }

  /** The HttpSource of `name` (cached: the same object for the same name). */
  file(name: string): HttpSource {
    let source = this.#files.get(name);
    if (source === undefined) {
      const path = safeRelativeName(this.name, name).map(encodeURIComponent).join("/");
      source = new HttpSource(new URL(path, this.url), this.#options);
      this.#files.set(name, source);
    }
    return source;
  }
}
