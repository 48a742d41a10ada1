// The table layer's optional dependencies, loaded on first use so that importing the package
// entry never requires them. A missing one is a typed error naming the package to install.
import { ZarrBlosc2Error } from "../errors.js";

/** An optional dependency a function needs is not installed. */
export class MissingDependencyError extends ZarrBlosc2Error {
  override name = "MissingDependencyError";
  constructor(
    /** The npm package to install. */
    readonly packageName: string,
    /** What needed it, e.g. "toArrow". */
    readonly neededBy: string,
    options?: { cause?: unknown },
  ) {
    super(`${neededBy} needs the npm package ${packageName}: npm install ${packageName}`, options);
  }
}

function missing(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

/** Imports an optional dependency; a missing package becomes a MissingDependencyError. */
export async function loadOptional<T>(
  name: string,
  neededBy: string,
  importer: () => Promise<T>,
): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    if (missing(err)) throw new MissingDependencyError(name, neededBy, { cause: err });
    throw err;
  }
}

// @internal: the optional packages' types stay out of the published .d.ts files (stripInternal),
// which must compile without those packages installed.
/** @internal */
export type ArrowModule = typeof import("apache-arrow");
/** @internal */
export type DuckDBModule = typeof import("@duckdb/node-api");
/** @internal */
export type ParquetWriterModule = typeof import("hyparquet-writer");

/** @internal */
export function loadArrow(neededBy: string): Promise<ArrowModule> {
  return loadOptional("apache-arrow", neededBy, () => import("apache-arrow"));
}
/** @internal */
export function loadDuckDB(neededBy: string): Promise<DuckDBModule> {
  return loadOptional("@duckdb/node-api", neededBy, () => import("@duckdb/node-api"));
}
/** @internal */
export function loadParquetWriter(neededBy: string): Promise<ParquetWriterModule> {
  return loadOptional("hyparquet-writer", neededBy, () => import("hyparquet-writer"));
}

/** @internal */
export type ZarritaModule = typeof import("zarrita");
/** @internal */
export function loadZarrita(neededBy: string): Promise<ZarritaModule> {
  return loadOptional("zarrita", neededBy, () => import("zarrita"));
}
