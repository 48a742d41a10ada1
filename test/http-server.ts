// A local static HTTP server for tests: HEAD, single-range GET, and ways to misbehave on purpose.

import { open, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve, sep } from "node:path";

export interface RecordedRequest {
  method: string;
  /** The request path as sent (with the query string, if any). */
  path: string;
  /** The Range header, if any. */
  range?: string;
  /** The status answered (0 if the client went away before the answer). */
  status: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface TestServer {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:40123". */
  url: string;
  requests: RecordedRequest[];
  /**
   * The options in force: the object given to startServer (or a new one), read on every
   * request, so a test can make the server misbehave and then behave again.
   */
  options: ServerOptions;
  close(): Promise<void>;
}

/** What statusFor is told about a request. */
export interface RequestInfo {
  method: string;
  /** The path without the query string, e.g. "/f.b2nd". */
  path: string;
  /** The Range header, if any. */
  range?: string;
  /** The first byte the Range header asks for (suffix ranges: undefined). */
  rangeStart?: number;
  /** 1 for the first request this server received, 2 for the next... */
  n: number;
}

export interface ServerOptions {
  /** Answer every GET with 200 and the whole file, as if Range were not supported. */
  ignoreRange?: boolean;
  /** Answer every request with this status (and a short text body for GET). */
  status?: number;
  /** Answer HEAD with 405 Method Not Allowed. */
  noHead?: boolean;
  /** Send at most this many body bytes (Content-Length says so too; Content-Range is unchanged). */
  truncateBodyTo?: number;
  /** Wait this long before answering each request. */
  delayMs?: number;
  /** Answer normally this many requests, then every later one with failStatus (default 500). */
  failAfter?: number;
  failStatus?: number;
  /** A status to answer this request with instead (undefined: answer normally). */
  statusFor?: (request: RequestInfo) => number | undefined;
  /**
   * Answer a Range request with the bytes this many bytes further on, Content-Range saying so
   * truthfully (a server answering another range than asked).
   */
  wrongContentRange?: number;
  /**
   * Send the headers (with the full Content-Length) and this many body bytes, then destroy
   * the connection (bodies no longer than this are sent whole).
   */
  dropConnectionAfterBytes?: number;
  /** Per request: drop the connection after this many body bytes (undefined: do not). */
  dropConnectionFor?: (request: RequestInfo) => number | undefined;
  /**
   * Answer requests for missing files with this status and an HTML page (text/html), as
   * single-page-app and some static servers do (default: 404 with a short text).
   */
  missingPage?: number;
  /** A Retry-After header sent with every forced status (status, failAfter, statusFor). */
  retryAfter?: string;
  /** Send the headers and half the body, wait this long, then send the rest. */
  slowBodyMs?: number;
  /**
   * Content-Type by file extension (.html, .js, .mjs, .json, .wasm, .map) instead of
   * application/octet-stream for everything: browsers load module scripts only when they are
   * served as JavaScript.
   */
  contentTypes?: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
};

function contentTypeOf(file: string): string {
  const ext = /\.[^./]+$/.exec(file)?.[0] ?? "";
  return CONTENT_TYPES[ext] ?? "application/octet-stream";
}

/** The first byte of a "bytes=a-b" or "bytes=a-" header; undefined for suffix or no ranges. */
function rangeStartOf(header: string | undefined): number | undefined {
  const m = header === undefined ? null : /^bytes=(\d+)-\d*$/.exec(header.trim());
  return m ? Number(m[1]) : undefined;
}

/** Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n". undefined: malformed (ignore it). */
function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Number(m[2]);
  if (end < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

export async function startServer(root: string, options: ServerOptions = {}): Promise<TestServer> {
  const rootDir = await realpath(resolve(root));
  const requests: RecordedRequest[] = [];
  const live = options;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function resolveFile(pathname: string): Promise<string | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes("\0")) return undefined;
    const full = resolve(rootDir, `.${decoded}`);
    if (full !== rootDir && !full.startsWith(rootDir + sep)) return undefined;
    try {
      // Symbolic links must not lead outside the root either.
      const real = await realpath(full);
      if (real !== rootDir && !real.startsWith(rootDir + sep)) return undefined;
      return real;
    } catch {
      return undefined;
    }
  }

  async function readSlice(path: string, start: number, length: number): Promise<Buffer> {
    const handle = await open(path, "r");
    try {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await handle.close();
    }
  }

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    n: number,
  ): Promise<void> {
    let dropAfter: number | undefined = live.dropConnectionAfterBytes;
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer) => {
      if (res.destroyed || closed) return;
      let payload = body && req.method !== "HEAD" ? body : undefined;
      if (payload && live.truncateBodyTo !== undefined) {
        payload = payload.subarray(0, Math.max(0, live.truncateBodyTo));
      }
      const contentLength =
        req.method === "HEAD" ? (headers["Content-Length"] ?? 0) : (payload?.length ?? 0);
      res.writeHead(status, { ...headers, "Content-Length": contentLength });
      record.status = status;
      const drop = dropAfter;
      if (payload && drop !== undefined && payload.length > drop) {
        // Headers promise the whole body; the connection dies after `drop` bytes.
        record.bytes = drop;
        res.flushHeaders();
        if (drop > 0) res.write(payload.subarray(0, drop));
        const timer = setTimeout(() => {
          timers.delete(timer);
          res.destroy();
        }, 20);
        timers.add(timer);
        return;
      }
      const slow = live.slowBodyMs;
      if (payload && slow !== undefined && slow > 0 && payload.length > 1) {
        const half = Math.floor(payload.length / 2);
        record.bytes = payload.length;
        res.write(payload.subarray(0, half));
        const rest = payload.subarray(half);
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed && !closed) res.end(rest);
        }, slow);
        timers.add(timer);
        return;
      }
      record.bytes = payload?.length ?? 0;
      res.end(payload);
    };
    const text = (status: number, message: string, extra: Record<string, string> = {}) =>
      send(status, { "Content-Type": "text/plain", ...extra }, Buffer.from(`${message}\n`));

    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    const request: RequestInfo = {
      method: req.method ?? "",
      path: pathname,
      ...(req.headers.range === undefined ? {} : { range: req.headers.range }),
      ...(rangeStartOf(req.headers.range) === undefined
        ? {}
        : { rangeStart: rangeStartOf(req.headers.range) }),
      n,
    };
    const forced =
      live.status ??
      (live.failAfter !== undefined && n > live.failAfter ? (live.failStatus ?? 500) : undefined) ??
      live.statusFor?.(request);
    if (forced !== undefined) {
      const extra: Record<string, string> =
        live.retryAfter === undefined ? {} : { "Retry-After": live.retryAfter };
      return text(forced, `status ${forced}`, extra);
    }
    dropAfter = live.dropConnectionFor?.(request) ?? live.dropConnectionAfterBytes;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(405, { Allow: "GET, HEAD" });
    }
    if (req.method === "HEAD" && live.noHead) return send(405, { Allow: "GET" });
    const missing = () =>
      live.missingPage === undefined
        ? text(404, "not found")
        : send(
            live.missingPage,
            { "Content-Type": "text/html; charset=utf-8" },
            Buffer.from("<!doctype html><html><body><h1>Not here</h1></body></html>\n"),
          );
    const file = await resolveFile(pathname);
    if (file === undefined) return missing();
    const info = await stat(file);
    if (!info.isFile()) return missing();
    const size = info.size;
    const base = {
      "Content-Type": live.contentTypes ? contentTypeOf(file) : "application/octet-stream",
      "Accept-Ranges": "bytes",
    };
    const rangeHeader = req.headers.range;
    const range =
      rangeHeader !== undefined && !live.ignoreRange ? parseRange(rangeHeader, size) : undefined;
    if (range === "unsatisfiable") {
      return send(416, { ...base, "Content-Range": `bytes */${size}` });
    }
    if (range === undefined) {
      if (req.method === "HEAD") return send(200, { ...base, "Content-Length": size });
      return send(200, base, await readSlice(file, 0, size));
    }
    const shift = live.wrongContentRange ?? 0;
    if (shift !== 0) {
      // Another range of the same length, as far along as the file allows.
      const length = range.end - range.start + 1;
      range.start = Math.min(Math.max(range.start + shift, 0), Math.max(size - length, 0));
      range.end = range.start + length - 1;
    }
    const length = range.end - range.start + 1;
    const headers = { ...base, "Content-Range": `bytes ${range.start}-${range.end}/${size}` };
    if (req.method === "HEAD") return send(206, { ...headers, "Content-Length": length });
    return send(206, headers, await readSlice(file, range.start, length));
  }

  let count = 0;
  const server = createServer((req, res) => {
    const n = ++count;
    const record: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      status: 0,
      bytes: 0,
    };
    if (req.headers.range !== undefined) record.range = req.headers.range;
    requests.push(record);
    const run = () => {
      answer(req, res, record, n).catch((err: unknown) => {
        if (res.destroyed || closed) return;
        if (!res.headersSent) {
          record.status = 500;
          res.writeHead(500, { "Content-Type": "text/plain" });
          res.end(`${String(err)}\n`);
        } else {
          res.destroy();
        }
      });
    };
    if (live.delayMs !== undefined && live.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        run();
      }, live.delayMs);
      timers.add(timer);
    } else {
      run();
    }
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    options: live,
    close() {
      if (closing === undefined) {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        closing = new Promise<void>((resolvePromise, reject) => {
          server.close((err) => (err ? reject(err) : resolvePromise()));
          server.closeAllConnections();
        });
      }
      return closing;
    },
  };
}
