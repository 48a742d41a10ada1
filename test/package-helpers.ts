// The package as a user gets it: `npm pack` of the working tree (dist/ built first), unpacked
// into temp projects. Nothing here reaches a registry: the tarball has no dependencies, and
// tools (TypeScript, the bundlers) run from this repository's node_modules.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "./helpers.js";

export interface PackedFile {
  path: string;
  size: number;
}

/** `npm pack --dry-run --json`: the files the tarball would hold. */
export function packList(): PackedFile[] {
  ensureBuilt();
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return (JSON.parse(out) as { files: PackedFile[] }[])[0]!.files;
}

/** Packs the package into `dir`; returns the tarball's path. */
export function packTarball(dir: string): string {
  ensureBuilt();
  const out = execFileSync(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", dir],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  return join(dir, (JSON.parse(out) as { filename: string }[])[0]!.filename);
}

/**
 * A temp project (in os.tmpdir(), outside this repository, so nothing resolves from its
 * node_modules by accident) with the tarball unpacked as node_modules/zarr-blosc2, the way npm
 * installs it, and `links`: packages of this repository's node_modules linked in by name.
 */
export function tempProject(
  prefix: string,
  tarball: string,
  links: string[] = [],
): { dir: string; modules: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const modules = join(dir, "node_modules");
  const pkg = join(modules, "zarr-blosc2");
  mkdirSync(pkg, { recursive: true });
  const untar = spawnSync("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"], {
    encoding: "utf8",
  });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  for (const name of links) {
    const target = join(modules, name);
    mkdirSync(join(target, ".."), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), target, "dir");
  }
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "user-app", private: true, type: "module" }, null, 2)}\n`,
  );
  return { dir, modules };
}

/** Names of the packages under a node_modules folder (scoped ones as @scope/name). */
export function installedPackages(modules: string): string[] {
  return readdirSync(modules)
    .filter((n) => !n.startsWith("."))
    .flatMap((n) =>
      n.startsWith("@") ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n],
    );
}
