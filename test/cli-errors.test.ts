import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeB2nd } from "../src/index.js";
import { type CliResult, cli, ensureBuilt, FIXTURES, ROOT } from "./helpers.js";
import { startServer, type TestServer } from "./http-server.js";

const B2ND = join(FIXTURES, "b2nd");
const GOOD = join(B2ND, "f8-3d-edges.b2nd"); // shape (37, 29, 11)

/** Exit `status`, nothing on stdout, one "zarr-blosc2: ..." line on stderr matching `pattern`. */
function expectError(r: CliResult, status: number, ...patterns: (string | RegExp)[]): string {
  expect(r.status, r.stderr).toBe(status);
  expect(r.stdout).toBe("");
  expect(r.stderr.endsWith("\n")).toBe(true);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  const line = lines[0]!;
  expect(line).toMatch(/^zarr-blosc2: \S/);
  expect(line).not.toMatch(/\bat .*:\d+:\d+/); // no stack frames
  for (const p of patterns) {
    if (typeof p === "string") expect(line).toContain(p);
    else expect(line).toMatch(p);
  }
  return line;
}

let dir: string;
let server: TestServer;
let out: string;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "zb-clierr-"));
  out = join(dir, "out.npy");
  const good = readFileSync(GOOD);
  writeFileSync(
    join(dir, "random.bin"),
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)),
  );
  writeFileSync(join(dir, "empty.b2nd"), new Uint8Array(0));
  writeFileSync(join(dir, "truncated.b2nd"), good.subarray(0, Math.floor(good.length / 2)));
  writeFileSync(join(dir, "header-only.b2nd"), good.subarray(0, 40));
  // A frame whose chunk data is overwritten: opens fine, fails when a chunk is decoded.
  const frame = await writeB2nd(
    new Float64Array(64 * 64).map((_, i) => Math.sin(i)),
    [64, 64],
    {
      chunkShape: [32, 32],
      blockShape: [16, 16],
    },
  );
  writeFileSync(join(dir, "ok.b2nd"), frame);
  const broken = frame.slice();
  const { openB2nd } = await import("../src/index.js");
  const arr = await openB2nd(frame);
  const first = arr.header.headerLength + (arr.offsets[0] as { offset: number }).offset;
  broken.fill(0xee, first + 32, first + 400); // block starts and data of chunk 0
  writeFileSync(join(dir, "corrupt.b2nd"), broken);
  copyFileSync(GOOD, join(dir, "good.b2nd"));
  mkdirSync(join(dir, "sub"));
  server = await startServer(dir);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("errors are one line, exit 1", () => {
  it("a missing file", async () => {
    const missing = join(dir, "missing.b2nd");
    expectError(await cli("info", missing), 1, missing, "no such file");
    expectError(await cli("slice", missing, "0", "--out", out), 1, missing, "no such file");
    // A directory that is neither a sparse frame nor Zarr says both.
    expectError(await cli("info", join(dir, "sub")), 1, "no chunks.b2frame", "nor a Zarr array");
  });

  it("not a frame", async () => {
    for (const name of ["random.bin", "empty.b2nd"]) {
      expectError(await cli("info", join(dir, name)), 1, join(dir, name));
    }
    expectError(await cli("info", join(dir, "random.bin")), 1, "not a Blosc2 frame");
    expectError(await cli("info", `${ROOT}package.json`), 1, "not a Blosc2 frame");
  });

  it("a truncated frame", async () => {
    for (const name of ["truncated.b2nd", "header-only.b2nd"]) {
      expectError(
        await cli("info", join(dir, name)),
        1,
        join(dir, name),
        /frame length \d+ exceeds/,
      );
      expectError(await cli("slice", join(dir, name), "0", "--out", out), 1, join(dir, name));
    }
    expect(existsSync(out)).toBe(false);
  });

  it("a corrupt chunk", async () => {
    // Opening only reads the header and index; the slice decodes chunk 0.
    const r = await cli("info", join(dir, "corrupt.b2nd"));
    expect(r.status, r.stderr).toBe(0);
    expectError(await cli("slice", join(dir, "corrupt.b2nd"), "0, 0", "--out", out), 1, /chunk 0/);
    expect(existsSync(out)).toBe(false);
  });

  it("an unsupported dtype", async () => {
    const u4 = join(B2ND, "U4-1d-unsupported.b2nd");
    expectError(await cli("info", u4), 1, u4, 'unsupported dtype "<U4"');
    expectError(await cli("slice", u4, "--out", out), 1, "unsupported dtype");
    const struct = join(B2ND, "struct-1d-unsupported.b2nd");
    expectError(await cli("info", struct), 1, "unsupported dtype");
  });

  it("an out-of-bounds index", async () => {
    expectError(
      await cli("slice", GOOD, "37", "--out", out),
      1,
      "index 37 is out of bounds for dimension 0 of size 37",
    );
    expectError(await cli("slice", GOOD, "0, -30", "--out", out), 1, "dimension 1 of size 29");
    expect(existsSync(out)).toBe(false);
  });

  it("HTTP 500 (and 404) from a server", async () => {
    const url = `${server.url}/good.b2nd`;
    server.options.status = 500;
    try {
      expectError(await cli("info", url), 1, url, "HTTP 500");
      expectError(await cli("slice", url, "0", "--out", out), 1, url, "HTTP 500");
    } finally {
      delete server.options.status;
    }
    // 500 on a block range only: the message names the range.
    server.options.statusFor = (r) => ((r.rangeStart ?? 0) > 9000 ? 500 : undefined);
    try {
      expectError(await cli("slice", url, "36", "--out", out), 1, url, /bytes \d+-\d+: HTTP 500/);
    } finally {
      delete server.options.statusFor;
    }
    expect(existsSync(out)).toBe(false);
    expectError(await cli("info", `${server.url}/nothing.b2nd`), 1, "nothing.b2nd", "HTTP 404");
    // The same URL reads once the server behaves.
    const ok = await cli("slice", url, "36", "--out", join(dir, "ok.npy"));
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(join(dir, "ok.npy"))).toBe(true);
  });

  it("an unwritable --out path", async () => {
    const cases: [string, RegExp][] = [
      [join(dir, "no", "such", "dir", "x.npy"), /ENOENT/],
      [join(dir, "sub"), /EISDIR/],
      [join(dir, "good.b2nd", "x.npy"), /ENOTDIR/],
    ];
    for (const [path, code] of cases) {
      expectError(await cli("slice", GOOD, "0", "--out", path), 1, path, code);
    }
  });

  it("control characters in a message are escaped, so it stays one line", async () => {
    const nasty = join(dir, "a\nb\u001b[31mc.b2nd");
    const line = expectError(await cli("info", nasty), 1, "no such file");
    expect(line).toContain("a\\nb\\x1b[31mc.b2nd");
  });
});

describe("usage errors exit 2", () => {
  it("bad selections", async () => {
    const cases: [string, RegExp][] = [
      ["1:2:0", /slice step is zero/],
      ["a, b", /invalid selection entry 'a'/],
      ["0, 0, 0, 0", /4 entries for 3 dimensions/],
      ["..., 0, ...", /only one ellipsis/],
      ["1.5", /invalid selection entry '1.5'/],
      ["99999999999999999999", /invalid selection entry/],
    ];
    for (const [sel, pattern] of cases) {
      expectError(await cli("slice", GOOD, sel, "--out", out), 2, pattern);
    }
    expect(existsSync(out)).toBe(false);
  });

  it("bad arguments", async () => {
    expectError(await cli("info"), 2, "info needs a path or URL");
    expectError(await cli("slice", GOOD), 2, "slice needs --out");
    expectError(await cli("slice", GOOD, "0", "--out"), 2, "--out needs a value (FILE)");
    expectError(await cli("info", GOOD, "--frob"), 2, "unknown option --frob");
    expectError(await cli("info", GOOD, "extra"), 2, "unexpected argument extra");
    expectError(await cli("frobnicate"), 2, 'unknown command "frobnicate"');
    const none = await cli();
    expect(none.status).toBe(2); // no command: the help, on stdout
    expect(none.stdout).toContain("Usage:");
  });
});

describe("--debug", () => {
  it("prints the stack trace instead of one line", async () => {
    const missing = join(dir, "missing.b2nd");
    const cases: [string[], number, string][] = [
      [["info", missing, "--debug"], 1, "SourceError"],
      [["--debug", "info", join(dir, "truncated.b2nd")], 1, "FormatError"],
      [["slice", GOOD, "37", "--out", out, "--debug"], 1, "OptionsError"],
      [["slice", GOOD, "1:2:0", "--out", out, "--debug"], 2, "Error"],
    ];
    for (const [args, status, name] of cases) {
      const r = await cli(...args);
      expect(r.status, r.stderr).toBe(status);
      expect(r.stderr).toContain(name);
      expect(r.stderr).toMatch(/\n\s+at .*:\d+:\d+/); // stack frames
      expect(r.stderr.split("\n").filter((l) => l !== "").length).toBeGreaterThan(1);
    }
  });
});
