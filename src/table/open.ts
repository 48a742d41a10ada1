// Opens a table source by path or URL (Node): a .b2nd file or sparse b2nd directory, a Zarr
// array or group (v2 or v3). A path inside a store opens the store at its outermost group, so
// coordinate arrays next to an array are found. Used by the CLI and the DuckDB scan worker.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { openB2nd } from "../decode/b2nd-read.js";
import { OptionsError } from "../errors.js";
import { registerBlosc2Codecs } from "../zarr/register.js";
import { loadOptional, loadZarrita, type ZarritaModule } from "./deps.js";
import type { TableSource } from "./tables.js";

export interface Opened {
  source: TableSource;
  close(): Promise<void>;
}

function isZarrDir(dir: string): boolean {
  return ["zarr.json", ".zarray", ".zgroup"].some((f) => existsSync(join(dir, f)));
}

function isGroupDir(dir: string): boolean {
  if (existsSync(join(dir, ".zgroup"))) return true;
  const meta = join(dir, "zarr.json");
  if (!existsSync(meta)) return false;
  try {
    return JSON.parse(readFileSync(meta, "utf8")).node_type === "group";
  } catch {
    return false;
  }
}

/** zarrita (an optional peer), with the Blosc2 codecs registered: only Zarr stores need it. */
async function zarrita(input: string): Promise<ZarritaModule> {
  const zarr = await loadZarrita(`opening the Zarr store ${input}`);
  registerBlosc2Codecs(zarr.registry);
  return zarr;
}

/** Opens a table source by path or URL. */
export async function openTableSource(input: string): Promise<Opened> {
  if (/^https?:\/\//i.test(input)) {
    if (/\.(b2nd|b2frame)\/?$/i.test(input)) {
      const arr = await openB2nd(input);
      return { source: arr, close: () => arr.close() };
    }
    const zarr = await zarrita(input);
    // Consolidated metadata (when the store has it) lists a group's arrays over HTTP.
    const store = await zarr.withMaybeConsolidatedMetadata(
      new zarr.FetchStore(input.replace(/\/+$/, "")),
    );
    const node = await zarr.open(store);
    return { source: node as unknown as TableSource, close: async () => {} };
  }
  const path = resolve(input);
  if (!existsSync(path)) throw new OptionsError(`${input}: no such file or directory`);
  const dir = statSync(path).isDirectory();
  if (!dir || existsSync(join(path, "chunks.b2frame"))) {
    const arr = await openB2nd(path);
    return { source: arr, close: () => arr.close() };
  }
  if (!isZarrDir(path)) {
    throw new OptionsError(`${input}: neither a b2nd file nor a Zarr array or group`);
  }
  // The store's root: the outermost group directory holding this one.
  let root = path;
  while (dirname(root) !== root && isGroupDir(dirname(root))) root = dirname(root);
  const zarr = await zarrita(input);
  const { default: FileSystemStore } = await loadOptional(
    "@zarrita/storage",
    `opening the Zarr store ${input}`,
    () => import("@zarrita/storage/fs"),
  );
  const store = new FileSystemStore(root);
  const rel = relative(root, path)
    .split(sep)
    .filter((p) => p !== "");
  const location = zarr.root(store).resolve(rel.join("/") || "/");
  const node = await zarr.open(location as never);
  return { source: node as unknown as TableSource, close: async () => {} };
}
