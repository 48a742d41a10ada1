// HTTP byte sources: Range GET reads, HEAD for the size. Browser-safe (fetch only).

import { OptionsError } from "../errors.js";
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
  /**
   * How many times a request is repeated after a connection error (reset, closed keep-alive
   * socket, body cut short) or an HTTP 429, 502, 503 or 504 (default 3; 0: never). Every
   * request here is a GET or HEAD of a byte range, so repeating it is safe. Never after an
   * aborted signal.
   */
  retries?: number;
  /** Wait before the first retry, doubled for each next one, with jitter (default 200 ms). */
  retryDelayMs?: number;
  /** The longest wait before a retry, also when a Retry-After header asks for more (10 s). */
  maxRetryDelayMs?: number;
  /**
   * When the server ignores Range (answers 200 with the whole file): keep that whole body,
   * if at most `maxFullReadBytes`, and serve every read from it (default false: such an
   * answer is a SourceError, as partial reads need a server that supports Range requests).
   */
  allowFullRead?: boolean;
  /** The largest file allowFullRead downloads whole (default 2 GiB). */
  maxFullReadBytes?: number;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 200;
const DEFAULT_MAX_RETRY_DELAY_MS = 10_000;
const DEFAULT_MAX_FULL_READ_BYTES = 2 ** 31;
/** Answers worth repeating: the server (or a proxy in front of it) is busy or restarting. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Failures a retry may cure, with the wait the server asked for (Retry-After, ms) if any.
 * Kept beside the errors rather than in them: the errors users see stay as they were.
 */
const transient = new WeakMap<
  SourceError,
  { status: number | undefined; retryAfterMs: number | undefined }
>();

function markTransient(err: SourceError, retryAfterMs?: number): SourceError {
  transient.set(err, { status: err.status, retryAfterMs });
  return err;
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Waits `ms`, or rejects with the signal's SourceError as soon as it is aborted. */
function pause(
  ms: number,
  name: string,
  range: [number, number] | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      try {
        throwIfAborted(name, range, signal);
      } catch (err) {
        reject(err);
      }
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function checkOption(name: string, what: string, value: number | undefined, integer: boolean) {
  const ok = integer ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (value !== undefined && !(ok && value >= 0)) {
    throw new OptionsError(
      `${name}: ${what} must be a non-negative ${integer ? "integer" : "number"}, got ${value}`,
    );
  }
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
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #allowFullRead: boolean;
  readonly #maxFullReadBytes: number;
  #size: number | undefined;
  #sizePromise: Promise<number> | undefined;
  /** The whole file, once a server that ignores Range sent it (allowFullRead). */
  #whole: Promise<Uint8Array> | undefined;

  constructor(url: string | URL, options: HttpOptions = {}) {
    this.url = new URL(url);
    this.name = this.url.href;
    this.stats = options.stats ?? newStats();
    this.#fetch = options.fetch ?? defaultFetch;
    this.#headers = { ...options.headers };
    checkOption(this.name, "retries", options.retries, true);
    checkOption(this.name, "retryDelayMs", options.retryDelayMs, false);
    checkOption(this.name, "maxRetryDelayMs", options.maxRetryDelayMs, false);
    checkOption(this.name, "maxFullReadBytes", options.maxFullReadBytes, true);
    this.#retries = options.retries ?? DEFAULT_RETRIES;
    this.#retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.#allowFullRead = options.allowFullRead === true;
    this.#maxFullReadBytes = options.maxFullReadBytes ?? DEFAULT_MAX_FULL_READ_BYTES;
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

  /** A failed fetch or body read as a SourceError; connection failures may be retried. */
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
    return markTransient(
      new SourceError(this.name, range, `network error (${detail})`, { cause: err }),
    );
  }

  /** An HTTP error answer as a SourceError; busy or unavailable servers may be retried. */
  #statusFailure(range: [number, number] | undefined, res: Response, detail = ""): SourceError {
    const err = new SourceError(this.name, range, `${statusText(res)}${detail}`, {
      status: res.status,
    });
    if (!RETRY_STATUSES.has(res.status)) return err;
    return markTransient(err, parseRetryAfter(res.headers.get("Retry-After")));
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or `retries` repeats have failed too
   * (then the error says how many attempts were made). Waits between attempts: doubling
   * from retryDelayMs with jitter, or what Retry-After asks, at most maxRetryDelayMs.
   */
  async #withRetries<T>(
    range: [number, number] | undefined,
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const retry = err instanceof SourceError ? transient.get(err) : undefined;
        if (!(err instanceof SourceError) || retry === undefined || signal?.aborted) throw err;
        if (n > this.#retries) {
          if (n === 1) throw err;
          throw new SourceError(err.sourceName, err.range, `${err.problem} (${n} attempts)`, {
            cause: err,
            ...(err.status === undefined ? {} : { status: err.status }),
            attempts: n,
          });
        }
        // A connection error is mostly a kept-alive socket the server closed meanwhile: the
        // first retry, on a new connection, goes at once. Busy servers get time.
        const step = retry.status === undefined ? n - 2 : n - 1;
        const backoff = step < 0 ? 0 : this.#retryDelayMs * 2 ** step * (0.75 + Math.random() / 2);
        const wait = Math.min(retry.retryAfterMs ?? backoff, this.#maxRetryDelayMs);
        await pause(wait, this.name, range, signal);
      }
    }
  }

  #learnSize(total: number | undefined): void {
    if (total !== undefined && this.#size === undefined) this.#size = total;
  }

  /** Total size: HEAD's Content-Length, or a 1-byte Range GET's Content-Range when HEAD fails. */
  size(): Promise<number> {
    if (this.#size !== undefined) return Promise.resolve(this.#size);
    if (this.#sizePromise === undefined) {
      this.#sizePromise = this.#withRetries(undefined, undefined, () => this.#fetchSize()).then(
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
    throw this.#statusFailure(undefined, head);
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
    if (res.status === 200 && this.#allowFullRead) {
      return (await this.#keepWhole(res, range, undefined)).length;
    }
    await discardBody(res);
    if (res.status === 416) {
      // An empty file: "Content-Range: bytes */0".
      const total = parseContentRange(res.headers.get("Content-Range"))?.total;
      if (total !== undefined) return total;
    }
    if (res.status === 200) throw this.#rangeIgnored(range);
    throw this.#statusFailure(range, res);
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

  #rangeIgnored(range: [number, number]): SourceError {
    return new SourceError(
      this.name,
      range,
      "server ignored the Range header (HTTP 200): partial reads need a server that supports " +
        "Range requests (or allowFullRead: true to download the whole file)",
      { status: 200 },
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
    for (;;) {
      const whole = this.#whole;
      if (whole === undefined) break;
      let bytes: Uint8Array;
      try {
        bytes = await whole;
      } catch (err) {
        // Another read's download failed (or was aborted): this read asks on its own.
        if (this.#whole === whole) throw err;
        continue;
      }
      throwIfAborted(this.name, range, signal);
      return this.#cut(bytes, offset, length, range);
    }
    return this.#withRetries(range, signal, () => this.#readOnce(offset, length, range, signal));
  }

  /** Bytes [offset, offset + length) of the whole file kept by allowFullRead. */
  #cut(whole: Uint8Array, offset: number, length: number, range: [number, number]): Uint8Array {
    if (offset + length > whole.length) {
      throw new SourceError(this.name, range, `past the end (${whole.length} bytes)`);
    }
    this.stats.requests += 1; // a read served, as MemorySource counts them
    return whole.subarray(offset, offset + length);
  }

  async #readOnce(
    offset: number,
    length: number,
    range: [number, number],
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const res = await this.#send(
      range,
      { headers: this.#requestHeaders(`bytes=${range[0]}-${range[1]}`) },
      signal,
    );
    if (res.status !== 206) {
      if (res.status === 200 && this.#allowFullRead) {
        const whole = await this.#keepWhole(res, range, signal);
        return this.#cut(whole, offset, length, range);
      }
      await discardBody(res);
      if (res.status === 200) throw this.#rangeIgnored(range);
      if (res.status === 416) {
        const total = parseContentRange(res.headers.get("Content-Range"))?.total;
        this.#learnSize(total);
        const detail = total === undefined ? "" : `, past the end (${total} bytes)`;
        throw this.#statusFailure(range, res, detail);
      }
      throw this.#statusFailure(range, res);
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
    const { body, received, excess } = await this.#readBody(res, length, range, signal);
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
    return body;
  }

  /**
   * Reads a body into `length` bytes: how many arrived, and whether more than `length` did
   * (the rest is not read). A connection lost mid-body is a (retryable) network error.
   */
  async #readBody(
    res: Response,
    length: number,
    range: [number, number],
    signal: AbortSignal | undefined,
  ): Promise<{ body: Uint8Array; received: number; excess: boolean }> {
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
    return { body: out, received, excess };
  }

  /**
   * allowFullRead: keeps the whole file a 200 answer carries (once: a concurrent read that
   * also got one throws its copy away and waits for the first).
   */
  async #keepWhole(
    res: Response,
    range: [number, number],
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    if (this.#whole !== undefined) {
      await discardBody(res);
      return this.#whole;
    }
    const whole = this.#downloadWhole(res, range, signal);
    this.#whole = whole;
    whole.catch(() => {
      if (this.#whole === whole) this.#whole = undefined;
    });
    return whole;
  }

  async #downloadWhole(
    res: Response,
    range: [number, number],
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const header = res.headers.get("Content-Length");
    const declared = header !== null && /^\s*\d+\s*$/.test(header) ? Number(header) : undefined;
    const expected = declared ?? this.#size;
    const max = this.#maxFullReadBytes;
    const tooLarge = (bytes: number | string) =>
      new SourceError(
        this.name,
        range,
        `server ignored the Range header (HTTP 200) and the whole file (${bytes} bytes) is above maxFullReadBytes (${max})`,
        { status: 200 },
      );
    if (expected !== undefined && expected > max) {
      await discardBody(res);
      throw tooLarge(expected);
    }
    let body: Uint8Array;
    if (expected !== undefined) {
      const got = await this.#readBody(res, expected, range, signal);
      if (got.excess) {
        throw new SourceError(
          this.name,
          range,
          `long read: server sent more than ${expected} bytes`,
          { status: 200 },
        );
      }
      if (got.received < expected) {
        throw markTransient(
          new SourceError(
            this.name,
            range,
            `short read of the whole file: got ${got.received} of ${expected} bytes`,
            { status: 200 },
          ),
        );
      }
      body = got.body;
    } else {
      body = await this.#readUnsized(res, range, signal, () => tooLarge(`more than ${max}`));
    }
    const received = body.length;
    if (this.#size !== undefined && received !== this.#size) {
      throw new SourceError(
        this.name,
        range,
        `the whole file is ${received} bytes, its size was ${this.#size}`,
        { status: 200 },
      );
    }
    this.#size = received;
    return body;
  }

  /** A body of unknown length (no Content-Length), refused once it passes maxFullReadBytes. */
  async #readUnsized(
    res: Response,
    range: [number, number],
    signal: AbortSignal | undefined,
    tooLarge: () => SourceError,
  ): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      if (res.body === null) {
        const body = new Uint8Array(await res.arrayBuffer());
        this.stats.bytesRead += body.length;
        parts.push(body);
        total = body.length;
      } else {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.stats.bytesRead += value.length;
          total += value.length;
          if (total > this.#maxFullReadBytes) {
            await reader.cancel().catch(() => {});
            break;
          }
          parts.push(value);
        }
      }
    } catch (err) {
      throw this.#failure(range, err, signal);
    }
    if (total > this.#maxFullReadBytes) throw tooLarge();
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
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
