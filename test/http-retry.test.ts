// HTTP reads are repeated on connection resets and 429/502/503/504, a bounded number of
// times with backoff (Retry-After honoured up to a cap, never after an abort), and fail with
// a typed error naming the URL, the range and the attempts when retries run out. Faults come
// from test/http-server.ts; the real thing from nginx closing keep-alive connections.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SourceError } from "../src/index.js";
import { HttpSource } from "../src/io/http.js";
import { ensureBuilt, ROOT } from "./helpers.js";
import { type ServerOptions, startServer, type TestServer } from "./http-server.js";

let dir: string;
let server: TestServer;
const FILE = new Uint8Array(200_000).map((_, i) => (i * 2654435761) >>> 24);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "zb2-retry-"));
  writeFileSync(join(dir, "f.bin"), FILE);
  server = await startServer(dir);
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  const o = server.options as Record<keyof ServerOptions, unknown>;
  for (const key of Object.keys(o) as (keyof ServerOptions)[]) delete o[key];
});

const url = () => `${server.url}/f.bin`;
const fast = { retryDelayMs: 1 };

/** Requests the server received for this Range header. */
function tries(range: string): number {
  return server.requests.filter((r) => r.range === range).length;
}

/** Answers the first `n` requests of every range with `status`, then the file. */
function failFirst(n: number, status: number): void {
  const seen = new Map<string, number>();
  server.options.statusFor = (r) => {
    const key = `${r.method} ${r.range}`;
    const k = (seen.get(key) ?? 0) + 1;
    seen.set(key, k);
    return k <= n ? status : undefined;
  };
}

describe("HttpSource retries", () => {
  it("a connection reset mid-body is read again", async () => {
    const seen = new Set<string>();
    server.options.dropConnectionFor = (r) => {
      if (r.range === undefined || seen.has(r.range)) return undefined;
      seen.add(r.range);
      return 1000;
    };
    const source = new HttpSource(url(), fast);
    const got = await source.read(5000, 50_000);
    expect(Buffer.from(got).equals(Buffer.from(FILE.subarray(5000, 55_000)))).toBe(true);
    expect(tries("bytes=5000-54999")).toBe(2);
  });

  it("without retries the reset is the error", async () => {
    server.options.dropConnectionAfterBytes = 1000;
    const source = new HttpSource(url(), { retries: 0 });
    const err = (await source.read(7000, 50_000).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/bytes 7000-56999: network error/);
    expect(err.attempts).toBeUndefined();
    expect(tries("bytes=7000-56999")).toBe(1);
  });

  it("503, 502, 504 and 429 then success; HEAD too", async () => {
    for (const status of [503, 502, 504, 429]) {
      failFirst(2, status);
      const source = new HttpSource(url(), fast);
      expect(await source.size()).toBe(FILE.length);
      const range = `bytes=${status}-${status + 99}`;
      const got = await source.read(status, 100);
      expect(Array.from(got)).toEqual(Array.from(FILE.subarray(status, status + 100)));
      expect(tries(range)).toBe(3);
    }
  });

  it("503 forever: a SourceError naming the URL, the range, the status and the attempts", async () => {
    server.options.status = 503;
    const source = new HttpSource(url(), { retries: 4, retryDelayMs: 1 });
    const err = (await source.read(100, 10).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`${url()} bytes 100-109: HTTP 503 Service Unavailable (5 attempts)`);
    expect(err.sourceName).toBe(url());
    expect(err.range).toEqual([100, 109]);
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(5);
    expect(tries("bytes=100-109")).toBe(5);
  });

  it("errors that a retry cannot cure are not retried", async () => {
    for (const status of [500, 404, 403]) {
      server.options.status = status;
      const source = new HttpSource(url(), fast);
      const range = `bytes=${status * 10}-${status * 10 + 9}`;
      const err = (await source.read(status * 10, 10).catch((e: unknown) => e)) as SourceError;
      expect(err.status).toBe(status);
      expect(tries(range)).toBe(1);
    }
    server.options.status = undefined;
    server.options.truncateBodyTo = 5; // a body that ends cleanly, short
    const err = (await new HttpSource(url(), fast).read(0, 10).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/short read/);
    expect(tries("bytes=0-9")).toBe(1);
  });

  it("Retry-After is waited for", async () => {
    failFirst(1, 503);
    server.options.retryAfter = "1";
    const source = new HttpSource(url(), { retryDelayMs: 1 });
    const t0 = Date.now();
    await source.read(300, 10);
    // A lower bound only: a timer never fires early, however loaded the machine.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(tries("bytes=300-309")).toBe(2);
  });

  it("a Retry-After of an hour waits at most maxRetryDelayMs", async () => {
    failFirst(1, 503);
    server.options.retryAfter = "3600";
    const source = new HttpSource(url(), { maxRetryDelayMs: 20 });
    const got = await source.read(400, 10);
    expect(Array.from(got)).toEqual(Array.from(FILE.subarray(400, 410)));
  }, 60_000);

  it("never retries after an abort, also not while waiting", async () => {
    server.options.status = 503;
    const controller = new AbortController();
    const source = new HttpSource(url(), { retryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    const pending = source.read(500, 10, { signal: controller.signal });
    // Abort once the first answer has come and the source is waiting to retry.
    while (!server.requests.some((r) => r.range === "bytes=500-509" && r.status === 503)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    controller.abort(new Error("user stop"));
    const err = (await pending.catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/bytes 500-509: aborted \(user stop\)/);
    await new Promise((r) => setTimeout(r, 50));
    expect(tries("bytes=500-509")).toBe(1);
  });

  it("rejects bad options", () => {
    expect(() => new HttpSource(url(), { retries: -1 })).toThrow(/retries must be/);
    expect(() => new HttpSource(url(), { retryDelayMs: Number.NaN })).toThrow(/retryDelayMs/);
  });
});

describe("nginx closing keep-alive connections", () => {
  // Made at test time: 2000 chunks of 10 x 100 int32, each read whole in one request.
  const SHAPE = [2000, 1000];
  const values = new Int32Array(SHAPE[0]! * SHAPE[1]!).map(
    (_, i) => (Math.imul(i, 2654435761) >>> 12) & 0xffff,
  );
  let nginx: Awaited<ReturnType<typeof import("./external-servers.js").startNginx>>;
  let lib: typeof import("../src/index.js");
  let pool: Awaited<ReturnType<typeof lib.createDecodePool>>;
  let data: string;

  beforeAll(async () => {
    // The pool's workers run dist/decode/pool-worker.js: use the built package.
    ensureBuilt();
    lib = (await import(`${ROOT}dist/index.js`)) as typeof import("../src/index.js");
    data = mkdtempSync(join(tmpdir(), "zb2-nginx-data-"));
    const frame = await lib.writeB2nd(values, SHAPE, {
      chunkShape: [10, 100],
      blockShape: [10, 50],
      codec: "lz4",
    });
    writeFileSync(join(data, "big.b2nd"), frame);
    const { startNginx } = await import("./external-servers.js");
    // Every 10th request closes its connection, and idle ones close after 20 ms: a client
    // that comes back to an idle socket a moment too late finds it reset.
    nginx = await startNginx(data, { keepaliveRequests: 10, keepaliveTimeout: "20ms" });
    pool = await lib.createDecodePool({ workers: 2 });
  }, 300_000);

  afterAll(async () => {
    await pool?.close();
    await nginx?.close();
    rmSync(data, { recursive: true, force: true });
  });

  /** fetch that, now and then, first holds the thread for 30 ms (a busy client). */
  function busyFetch(): typeof fetch {
    let n = 0;
    return (input, init) => {
      if (++n % 100 === 0) {
        const until = Date.now() + 30;
        while (Date.now() < until) {
          // the event loop cannot see the server closing idle sockets meanwhile
        }
      }
      return fetch(input, init);
    };
  }

  it("a read of 2000 chunks with a pool is correct, with retries", async () => {
    const arr = await lib.openB2nd(`${nginx.url}/big.b2nd`, { pool, fetch: busyFetch() });
    const r = await arr.get();
    // Buffer.equals: toEqual walks 8 MB element by element for most of a minute.
    const got = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    expect(got.equals(Buffer.from(values.buffer))).toBe(true);
    // Retries happened: nginx did close connections under the reader.
    expect(r.stats.requests).toBeGreaterThan(2003); // open: HEAD, first 8 KiB, index
  }, 300_000);

  it("the same read without retries fails (the test can fail)", async () => {
    let err: unknown;
    for (let round = 0; round < 3 && err === undefined; round++) {
      // Opening may already meet a closed socket: that counts as the read failing too.
      err = await lib
        .openB2nd(`${nginx.url}/big.b2nd`, { pool, fetch: busyFetch(), retries: 0 })
        .then((arr) => arr.get())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    }
    expect(err, "every read succeeded without retries").toBeInstanceOf(lib.SourceError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${nginx.url}/big\\.b2nd( bytes \\d+-\\d+)?: network error \\(fetch failed`),
    );
  }, 300_000);
});
