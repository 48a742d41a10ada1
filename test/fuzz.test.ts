// The mutation fuzzer (scripts/fuzz.mjs) in CI: a fixed seed and case count (so every run
// fuzzes the same inputs) under a time cap, then the fuzzer's own detectors on injected
// misbehaviour, then every saved failing input in fixtures/data/fuzz-regressions/ replayed.
// Longer runs: `npm run fuzz` (600 s) or `node scripts/fuzz.mjs --seconds N --seed S`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

interface FuzzSummary {
  seed: number;
  cases: number;
  ok: number;
  typed: Record<string, number>;
  crashes: number;
  traps: number;
  hangs: number;
  leaks: number;
  cli: { runs: number; ok: number; errors: number; failures: number };
  seconds: number;
  warmup: { ok: number; typed: number; failures: number };
  failures: { file: string; outcome: string; target: string; error: string }[];
}

interface FuzzOptions {
  seconds?: number;
  seed?: number;
  cases?: number;
  cli?: boolean;
  cliEvery?: number;
  timeoutMs?: number;
  leakEvery?: number;
  saveDir?: string;
  log?: (line: string) => void;
  inject?: { kind: "leak" | "crash" | "hang"; every: number };
}

interface Verdict {
  outcome: "ok" | "typed" | "crash" | "trap" | "hang" | "leak";
  name?: string;
  message?: string;
  op?: string;
  stack?: string;
}

interface FuzzModule {
  runFuzz(options: FuzzOptions): Promise<FuzzSummary>;
  replayRegression(path: string, options?: { timeoutMs?: number }): Promise<Verdict>;
  clean(summary: FuzzSummary): boolean;
  REGRESSIONS: string;
}

/** Seed and case count of the CI run: change them only on purpose (the run is reproducible). */
const CI_SEED = 20_240_601;
const CI_CASES = 15_000;
/** Safety cap for slow machines: the run stops early (with fewer cases) after this. */
const CI_SECONDS = 75;
/** Where the CI run saves failing inputs (git-ignored; the tests never write into fixtures/). */
const FAILURES = join(ROOT, ".setup/fuzz-failures");

/**
 * Saved inputs that still fail because of an open bug in src/, by file name: their replay is
 * `it.fails` until the bug is fixed, then remove the entry and it becomes a normal test.
 */
const OPEN_BUGS: Record<string, string> = {
  // None open. Fixed so far (their inputs replay as normal tests): negative wasm pointers
  // above 2 GiB (033ebaf6dd91bfe8.b2), decompressItems walking every spanned block before
  // validating (a30ad27d74193223.b2), special value chunks filled item by item in wasm
  // (a430b47d96075325.b2), get() reading on after it rejected (3cd282b86ef4ea9b.b2nd).
  // Add an entry like
  //   "<hash>.b2": "what is wrong (src/file.ts)",
  // with a comment naming the bug, for an input that fails until a fix lands.
};

let fuzz: FuzzModule;

/** dist/ older than any file of src/ (or missing) is rebuilt: the fuzzer runs the built code. */
function distIsStale(): boolean {
  const built = join(ROOT, "dist/index.js");
  if (!existsSync(built)) return true;
  // tsc rewrites only changed outputs; its build info records every build.
  const info = join(ROOT, "dist/.tsbuildinfo");
  const builtAt = statSync(existsSync(info) ? info : built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  return newest(join(ROOT, "src")) > builtAt;
}

beforeAll(async () => {
  if (distIsStale()) {
    const r = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
  }
  // A computed specifier: the fuzzer is plain JavaScript, typed by FuzzModule above.
  fuzz = (await import(pathToFileURL(join(ROOT, "scripts/fuzz.mjs")).href)) as FuzzModule;
});

function totalTyped(s: FuzzSummary): number {
  return Object.values(s.typed).reduce((a, b) => a + b, 0);
}

describe("fuzzer", () => {
  it(`mutated chunks and frames (seed ${CI_SEED}, ${CI_CASES} cases): typed errors only, no crash, trap, hang or leak`, async () => {
    const summary = await fuzz.runFuzz({
      seed: CI_SEED,
      cases: CI_CASES,
      seconds: CI_SECONDS,
      cli: true,
      saveDir: FAILURES,
    });
    console.log(`fuzz summary: ${JSON.stringify(summary)}`);
    const failures = summary.failures.map(
      (f) => `${f.outcome} ${f.target}: ${f.error} (${f.file})`,
    );
    expect(
      failures,
      "failing inputs were saved with notes under .setup/fuzz-failures/: triage them, then move them to fixtures/data/fuzz-regressions/",
    ).toEqual([]);
    expect(fuzz.clean(summary)).toBe(true);
    // Every unmutated corpus input decodes or fails typed (the unsupported-dtype fixtures).
    expect(summary.warmup.failures).toBe(0);
    // The run did real work: many cases, all outcomes seen, the CLI exercised.
    expect(summary.cases).toBeGreaterThan(1000);
    expect(summary.ok).toBeGreaterThan(0);
    expect(totalTyped(summary)).toBeGreaterThan(0);
    expect(summary.typed.FormatError ?? 0).toBeGreaterThan(0);
    expect(summary.cli.runs).toBeGreaterThan(0);
    expect(summary.cli.errors).toBeGreaterThan(0);
    expect(summary.cases).toBe(summary.ok + totalTyped(summary));
  }, 180_000);

  it("detects injected leaks, crashes and hangs (the fuzzer can fail)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zb-fuzz-selftest-"));
    try {
      const run = (kind: "leak" | "crash" | "hang") =>
        fuzz.runFuzz({
          seed: 7,
          cases: 520,
          cli: false,
          leakEvery: 250,
          timeoutMs: 10_000, // the injected hangs cost this; normal cases stay far below it
          inject: { kind, every: 200 },
          saveDir: join(dir, kind),
          log: () => {},
        });
      const leak = await run("leak");
      expect(leak.leaks).toBeGreaterThan(0);
      expect(fuzz.clean(leak)).toBe(false);
      const crash = await run("crash");
      expect(crash.crashes).toBe(2);
      expect(crash.failures.map((f) => f.error)).toEqual([
        "TypeError: injected crash",
        "TypeError: injected crash",
      ]);
      const hang = await run("hang");
      expect(hang.hangs).toBe(2);
      // Failing inputs are saved with a note.
      const saved = readdirSync(join(dir, "crash"));
      expect(saved.some((f) => f.endsWith(".json"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("fuzz regressions", () => {
  const dir = join(ROOT, "fixtures/data/fuzz-regressions");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.(b2|b2nd)$/.test(f))
        .sort()
    : [];
  it("every saved input has its note", () => {
    for (const f of files) expect(existsSync(join(dir, f.replace(/\.\w+$/, ".json")))).toBe(true);
  });
  for (const file of files) {
    const bug = OPEN_BUGS[file];
    const test = bug ? it.fails : it;
    test(`${file}${bug ? ` (open bug: ${bug})` : ""} replays as ok or a typed error`, async () => {
      const verdict = await fuzz.replayRegression(join(dir, file));
      expect(
        ["ok", "typed"].includes(verdict.outcome),
        `${verdict.outcome}: ${verdict.name}: ${verdict.message} (${verdict.op})\n${verdict.stack}`,
      ).toBe(true);
    }, 60_000);
  }
});
