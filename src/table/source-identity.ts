// What a source is, byte for byte, when a virtual file is planned: the files behind it (size,
// modification time, inode) and, for b2nd arrays, the frame's chunk index. Hashed into the
// virtual file's ETag and the stats sidecar's fingerprint, and checked again while serving:
// a local file that was truncated, removed or rewritten since then fails with a SourceError
// naming it instead of producing bytes that no longer match the ETag.
import { B2ndArray } from "../decode/b2nd-read.js";
import { OptionsError } from "../errors.js";
import { SourceError } from "../io/source.js";
import type { TableSource, TableSpec, ZarrLocation } from "./tables.js";
import type { IndexRange } from "./where.js";

interface Stamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

type StatFn = (path: string) => Promise<Stamp | undefined>;

export interface SourceGuard {
  /** The source to read (a Zarr source re-opened on a store that checks every key it reads). */
  source: TableSource;
  /** JSON-able description of the source's bytes (files, b2nd chunk index). */
  identity: unknown;
  /** The newest modification time among the files, when there are files. */
  lastModified: Date | undefined;
  /** Fails with a SourceError when a file behind `box` changed (b2nd; Zarr checks on read). */
  check(box: readonly IndexRange[]): Promise<void>;
}

async function nodeStat(): Promise<{ stat: StatFn; join: (...p: string[]) => string }> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  return {
    stat: async (p) => {
      try {
        const s = await fs.stat(p);
        return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return undefined;
        throw new SourceError(p, undefined, `cannot stat: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    join: path.join,
  };
}

function localPath(x: unknown): string | undefined {
  const p = (x as { path?: unknown } | undefined)?.path;
  return typeof p === "string" ? p : undefined;
}

function compare(path: string, was: Stamp | undefined, now: Stamp | undefined): void {
  if (was === undefined && now === undefined) return;
  const what = "since the virtual Parquet file was planned";
  if (now === undefined) throw new SourceError(path, undefined, `removed ${what}`);
  if (was === undefined) throw new SourceError(path, undefined, `appeared ${what}`);
  if (now.size !== was.size)
    throw new SourceError(path, undefined, `${was.size} bytes became ${now.size} ${what}`);
  if (now.mtimeMs !== was.mtimeMs || now.ino !== was.ino)
    throw new SourceError(path, undefined, `modified ${what}`);
}

function newest(stamps: Iterable<Stamp>): Date | undefined {
  let t = -Infinity;
  for (const s of stamps) t = Math.max(t, s.mtimeMs);
  return t === -Infinity ? undefined : new Date(t);
}

async function b2ndGuard(arr: B2ndArray): Promise<SourceGuard> {
  const { frame, directory } = arr.sources;
  const offsets = arr.offsets.map((o) =>
    o.kind === "data" ? o.offset : o.kind === "zeros" ? -1 : o.kind === "nan" ? -2 : -3,
  );
  const layout = {
    kind: "b2nd",
    shape: arr.shape,
    chunkShape: arr.chunkShape,
    blockShape: arr.blockShape,
    dtype: arr.dtype,
    cbytes: arr.header.cbytes,
    nbytes: arr.header.nbytes,
    offsets,
  };
  const dirPath = localPath(directory);
  const framePath = localPath(frame);
  if (dirPath === undefined && (directory !== undefined || framePath === undefined)) {
    // Memory or HTTP: only the chunk index pins the bytes.
    return { source: arr, identity: layout, lastModified: undefined, check: async () => {} };
  }
  const { stat, join } = await nodeStat();
  const files = new Map<string, Stamp | undefined>();
  if (dirPath !== undefined) {
    const { readdir } = await import("node:fs/promises");
    for (const name of (await readdir(dirPath)).sort()) {
      files.set(name, await stat(join(dirPath, name)));
    }
  } else files.set(framePath!, await stat(framePath!));
  const at = (name: string) => (dirPath === undefined ? name : join(dirPath, name));
  const grid = arr.shape.map((n, d) => Math.ceil(n / arr.chunkShape[d]!));
  const check = async (box: readonly IndexRange[]) => {
    const names = dirPath === undefined ? [framePath!] : ["chunks.b2frame", ...chunkFiles(box)];
    for (const name of names) compare(at(name), files.get(name), await stat(at(name)));
  };
  // The chunk files of a sparse frame behind a box.
  function chunkFiles(box: readonly IndexRange[]): string[] {
    const lo = box.map((r, d) => Math.floor(r.start / arr.chunkShape[d]!));
    const hi = box.map((r, d) => Math.floor((r.stop - 1) / arr.chunkShape[d]!));
    const out: string[] = [];
    const idx = [...lo];
    if (box.some((r) => r.stop <= r.start)) return out;
    for (;;) {
      let linear = 0;
      for (let d = 0; d < idx.length; d++) linear = linear * grid[d]! + idx[d]!;
      const o = arr.offsets[linear];
      if (o?.kind === "data")
        out.push(`${o.offset.toString(16).toUpperCase().padStart(8, "0")}.chunk`);
      let d = idx.length - 1;
      while (d >= 0 && ++idx[d]! > hi[d]!) idx[d] = lo[d--]!;
      if (d < 0) break;
    }
    return out;
  }
  const stamps = [...files.values()].filter((s): s is Stamp => s !== undefined);
  return {
    source: arr,
    identity: { ...layout, files: [...files.entries()] },
    lastModified: newest(stamps),
    check,
  };
}

interface Store {
  get(key: string, opts?: unknown): Promise<Uint8Array | undefined>;
  getRange?(key: string, range: unknown, opts?: unknown): Promise<Uint8Array | undefined>;
  contents?: () => unknown;
  root?: unknown;
}

/** Paths (relative to the store root, no leading "/") of the directories behind a source. */
function zarrDirs(loc: ZarrLocation): string[] {
  const path = loc.path.replace(/^\/+/, "");
  if (loc.kind === "group") return [path];
  const a = loc as ZarrLocation & { dimensionNames?: string[]; shape?: number[] };
  const names = a.dimensionNames ?? (a.attrs?._ARRAY_DIMENSIONS as string[] | undefined) ?? [];
  const parent = path.split("/").slice(0, -1).join("/");
  return [
    path,
    ...names
      .filter((n) => typeof n === "string" && n !== "" && !n.includes("/"))
      .map((n) => (parent ? `${parent}/${n}` : n)),
  ];
}

async function zarrGuard(loc: ZarrLocation): Promise<SourceGuard> {
  const store = loc.store as Store;
  if (typeof store?.root !== "string" || typeof store.get !== "function") {
    // A store that cannot be listed: the metadata (in the table spec) is the identity.
    return {
      source: loc,
      identity: { kind: "zarr" },
      lastModified: undefined,
      check: async () => {},
    };
  }
  const root = store.root;
  const { stat, join } = await nodeStat();
  const { readdir } = await import("node:fs/promises");
  const files = new Map<string, Stamp>();
  const dirs = zarrDirs(loc);
  async function walk(rel: string): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return;
      throw new SourceError(join(root, rel), undefined, `cannot list: ${(err as Error).message}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile() && !e.name.endsWith(SIDECAR_SUFFIX)) {
        const s = await stat(join(root, child));
        if (s) files.set(child, s);
      }
    }
  }
  for (const d of dirs) await walk(d);
  const covered = (rel: string) =>
    dirs.some((d) => d === "" || rel === d || rel.startsWith(`${d}/`));
  const verify = async (key: string, found: boolean): Promise<void> => {
    const rel = key.replace(/^\/+/, "");
    if (!covered(rel)) return;
    const path = join(root, rel);
    const now = await stat(path);
    compare(path, files.get(rel), now);
    if (found !== (now !== undefined)) {
      throw new SourceError(path, undefined, "changed while it was read");
    }
  };
  const guarded: Store = {
    root,
    async get(key, opts) {
      const bytes = await store.get(key, opts);
      await verify(key, bytes !== undefined);
      return bytes;
    },
  };
  if (typeof store.getRange === "function") {
    const getRange = store.getRange.bind(store);
    guarded.getRange = async (key, range, opts) => {
      const bytes = await getRange(key, range, opts);
      await verify(key, bytes !== undefined);
      return bytes;
    };
  }
  if (typeof store.contents === "function") guarded.contents = store.contents.bind(store);
  const zarr = await import("zarrita");
  const reopened = (await zarr.open(new zarr.Location(guarded as never, loc.path as never), {
    kind: loc.kind,
  } as never)) as unknown as ZarrLocation;
  return {
    source: reopened,
    identity: { kind: "zarr", root, dirs, files: [...files.entries()] },
    lastModified: newest(files.values()),
    check: async () => {},
  };
}

/** The guard of a source (see SourceGuard). */
export async function guardSource(source: TableSource): Promise<SourceGuard> {
  if (source instanceof B2ndArray) return b2ndGuard(source);
  const loc = source as ZarrLocation;
  if (loc && typeof loc === "object" && (loc.kind === "array" || loc.kind === "group"))
    return zarrGuard(loc);
  throw new OptionsError(
    "table source must be a b2nd array (openB2nd), a zarrita array or a zarrita group",
  );
}

/** What a table's layout depends on, besides its files: names, types, shapes, coordinates. */
export function tableIdentity(t: TableSpec): unknown {
  return {
    name: t.name,
    dims: t.dims.map((d) => ({
      name: d.name,
      size: d.size,
      type: d.type,
      coords: d.coords ? Array.from(d.coords as ArrayLike<number | bigint>, String) : null,
    })),
    variables: t.variables.map((v) => ({
      name: v.name,
      type: v.type,
      shape: v.shape,
      chunkShape: v.chunkShape,
      blockShape: v.blockShape ?? null,
      fillValue: v.fillValue === undefined ? null : String(v.fillValue),
    })),
  };
}

export const SIDECAR_SUFFIX = ".zb2stats.json";

/** Lowercase hex SHA-256 of the given parts (strings as UTF-8). */
export async function sha256(...parts: (string | Uint8Array)[]): Promise<string> {
  const enc = new TextEncoder();
  const bytes = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const total = bytes.reduce((n, b) => n + b.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const b of bytes) {
    all.set(b, at);
    at += b.length;
  }
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The fingerprint of one table of a source: its files and its layout. */
export async function fingerprint(guard: SourceGuard, table: TableSpec): Promise<string> {
  return sha256(JSON.stringify({ source: guard.identity, table: tableIdentity(table) }));
}
