// What `npm pack` would publish (`npm pack --dry-run --json`): no two names that differ only
// in case (they clash on case-insensitive file systems), no build leftovers (.tsbuildinfo),
// no source map without the source it points at, and what the package's entry points,
// exports and bin name is there.
import { readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";
import { type PackedFile, packList } from "./package-helpers.js";

/** Names that are the same file on a case-insensitive file system, grouped. */
function caseClashes(paths: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const p of paths) groups.set(p.toLowerCase(), [...(groups.get(p.toLowerCase()) ?? []), p]);
  return [...groups.values()].filter((g) => g.length > 1);
}

/** Source maps whose `sources` are not all in the package, and JS pointing at absent maps. */
function orphanMaps(paths: readonly string[], read: (path: string) => string): string[] {
  const present = new Set(paths);
  const problems: string[] = [];
  for (const p of paths) {
    if (p.endsWith(".map")) {
      const map = JSON.parse(read(p)) as { sources?: string[]; sourcesContent?: unknown[] };
      (map.sources ?? []).forEach((s, i) => {
        const target = posix.normalize(posix.join(posix.dirname(p), s));
        if (!present.has(target) && map.sourcesContent?.[i] == null) {
          problems.push(`${p} -> ${target}`);
        }
      });
    } else if (/\.(m?js|d\.ts)$/.test(p)) {
      const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(read(p));
      if (m && !m[1]!.startsWith("data:")) {
        const target = posix.normalize(posix.join(posix.dirname(p), m[1]!));
        if (!present.has(target)) problems.push(`${p} -> ${target}`);
      }
    }
  }
  return problems;
}

describe("the published tarball", () => {
  let files: PackedFile[];
  let paths: string[];
  const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

  beforeAll(() => {
    files = packList();
    paths = files.map((f) => f.path);
  });

  it("has no names that clash on case-insensitive file systems", () => {
    expect(caseClashes(paths)).toEqual([]);
    // The checker finds a clash (wasm/build.sh once shipped zlib.txt and ZLIB.txt).
    expect(caseClashes(["a/zlib.txt", "a/ZLIB.txt", "a/b.txt"])).toEqual([
      ["a/zlib.txt", "a/ZLIB.txt"],
    ]);
  });

  it("has no build leftovers", () => {
    expect(paths.filter((p) => /\.tsbuildinfo$|(^|\/)\.stamp$|(^|\/)obj\//.test(p))).toEqual([]);
  });

  it("has no source map without its source", () => {
    expect(orphanMaps(paths, read)).toEqual([]);
    // The checker can fail: a map pointing at ../src/x.ts that is not shipped.
    const fake: Record<string, string> = {
      "dist/x.js": "export {};\n//# sourceMappingURL=x.js.map\n",
      "dist/x.js.map": JSON.stringify({ version: 3, sources: ["../src/x.ts"], mappings: "" }),
      "dist/y.js": "export {};\n//# sourceMappingURL=y.js.map\n",
    };
    expect(orphanMaps(Object.keys(fake), (p) => fake[p]!)).toEqual([
      "dist/x.js.map -> src/x.ts",
      "dist/y.js -> dist/y.js.map",
    ]);
  });

  it("holds every file package.json points at, and the licences", () => {
    const pkg = JSON.parse(read("package.json")) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string | Record<string, string>>;
      imports: Record<string, Record<string, string>>;
    };
    const targets = [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.bin),
      ...Object.values(pkg.exports).flatMap((t) =>
        typeof t === "string" ? [t] : Object.values(t),
      ),
      ...Object.values(pkg.imports).flatMap((t) => Object.values(t)),
    ].map((t) => posix.normalize(t));
    const present = new Set(paths);
    expect(targets.filter((t) => !present.has(t))).toEqual([]);
    // The worker the pool loads sits next to the pool module it is loaded from.
    expect(present.has(join(dirname("dist/decode/pool.js"), "pool-worker.js"))).toBe(true);
    const licences = paths.filter((p) => p.startsWith("wasm/build/licenses/")).sort();
    expect(licences).toEqual(
      ["bitshuffle", "c-blosc2", "fastlz", "lz4", "zlib", "zstd"].map(
        (n) => `wasm/build/licenses/${n}.txt`,
      ),
    );
    // zlib.txt is the licence of the zlib compiled in (1.3.1, 1995-2024), not an older copy.
    expect(read("wasm/build/licenses/zlib.txt")).toMatch(/1995-20(2[2-9])/);
  });
});
