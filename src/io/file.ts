// Local files (Node only). Loaded by openSource with a dynamic import when given a local path.

import { readSync } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ByteSource,
  byteRange,
  checkRange,
  type DirectorySource,
  describeReason,
  newStats,
  SourceError,
  type SourceStats,
  safeRelativeName,
  throwIfAborted,
} from "./source.js";

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function fsFailure(
  name: string,
  range: [number, number] | undefined,
  what: string,
  err: unknown,
): SourceError {
  if (err instanceof SourceError) return err;
  if (errorCode(err) === "ENOENT")
    return new SourceError(name, range, "no such file", { cause: err });
  return new SourceError(name, range, `${what}: ${describeReason(err)}`, { cause: err });
}

/**
 * Reads up to this size are synchronous: a b2nd read makes many small reads (a chunk header,
 * a few blocks), and each asynchronous read costs a thread-pool round trip that takes longer
 * than copying the bytes out of the page cache. Larger reads stay asynchronous, so the event
 * loop is never held for long.
 */
const SYNC_READ_MAX = 256 * 1024;

/** A local file read with positioned reads on one lazily opened handle. */
export class FileSource implements ByteSource {
  readonly name: string;
  readonly stats: SourceStats;
  #handle: Promise<FileHandle> | undefined;
  /** The opened handle while it is open; close() clears it before closing the descriptor. */
  #open_: FileHandle | undefined;
  #size: number | undefined;

  constructor(
    readonly path: string,
    options: { stats?: SourceStats } = {},
  ) {
    this.name = path;
    this.stats = options.stats ?? newStats();
  }

  #open(range: [number, number] | undefined): Promise<FileHandle> {
    if (this.#handle === undefined) {
      const opening = open(this.path, "r");
      this.#handle = opening;
      opening.then(
        (h) => {
          if (this.#handle === opening) this.#open_ = h;
        },
        () => {},
      );
      // A failed open is retried by the next call.
      opening.catch(() => {
        if (this.#handle === opening) this.#handle = undefined;
      });
    }
    return this.#handle.catch((err: unknown) => {
      throw fsFailure(this.name, range, "cannot open", err);
    });
  }

  async size(): Promise<number> {
    if (this.#size === undefined) {
      const handle = await this.#open(undefined);
      try {
        this.#size = (await handle.stat()).size;
      } catch (err) {
        throw fsFailure(this.name, undefined, "cannot stat", err);
      }
    }
    return this.#size;
  }

  async read(
    offset: number,
    length: number,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array> {
    checkRange(this.name, offset, length);
    return this.readInto(offset, new Uint8Array(length), options);
  }

  async readInto(
    offset: number,
    out: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array> {
    const length = out.length;
    checkRange(this.name, offset, length);
    if (length === 0) return out;
    const range = byteRange(offset, length);
    throwIfAborted(this.name, range, options?.signal);
    checkRange(this.name, offset, length, await this.size());
    const handle = await this.#open(range);
    throwIfAborted(this.name, range, options?.signal);
    this.stats.requests += 1;
    let received = 0;
    try {
      // Synchronous only while the handle is still the open one: close() clears #open_ before
      // it closes the descriptor, and a synchronous loop never yields in between.
      const sync = length <= SYNC_READ_MAX && this.#open_ === handle;
      while (received < length) {
        const bytesRead = sync
          ? readSync(handle.fd, out, received, length - received, offset + received)
          : (await handle.read(out, received, length - received, offset + received)).bytesRead;
        if (bytesRead === 0) break;
        received += bytesRead;
        this.stats.bytesRead += bytesRead;
      }
    } catch (err) {
      throw fsFailure(this.name, range, "read failed", err);
    }
    if (received < length) {
      throw new SourceError(this.name, range, `short read: got ${received} of ${length} bytes`);
    }
    throwIfAborted(this.name, range, options?.signal);
    return out;
  }

  /** Closes the handle. A later read opens the file again. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#open_ = undefined;
    if (handle === undefined) return;
    let opened: FileHandle;
    try {
      opened = await handle;
    } catch {
      return;
    }
    await opened.close();
  }
}

/** A local directory of files (a sparse b2nd frame). */
export class FileDirectory implements DirectorySource {
  readonly name: string;
  readonly stats: SourceStats;
  readonly #files = new Map<string, FileSource>();

  constructor(
    readonly path: string,
    options: { stats?: SourceStats } = {},
  ) {
    this.name = path;
    this.stats = options.stats ?? newStats();
  }

  /** The FileSource of `name` (cached; opened lazily, so a missing file fails on first use). */
  file(name: string): FileSource {
    let source = this.#files.get(name);
    if (source === undefined) {
      source = new FileSource(join(this.path, ...safeRelativeName(this.name, name)), {
        stats: this.stats,
      });
      this.#files.set(name, source);
    }
    return source;
  }

  /** Closes every file opened through file(). */
  async close(): Promise<void> {
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((f) => f.close()));
  }
}

/** Opens a local path or file: URL: a directory → FileDirectory, a file → FileSource. */
export async function openLocal(
  input: string | URL,
  stats: SourceStats = newStats(),
): Promise<FileSource | FileDirectory> {
  let path: string;
  try {
    path = input instanceof URL || input.startsWith("file:") ? fileURLToPath(input) : input;
  } catch (cause) {
    throw new SourceError(String(input), undefined, "invalid file URL", { cause });
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    throw fsFailure(path, undefined, "cannot stat", err);
  }
  if (info.isDirectory()) return new FileDirectory(path, { stats });
  return new FileSource(path, { stats });
}
