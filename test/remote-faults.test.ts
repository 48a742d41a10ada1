// Remote reads against servers that misbehave on purpose: HTTP errors on the frame header, the
// chunk index or a block range, 200 instead of 206, short bodies, another range than asked,
// connections dropped mid-body, aborted signals. Every failure must be a typed error naming
// the URL (and the byte range where there is one), never a partial result; once the server
// behaves again, the same array object must read correctly.
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import {
  FormatError,
  get,
  openB2nd,
  registerBlosc2Codecs,
  SourceError,
  writeB2nd,
  ZarrBlosc2Error,
  type ZarrGetStats,
} from "../src/index.js";
import { newStats } from "../src/io/source.js";
import { StoreRangeSource } from "../src/zarr/store-source.js";
import { FIXTURES, valuesOf } from "./helpers.js";
import {
  type RequestInfo,
  type ServerOptions,
  startServer,
  type TestServer,
} from "./http-server.js";

registerBlosc2Codecs(zarr.registry);

type Sel = Parameters<typeof get>[1];
type Chunk = zarr.Chunk<zarr.DataType> & { stats: ZarrGetStats };

let dir: string;
let server: TestServer;
/** The b2nd frame served as /f.b2nd, and where its parts are. */
let frame: Uint8Array;
let indexStart: number;
let chunkHeads: Set<number>;

const SHAPE = [96, 80];
const values = new Float64Array(96 * 80).map(
  (_, i) => Math.sin(i / 7) + ((i * 2654435761) >>> 0) / 2 ** 32,
);

/** Makes the server behave: every fault option off. */
function behave(): void {
  const o = server.options as Record<keyof ServerOptions, unknown>;
  for (const key of Object.keys(o) as (keyof ServerOptions)[]) delete o[key];
}

/** Rejects, with a ZarrBlosc2Error whose message matches every pattern. */
async function failure(promise: Promise<unknown>, ...patterns: (string | RegExp)[]) {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error("resolved instead of rejecting");
  const err = outcome.error as Error;
  expect(err, String(err)).toBeInstanceOf(ZarrBlosc2Error);
  for (const p of patterns) {
    if (typeof p === "string") expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err as ZarrBlosc2Error;
}

/** "bytes=a-b" → "bytes a-b", as error messages write ranges. */
function asMessage(range: string | undefined): string {
  return (range ?? "").replace("bytes=", "bytes ");
}

/** The byte range a message names ("bytes a-b"), if any. */
function namedRange(err: Error): string | undefined {
  return /bytes \d+-\d+/.exec(err.message)?.[0];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "zb-faults-"));
  // 4 chunks of 48 x 40 in blocks of 12 x 40: ~14 KB per chunk, 56 KB in all, so the header,
  // the index and each block are separate requests.
  frame = await writeB2nd(values, SHAPE, {
    chunkShape: [48, 40],
    blockShape: [12, 40],
    codec: "zstd",
    clevel: 1,
  });
  writeFileSync(join(dir, "f.b2nd"), frame);
  const local = await openB2nd(frame);
  indexStart = local.header.headerLength + local.header.cbytes;
  chunkHeads = new Set(
    local.offsets.flatMap((o) => (o.kind === "data" ? [local.header.headerLength + o.offset] : [])),
  );
  expect(chunkHeads.size).toBe(4);
  expect([...chunkHeads].some((h) => h > 8192)).toBe(true);
  cpSync(join(FIXTURES, "b2nd", "sparse-2d-attrs.b2frame"), join(dir, "sparse.b2frame"), {
    recursive: true,
  });

  // A Zarr v3 array of b2nd frames (~28 KB each), and fixtures: sharded b2nd, plain blosc2.
  const arr = await zarr.create(zarr.root(new FileSystemStore(join(dir, "z.zarr"))), {
    shape: SHAPE,
    chunkShape: [48, 80],
    dtype: "float64",
    fillValue: 0,
    codecs: [{ name: "b2nd", configuration: { blocks: [12, 80], cname: "zstd", clevel: 1 } }],
  });
  await zarr.set(arr, null, { data: values, shape: SHAPE, stride: [80, 1] });
  for (const name of ["sharded-b2nd-f8-2d.zarr", "blosc2-i4-2d.zarr"]) {
    cpSync(join(FIXTURES, "zarr", name), join(dir, name), { recursive: true });
  }
  server = await startServer(dir);
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  behave();
});

describe("openB2nd over HTTP", () => {
  const url = () => `${server.url}/f.b2nd`;
  const ROW: Sel = [5, null]; // chunks 0 and 1, one block each
  const BOX: Sel = [zarr.slice(40, 60), zarr.slice(30, 50)]; // all 4 chunks, a few blocks
  let reference: Map<string, unknown>;

  beforeAll(async () => {
    const local = await openB2nd(frame);
    reference = new Map();
    for (const sel of [ROW, BOX, null]) {
      reference.set(JSON.stringify(sel), (await local.get(sel as never)).data);
    }
  });

  /** The same array object reads every selection correctly again. */
  async function readsCorrectly(arr: Awaited<ReturnType<typeof openB2nd>>): Promise<void> {
    behave();
    for (const sel of [ROW, BOX, null]) {
      const r = await arr.get(sel as never);
      expect(r.data).toEqual(reference.get(JSON.stringify(sel)));
    }
  }

  for (const status of [404, 500, 503]) {
    it(`HTTP ${status} on the frame header`, async () => {
      server.options.statusFor = (r) => (r.rangeStart === 0 ? status : undefined);
      const err = await failure(openB2nd(url()), url(), "bytes 0-8191", `HTTP ${status}`);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).status).toBe(status);
      behave();
      await readsCorrectly(await openB2nd(url()));
    });

    it(`HTTP ${status} on the size probe (HEAD)`, async () => {
      server.options.statusFor = (r) => (r.method === "HEAD" ? status : undefined);
      const err = await failure(openB2nd(url()), url(), `HTTP ${status}`);
      expect((err as SourceError).status).toBe(status);
    });

    it(`HTTP ${status} on the chunk index`, async () => {
      server.options.statusFor = (r) => (r.rangeStart === indexStart ? status : undefined);
      await failure(
        openB2nd(url()),
        url(),
        `bytes ${indexStart}-${frame.length - 1}`,
        `HTTP ${status}`,
      );
      behave();
      await readsCorrectly(await openB2nd(url()));
    });

    it(`HTTP ${status} on a block range, then the same array reads`, async () => {
      const arr = await openB2nd(url());
      const failed = new Set<string>();
      server.options.statusFor = (r) => {
        if (r.rangeStart === undefined || r.rangeStart === 0) return undefined;
        if (r.rangeStart === indexStart || chunkHeads.has(r.rangeStart)) return undefined;
        failed.add(asMessage(r.range));
        return status;
      };
      for (const sel of [ROW, BOX]) {
        const err = await failure(arr.get(sel as never), url(), `HTTP ${status}`);
        expect(failed).toContain(namedRange(err));
        expect((err as SourceError).status).toBe(status);
      }
      await readsCorrectly(arr);
    });

    it(`HTTP ${status} on a chunk's header and block starts`, async () => {
      const arr = await openB2nd(url());
      server.options.statusFor = (r) =>
        r.rangeStart !== undefined && chunkHeads.has(r.rangeStart) && r.rangeStart > 8192
          ? status
          : undefined;
      const err = await failure(arr.get(BOX as never), url(), `HTTP ${status}`);
      expect(chunkHeads).toContain(Number(/bytes (\d+)-/.exec(err.message)?.[1]));
      await readsCorrectly(arr);
    });
  }

  it("fails after N requests (failAfter), then reads", async () => {
    const arr = await openB2nd(url());
    server.options.failAfter = server.requests.length + 2;
    await failure(arr.get(BOX as never), url(), "HTTP 500", /bytes \d+-\d+/);
    await readsCorrectly(arr);
  });

  it("200 instead of 206 (the server ignores Range)", async () => {
    server.options.ignoreRange = true;
    await failure(openB2nd(url()), url(), "bytes 0-8191", "server ignored the Range header");
    behave();
    const arr = await openB2nd(url());
    server.options.ignoreRange = true;
    for (const sel of [ROW, BOX, null]) {
      await failure(
        arr.get(sel as never),
        url(),
        /bytes \d+-\d+/,
        "server ignored the Range header (HTTP 200)",
      );
    }
    await readsCorrectly(arr);
  });

  it("short bodies", async () => {
    server.options.truncateBodyTo = 10;
    await failure(openB2nd(url()), url(), "bytes 0-8191", "short read: got 10 of 8192 bytes");
    behave();
    const arr = await openB2nd(url());
    server.options.truncateBodyTo = 10;
    for (const sel of [ROW, BOX, null]) {
      await failure(arr.get(sel as never), url(), /bytes \d+-\d+: short read: got 10 of \d+/);
    }
    await readsCorrectly(arr);
  });

  it("another range than asked (wrong Content-Range)", async () => {
    server.options.wrongContentRange = 7;
    await failure(
      openB2nd(url()),
      url(),
      "bytes 0-8191",
      "server answered another range (Content-Range: bytes 7-8198/",
    );
    behave();
    const arr = await openB2nd(url());
    server.options.wrongContentRange = -3;
    for (const sel of [ROW, BOX, null]) {
      await failure(arr.get(sel as never), url(), /bytes \d+-\d+/, "server answered another range");
    }
    await readsCorrectly(arr);
  });

  it("the connection dropped mid-body", async () => {
    server.options.dropConnectionAfterBytes = 100;
    await failure(openB2nd(url()), url(), "bytes 0-8191", "network error");
    behave();
    const arr = await openB2nd(url());
    server.options.dropConnectionAfterBytes = 100;
    for (const sel of [ROW, BOX, null]) {
      await failure(arr.get(sel as never), url(), /bytes \d+-\d+/, "network error");
    }
    await readsCorrectly(arr);
  });

  // An already-aborted signal is a SourceError "<url>: aborted (reason)", not the bare reason.
  it("a signal aborted before the read", async () => {
    const arr = await openB2nd(url());
    const before = server.requests.length;
    const controller = new AbortController();
    controller.abort(new Error("user gave up"));
    await failure(
      arr.get(ROW as never, { signal: controller.signal }),
      url(),
      "aborted (user gave up)",
    );
    expect(server.requests.length).toBe(before); // nothing was requested
    await readsCorrectly(arr);
  });

  it("a signal aborted during a slow read", async () => {
    const arr = await openB2nd(url());
    // The body would take a minute: only the abort can end the read this early.
    server.options.slowBodyMs = 60_000;
    const controller = new AbortController();
    const reading = arr.get(BOX as never, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("too slow")), 100);
    const started = Date.now();
    await failure(reading, url(), /bytes \d+-\d+: aborted \(too slow\)/);
    expect(Date.now() - started).toBeLessThan(30_000);
    await readsCorrectly(arr);
  });

  it("a sparse frame directory: HTTP 500 on one chunk file", async () => {
    const dirUrl = `${server.url}/sparse.b2frame/`;
    const arr = await openB2nd(dirUrl);
    const whole = (await arr.get()).data;
    server.options.statusFor = (r) => (r.path.endsWith("/00000001.chunk") ? 500 : undefined);
    await failure(arr.get(), `${dirUrl}00000001.chunk`, /bytes \d+-\d+/, "HTTP 500");
    behave();
    expect((await arr.get()).data).toEqual(whole);
  });
});

describe("Zarr over zarrita's FetchStore, read with get()", () => {
  const zurl = () => `${server.url}/z.zarr`;
  const chunkUrl = (key: string) => `${zurl()}/${key}`;
  let array: zarr.Array<zarr.DataType, zarr.Readable>;
  let reference: Map<string, unknown>;
  const ROW: Sel = [5, null]; // chunk c/0/0, one block
  const BOX: Sel = [zarr.slice(40, 60), zarr.slice(30, 50)]; // chunks c/0/0 and c/1/0

  /** Fails requests for one chunk key from the given byte on (undefined: every request). */
  const onChunk =
    (key: string, status: number, test: (r: RequestInfo) => boolean = () => true) =>
    (r: RequestInfo) =>
      r.path === `/z.zarr/${key}` && test(r) ? status : undefined;

  beforeAll(async () => {
    const local = await zarr.open(new FileSystemStore(join(dir, "z.zarr")), {
      kind: "array",
    });
    reference = new Map();
    for (const sel of [ROW, BOX, null]) {
      reference.set(JSON.stringify(sel), ((await get(local, sel)) as Chunk).data);
    }
    array = await zarr.open(new zarr.FetchStore(zurl()), { kind: "array" });
  });

  async function readsCorrectly(): Promise<void> {
    behave();
    for (const sel of [ROW, BOX, null]) {
      const r = (await get(array, sel)) as Chunk;
      expect(r.stats.path).toBe("b2nd");
      expect(r.data).toEqual(reference.get(JSON.stringify(sel)));
    }
  }

  for (const status of [500, 503]) {
    it(`HTTP ${status} on a frame's header`, async () => {
      server.options.statusFor = onChunk("c/0/0", status, (r) => r.rangeStart === 0);
      const err = await failure(get(array, ROW), chunkUrl("c/0/0"), "bytes 0-8191", `${status}`);
      expect(err).toBeInstanceOf(SourceError);
      await readsCorrectly();
    });

    it(`HTTP ${status} on a frame's chunk index`, async () => {
      // The index sits at the end of the frame, past the first 8 KiB.
      server.options.statusFor = onChunk("c/1/0", status, (r) => (r.rangeStart ?? 0) > 8192);
      const err = await failure(get(array, BOX), chunkUrl("c/1/0"), /bytes \d+-\d+/, `${status}`);
      expect(Number(/bytes (\d+)-/.exec(err.message)![1])).toBeGreaterThan(8192);
      await readsCorrectly();
    });

    it(`HTTP ${status} on a block range`, async () => {
      // Row 40 lies in block 3 of chunk c/0/0 (12-row blocks), past its first 8 KiB.
      const failed = new Set<string>();
      server.options.statusFor = (r) => {
        const hit = onChunk("c/0/0", status, (q) => (q.rangeStart ?? 0) > 8192)(r);
        if (hit !== undefined) failed.add(asMessage(r.range));
        return hit;
      };
      const err = await failure(get(array, [40, null]), chunkUrl("c/0/0"), `${status}`);
      expect(failed).toContain(namedRange(err));
      await readsCorrectly();
    });

    it(`HTTP ${status} on zarr.json when get() reads the layout`, async () => {
      const fresh = await zarr.open(new zarr.FetchStore(zurl()), { kind: "array" });
      server.options.statusFor = (r) => (r.path.endsWith("/zarr.json") ? status : undefined);
      await failure(get(fresh, ROW), `${zurl()}/zarr.json`, `${status}`);
      behave();
      const r = (await get(fresh, ROW)) as Chunk;
      expect(r.stats.path).toBe("b2nd");
      expect(r.data).toEqual(reference.get(JSON.stringify(ROW)));
    });
  }

  it("HTTP 404 on a whole chunk: zarrita's FetchStore says missing, so the fill value", async () => {
    // FetchStore maps 404 to "no such key", which Zarr reads as the fill value (0 here).
    server.options.statusFor = onChunk("c/1/0", 404);
    const stats = {} as ZarrGetStats;
    const r = (await get(array, BOX, { stats })) as Chunk;
    expect(stats.missingChunks).toBe(1);
    const expected = Float64Array.from(reference.get(JSON.stringify(BOX)) as Float64Array);
    for (let i = 8; i < 20; i++) expected.fill(0, i * 20, i * 20 + 20); // rows 48-59: chunk c/1/0
    expect(r.data).toEqual(expected);
    // zarr.get agrees: the same fill value for the same 404.
    expect(((await zarr.get(array, BOX as never)) as Chunk).data).toEqual(expected);
    await readsCorrectly();
  });

  it("HTTP 404 after a frame's first read is an error, not a fill value", async () => {
    server.options.statusFor = onChunk("c/0/0", 404, (r) => (r.rangeStart ?? 0) > 8192);
    await failure(
      get(array, [40, null]),
      chunkUrl("c/0/0"),
      /bytes \d+-\d+/,
      "no longer in the store",
    );
    await readsCorrectly();
  });

  it("fails after N requests (failAfter)", async () => {
    server.options.failAfter = server.requests.length + 2;
    await failure(get(array, null), zurl(), "500");
    await readsCorrectly();
  });

  it("200 instead of 206: whole frames, still the right values", async () => {
    // FetchStore hands over the whole object; a frame's first read starts at byte 0, so the
    // whole frame is what was asked for and more: it is kept and nothing else is requested.
    server.options.ignoreRange = true;
    for (const sel of [ROW, BOX, null]) {
      const before = server.requests.length;
      const r = (await get(array, sel)) as Chunk;
      expect(r.data).toEqual(reference.get(JSON.stringify(sel)));
      expect(server.requests.length - before).toBe(r.stats.chunksTouched);
    }
  });

  it("short bodies", async () => {
    server.options.truncateBodyTo = 10;
    const err = await failure(get(array, ROW), chunkUrl("c/0/0"));
    expect(err).toBeInstanceOf(FormatError); // 10 bytes cannot hold a frame prefix
    // The first 8 KiB arrive whole; blocks 2 and 3 (rows 24-47, one merged read) come up short.
    server.options.truncateBodyTo = 8192;
    await failure(
      get(array, [zarr.slice(30, 48), null]),
      chunkUrl("c/0/0"),
      /bytes \d+-\d+: short read/,
    );
    await readsCorrectly();
  });

  it("the connection dropped mid-body", async () => {
    server.options.dropConnectionAfterBytes = 100;
    await failure(get(array, ROW), chunkUrl("c/0/0"), "bytes 0-8191", "store read failed");
    await readsCorrectly();
  });

  it("another range than asked: FetchStore does not check Content-Range", async () => {
    // zarrita's FetchStore ignores Content-Range, so get() sees shifted bytes as if they were
    // the ones asked for. Here the frame prefix no longer parses: a FormatError.
    server.options.wrongContentRange = 7;
    const err = await failure(get(array, ROW), chunkUrl("c/0/0"));
    expect(err).toBeInstanceOf(FormatError);
    await readsCorrectly();
  });

  it("a signal aborted before the read", async () => {
    await get(array, ROW); // the layout is read
    const before = server.requests.length;
    const controller = new AbortController();
    controller.abort(new Error("user gave up"));
    const err = await failure(get(array, ROW, { signal: controller.signal }), zurl(), "aborted");
    expect(err).toBeInstanceOf(SourceError);
    expect(server.requests.length).toBe(before);
    await readsCorrectly();
  });

  it("a signal aborted during a slow read", async () => {
    await get(array, ROW);
    // The body would take a minute: only the abort can end the read this early.
    server.options.slowBodyMs = 60_000;
    const controller = new AbortController();
    const reading = get(array, BOX, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("too slow")), 100);
    const started = Date.now();
    await failure(reading, zurl(), "aborted (too slow)");
    expect(Date.now() - started).toBeLessThan(30_000);
    await readsCorrectly();
  });

  describe("sharded b2nd (fixture)", () => {
    const surl = () => `${server.url}/sharded-b2nd-f8-2d.zarr`;
    let sharded: zarr.Array<zarr.DataType, zarr.Readable>;
    let whole: unknown;
    beforeAll(async () => {
      const local = await zarr.open(new FileSystemStore(join(dir, "sharded-b2nd-f8-2d.zarr")), {
        kind: "array",
      });
      whole = ((await get(local, null)) as Chunk).data;
      sharded = await zarr.open(new zarr.FetchStore(surl()), { kind: "array" });
    });

    it("HTTP 500 on the shard index, then on an inner chunk", async () => {
      // The index is the shard's last bytes: FetchStore asks HEAD for the size, then a Range.
      server.options.statusFor = (r) =>
        r.path === "/sharded-b2nd-f8-2d.zarr/c/0/0" ? 500 : undefined;
      await failure(get(sharded, [3, 4]), `${surl()}/c/0/0`, "500");
      let ranged = 0;
      server.options.statusFor = (r) =>
        r.path === "/sharded-b2nd-f8-2d.zarr/c/0/0" && r.method === "GET" && ++ranged > 1
          ? 500
          : undefined;
      await failure(get(sharded, [3, 4]), `${surl()}/c/0/0`, /bytes \d+-\d+/, "500");
      behave();
      expect(((await get(sharded, null)) as Chunk).data).toEqual(whole);
    });

    it("200 instead of 206: a long read of the shard index is an error", async () => {
      server.options.ignoreRange = true;
      await failure(get(sharded, [3, 4]), `${surl()}/c/0/0`, "long read", "ignore Range");
      behave();
      expect(((await get(sharded, null)) as Chunk).data).toEqual(whole);
    });
  });

  it("a store returning more bytes than asked: an error, not a guess", async () => {
    // Such bytes cannot be placed (a server ignoring Range sends the object from byte 0).
    const whole = new Uint8Array(100).map((_, i) => i);
    const store = {
      url: "https://example.org/data.zarr",
      get: () => whole,
      getRange: () => whole,
    };
    const source = new StoreRangeSource(store, "/c/0", newStats(), 0, 100);
    await failure(
      source.read(10, 20),
      "https://example.org/data.zarr/c/0 bytes 10-29: long read: the store returned 100 bytes for 20",
    );
  });

  it("arrays read through zarr.get (plain blosc2): HTTP 500 is a SourceError", async () => {
    const burl = `${server.url}/blosc2-i4-2d.zarr`;
    const plain = await zarr.open(new zarr.FetchStore(burl), { kind: "array" });
    const expected = valuesOf(((await get(plain, null)) as Chunk).data);
    server.options.statusFor = (r) => (r.path.endsWith("/c/1/1") ? 500 : undefined);
    const err = await failure(get(plain, null), `${burl}/c/1/1`, "500");
    expect(err).toBeInstanceOf(SourceError);
    behave();
    const r = (await get(plain, null)) as Chunk;
    expect(r.stats.path).toBe("zarr.get");
    expect(valuesOf(r.data)).toEqual(expected);
  });
});
