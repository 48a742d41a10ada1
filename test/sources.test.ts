import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ZarrBlosc2Error } from "../src/errors.js";
import { FileDirectory, FileSource } from "../src/io/file.js";
import { HttpDirectory, HttpSource } from "../src/io/http.js";
import {
  type ByteSource,
  type DirectorySource,
  isDirectorySource,
  MemorySource,
  newStats,
  openSource,
  SourceError,
} from "../src/io/source.js";
import { startServer, type TestServer } from "./http-server.js";

const SIZE = 150;
const data = new Uint8Array(SIZE).map((_, i) => (i * 7 + 3) & 0xff);
const frame = new Uint8Array(64).map((_, i) => 255 - i);
const chunk0 = new Uint8Array(40).map((_, i) => i * 3);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zarr-blosc2-sources-"));
  writeFileSync(join(dir, "a.b2nd"), data);
  writeFileSync(join(dir, "empty.bin"), new Uint8Array(0));
  mkdirSync(join(dir, "sparse.b2nd"));
  writeFileSync(join(dir, "sparse.b2nd", "chunks.b2frame"), frame);
  writeFileSync(join(dir, "sparse.b2nd", "00000000.chunk"), chunk0);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const servers: TestServer[] = [];
async function serve(options?: Parameters<typeof startServer>[1]): Promise<TestServer> {
  const server = await startServer(dir, options);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The SourceError thrown by `promise` (fails the test if it resolves or throws anything else). */
async function sourceError(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toBeInstanceOf(ZarrBlosc2Error);
    return err as SourceError;
  }
  throw new Error("expected a SourceError, got a result");
}

const offsets: [number, number][] = [
  [0, 1],
  [0, SIZE],
  [1, 10],
  [37, 50],
  [100, 50],
  [149, 1],
];

/** Exact bytes, stats, and range validation: the same for every kind of ByteSource. */
async function checkSource(source: ByteSource): Promise<void> {
  expect(await source.size()).toBe(SIZE);
  const before = { ...source.stats };
  let bytes = 0;
  for (const [offset, length] of offsets) {
    expect(await source.read(offset, length)).toEqual(data.slice(offset, offset + length));
    bytes += length;
  }
  expect(source.stats.requests - before.requests).toBe(offsets.length);
  expect(source.stats.bytesRead - before.bytesRead).toBe(bytes);

  // Length 0: empty, no request.
  const requests = source.stats.requests;
  expect(await source.read(10, 0)).toEqual(new Uint8Array(0));
  expect(source.stats.requests).toBe(requests);

  const past = await sourceError(source.read(100, 100));
  expect(past.message).toContain(source.name);
  expect(past.message).toContain("bytes 100-199");
  expect(past.message).toContain("past the end (150 bytes)");
  expect(past.range).toEqual([100, 199]);
  expect(past.sourceName).toBe(source.name);

  const negative = await sourceError(source.read(-5, 10));
  expect(negative.message).toContain(source.name);
  expect(negative.message).toContain("bytes -5-4");
  expect(negative.message).toContain("invalid offset");
  const badLength = await sourceError(source.read(5, -1));
  expect(badLength.message).toContain("invalid length");
  await sourceError(source.read(1.5, 2));
}

describe("MemorySource", () => {
  it("reads exact bytes, counts, and validates ranges", async () => {
    const source = new MemorySource(data, "mem.b2nd");
    expect(source.name).toBe("mem.b2nd");
    await checkSource(source);
  });

  it("openSource wraps Uint8Array and ArrayBuffer, sharing stats", async () => {
    const stats = newStats();
    const a = (await openSource(data, { stats })) as ByteSource;
    const b = (await openSource(data.slice().buffer, { stats })) as ByteSource;
    expect(a).toBeInstanceOf(MemorySource);
    expect(b).toBeInstanceOf(MemorySource);
    expect(await a.read(3, 4)).toEqual(data.slice(3, 7));
    expect(await b.read(140, 10)).toEqual(data.slice(140));
    expect(stats).toEqual({ requests: 2, bytesRead: 14 });
    expect(await openSource(a)).toBe(a);
  });

  it("refuses an aborted read", async () => {
    const controller = new AbortController();
    controller.abort(new Error("user gave up"));
    const err = await sourceError(
      new MemorySource(data).read(0, 10, { signal: controller.signal }),
    );
    expect(err.message).toContain("aborted (user gave up)");
  });
});

describe("FileSource", () => {
  it("reads exact bytes, counts, and validates ranges", async () => {
    const source = new FileSource(join(dir, "a.b2nd"));
    try {
      await checkSource(source);
    } finally {
      await source.close();
    }
    // A closed source reopens on the next read.
    expect(await source.read(5, 5)).toEqual(data.slice(5, 10));
    await source.close();
  });

  it("readInto reads in place, counts, and checks the range against the file", async () => {
    const stats = newStats();
    const source = new FileSource(join(dir, "a.b2nd"), { stats });
    try {
      const target = new Uint8Array(64).fill(0xee);
      const view = target.subarray(8, 40);
      const got = await source.readInto(100, view);
      expect(got).toBe(view);
      expect(got).toEqual(data.slice(100, 132));
      expect(target.subarray(0, 8).every((b) => b === 0xee)).toBe(true);
      expect(target.subarray(40).every((b) => b === 0xee)).toBe(true);
      expect(stats).toEqual({ requests: 1, bytesRead: 32 });
      const err = await sourceError(source.readInto(SIZE - 10, new Uint8Array(11)));
      expect(err.message).toMatch(/past the end|beyond|exceeds/);
      expect(await source.readInto(0, new Uint8Array(0))).toHaveLength(0);
    } finally {
      await source.close();
    }
  });

  it("reports a missing file", async () => {
    const missing = join(dir, "nope.b2nd");
    const err = await sourceError(new FileSource(missing).read(0, 4));
    expect(err.message).toContain(missing);
    expect(err.message).toContain("no such file");
    const opened = await sourceError(openSource(missing));
    expect(opened.message).toBe(`${missing}: no such file`);
  });

  it("opens paths and file: URLs", async () => {
    const stats = newStats();
    const byPath = (await openSource(join(dir, "a.b2nd"), { stats })) as FileSource;
    const byUrl = (await openSource(pathToFileURL(join(dir, "a.b2nd")), { stats })) as FileSource;
    const byUrlString = (await openSource(pathToFileURL(join(dir, "a.b2nd")).href)) as FileSource;
    try {
      for (const s of [byPath, byUrl, byUrlString]) {
        expect(s).toBeInstanceOf(FileSource);
        expect(await s.read(20, 30)).toEqual(data.slice(20, 50));
      }
      expect(stats).toEqual({ requests: 2, bytesRead: 60 });
    } finally {
      await Promise.all([byPath.close(), byUrl.close(), byUrlString.close()]);
    }
  });

  it("opens a local directory as a DirectorySource sharing stats", async () => {
    const stats = newStats();
    const opened = await openSource(join(dir, "sparse.b2nd"), { stats });
    expect(isDirectorySource(opened)).toBe(true);
    expect(opened).toBeInstanceOf(FileDirectory);
    const directory = opened as DirectorySource;
    try {
      const f = directory.file("chunks.b2frame");
      expect(await f.size()).toBe(frame.length);
      expect(await f.read(0, 64)).toEqual(frame);
      expect(await directory.file("00000000.chunk").read(10, 5)).toEqual(chunk0.slice(10, 15));
      expect(directory.stats).toBe(stats);
      expect(stats).toEqual({ requests: 2, bytesRead: 69 });
      const missing = await sourceError(directory.file("00000001.chunk").read(0, 1));
      expect(missing.message).toContain("no such file");
      expect(() => directory.file("../a.b2nd")).toThrow(SourceError);
      expect(() => directory.file("/etc/passwd")).toThrow(SourceError);
    } finally {
      await directory.close?.();
    }
  });
});

describe("HttpSource", () => {
  it("reads exact bytes with Range requests, counts, and validates ranges", async () => {
    const server = await serve();
    const source = new HttpSource(`${server.url}/a.b2nd`);
    expect(source.name).toBe(`${server.url}/a.b2nd`);
    await checkSource(source);
    // One HEAD for the size (cached), then one Range GET per read.
    const head = server.requests.filter((r) => r.method === "HEAD");
    expect(head).toHaveLength(1);
    expect(server.requests[1]).toMatchObject({
      method: "GET",
      path: "/a.b2nd",
      range: "bytes=0-0",
      status: 206,
      bytes: 1,
    });
    const sent = server.requests.reduce((n, r) => n + r.bytes, 0);
    expect(source.stats.bytesRead).toBe(sent);
    expect(source.stats.requests).toBe(server.requests.length);
  });

  it("lets the server decide past-the-end reads before the size is known", async () => {
    const server = await serve();
    const err = await sourceError(new HttpSource(`${server.url}/a.b2nd`).read(100, 100));
    expect(err.message).toContain(`${server.url}/a.b2nd bytes 100-199: short read`);
    expect(err.message).toContain("past the end (150 bytes)");
    const beyond = await sourceError(new HttpSource(`${server.url}/a.b2nd`).read(200, 10));
    expect(beyond.message).toContain("HTTP 416");
    expect(beyond.status).toBe(416);
  });

  it("turns 404 into a SourceError with the status", async () => {
    const server = await serve();
    const source = new HttpSource(`${server.url}/missing.b2nd`);
    const read = await sourceError(source.read(0, 10));
    expect(read.message).toContain(`${server.url}/missing.b2nd bytes 0-9: HTTP 404`);
    expect(read.status).toBe(404);
    const size = await sourceError(source.size());
    expect(size.message).toContain("404");
    const opened = await sourceError(openSource(`${server.url}/missing.b2nd`));
    expect(opened.message).toContain("404");
  });

  it("turns other HTTP errors into SourceErrors", async () => {
    const server = await serve({ status: 503 });
    const err = await sourceError(new HttpSource(`${server.url}/a.b2nd`).read(0, 10));
    expect(err.message).toContain("HTTP 503");
  });

  it("refuses a server that ignores Range", async () => {
    const server = await serve({ ignoreRange: true });
    const source = new HttpSource(`${server.url}/a.b2nd`);
    const err = await sourceError(source.read(10, 20));
    expect(err.message).toContain("server ignored the Range header (HTTP 200)");
    expect(err.message).toContain("bytes 10-29");
    expect(source.stats.requests).toBe(1);
  });

  it("reports a truncated body as a short read", async () => {
    const server = await serve({ truncateBodyTo: 5 });
    const source = new HttpSource(`${server.url}/a.b2nd`);
    const err = await sourceError(source.read(10, 20));
    expect(err.message).toContain("bytes 10-29: short read: got 5 of 20 bytes");
    expect(source.stats.bytesRead).toBe(5);
  });

  it("gets the size from a 1-byte Range GET when HEAD is not allowed", async () => {
    const server = await serve({ noHead: true });
    const source = new HttpSource(`${server.url}/a.b2nd`);
    expect(await source.size()).toBe(SIZE);
    expect(await source.size()).toBe(SIZE);
    expect(server.requests.map((r) => [r.method, r.status, r.range])).toEqual([
      ["HEAD", 405, undefined],
      ["GET", 206, "bytes=0-0"],
    ]);
    expect(source.stats).toEqual({ requests: 2, bytesRead: 1 });
    const empty = new HttpSource(`${server.url}/empty.bin`);
    expect(await empty.size()).toBe(0);
  });

  it("turns an abort into a SourceError keeping the reason", async () => {
    // The answer would take a minute: only the abort can end the read this early.
    const server = await serve({ delayMs: 60_000 });
    const source = new HttpSource(`${server.url}/a.b2nd`);
    const controller = new AbortController();
    const pending = source.read(0, 10, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("took too long")), 50);
    const started = Date.now();
    const err = await sourceError(pending);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(err.message).toContain("bytes 0-9: aborted (took too long)");
    expect(err.cause).toBeDefined();

    const already = new AbortController();
    already.abort();
    const early = await sourceError(source.read(0, 10, { signal: already.signal }));
    expect(early.message).toContain("aborted");
  });

  it("reports network failures with the cause", async () => {
    const server = await startServer(dir);
    const url = `${server.url}/a.b2nd`;
    await server.close();
    const err = await sourceError(new HttpSource(url).read(0, 10));
    expect(err.message).toContain(`${url} bytes 0-9: network error`);
    expect(err.cause).toBeDefined();
  });

  it("sends extra headers and uses a given fetch", async () => {
    const server = await serve();
    const seen: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers).get("Authorization") ?? "");
      return fetch(input, init);
    };
    const source = (await openSource(`${server.url}/a.b2nd`, {
      fetch: spy,
      headers: { Authorization: "Bearer x" },
    })) as ByteSource;
    expect(await source.read(0, 3)).toEqual(data.slice(0, 3));
    expect(seen).toEqual(["Bearer x", "Bearer x"]);
  });
});

describe("openSource over HTTP", () => {
  it("opens a file URL as an HttpSource whose size is already known", async () => {
    const server = await serve();
    const stats = newStats();
    const source = await openSource(new URL(`${server.url}/a.b2nd`), { stats });
    expect(source).toBeInstanceOf(HttpSource);
    expect(await (source as ByteSource).size()).toBe(SIZE);
    expect(stats.requests).toBe(1);
  });

  async function checkDirectory(directory: DirectorySource, server: TestServer): Promise<void> {
    expect(directory).toBeInstanceOf(HttpDirectory);
    expect(directory.name).toBe(`${server.url}/sparse.b2nd/`);
    const f = directory.file("chunks.b2frame");
    expect(f.stats).toBe(directory.stats);
    expect(await f.read(0, 64)).toEqual(frame);
    const c = directory.file("00000000.chunk");
    expect(await c.read(30, 10)).toEqual(chunk0.slice(30, 40));
    expect(server.requests.at(-1)).toMatchObject({
      path: "/sparse.b2nd/00000000.chunk",
      range: "bytes=30-39",
      status: 206,
    });
    const missing = await sourceError(directory.file("00000009.chunk").read(0, 1));
    expect(missing.message).toContain("404");
  }

  it("opens a URL with a trailing slash as an HttpDirectory", async () => {
    const server = await serve();
    const stats = newStats();
    const opened = await openSource(`${server.url}/sparse.b2nd/`, { stats });
    expect(isDirectorySource(opened)).toBe(true);
    expect(server.requests).toHaveLength(0);
    await checkDirectory(opened as DirectorySource, server);
    expect((opened as DirectorySource).stats).toBe(stats);
    expect(stats.bytesRead).toBe(74);
  });

  it("probes <url>/chunks.b2frame when the URL without a slash answers 404", async () => {
    const server = await serve();
    const opened = await openSource(`${server.url}/sparse.b2nd`);
    expect(isDirectorySource(opened)).toBe(true);
    expect(server.requests.slice(0, 2).map((r) => [r.method, r.path, r.status])).toEqual([
      ["HEAD", "/sparse.b2nd", 404],
      ["HEAD", "/sparse.b2nd/chunks.b2frame", 200],
    ]);
    await checkDirectory(opened as DirectorySource, server);
  });

  it("refuses file names that leave the directory", async () => {
    const directory = new HttpDirectory("http://127.0.0.1:1/x/");
    for (const name of ["../a", "/a", "", "https://elsewhere/a", "a//b"]) {
      expect(() => directory.file(name)).toThrow(SourceError);
    }
    expect(directory.file("sub dir/a#b").url.pathname).toBe("/x/sub%20dir/a%23b");
  });
});

describe("test server", () => {
  it("does not serve paths outside its root", async () => {
    const server = await serve();
    const res = await fetch(`${server.url}/..%2f..%2fetc%2fpasswd`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
    const dirRes = await fetch(`${server.url}/sparse.b2nd`);
    expect(dirRes.status).toBe(404);
    await dirRes.body?.cancel();
    const suffix = await fetch(`${server.url}/a.b2nd`, { headers: { Range: "bytes=-10" } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(data.slice(140));
  });
});
