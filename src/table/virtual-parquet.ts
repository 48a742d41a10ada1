// virtualParquet: a Parquet file that exists nowhere as bytes. Its layout (row groups, pages,
// page index, footer) is planned from array metadata alone (parquet-layout.ts); a byte range is
// produced on demand: header and footer bytes from the plan, dimension values computed from
// indices or coordinates, variable values decoded from just the b2nd blocks (or Zarr chunks)
// behind the pages the range touches. It is a ByteRangeFile, so src/serve can serve it.
import { B2ndArray } from "../decode/b2nd-read.js";
import { FormatError, OptionsError, ZarrBlosc2Error } from "../errors.js";
import type { TypedArray } from "../format/dtype.js";
import { byteRange, checkRange, SourceError, throwIfAborted } from "../io/source.js";
import type { ByteRangeFile, ByteRangeStats } from "./byte-range-file.js";
import {
  LAYOUT_VERSION,
  type LayoutColumnInput,
  MAGIC,
  type Plan,
  planLayout,
  type VirtualParquetLayout,
} from "./parquet-layout.js";
import { encodePlain, LITTLE_ENDIAN, parquetColumn } from "./plain.js";
import { indicesOf, openScan, slabsOf } from "./scan.js";
import { fingerprint, guardSource, type SourceGuard, sha256 } from "./source-identity.js";
import { checkSidecar, readStatsSidecar, type StatsSidecar } from "./stats-sidecar.js";
import { newScanStats, type TableSource, type Variable, type ZarrLocation } from "./tables.js";
import type { IndexRange, Where } from "./where.js";

export interface VirtualParquetOptions {
  /** Conditions on dimension columns, as for toArrow: only that box becomes rows. */
  where?: Where;
  /** Variables to include (default all); dimension columns are always included. */
  columns?: readonly string[];
  /** For groups holding several tables: which one (dimension names joined by ","). */
  table?: string;
  /** For groups whose store cannot list children: the arrays to use. */
  arrays?: readonly string[];
  /** Most rows in one row group (default 1 048 576); chunk slabs larger than this are split. */
  rowGroupRows?: number;
  /**
   * Most rows in one page (default about 128 Ki, rounded up to whole blocks along the
   * dimension pages are split on). Pages are boxes of their row group, in C order.
   */
  pageRows?: number;
  /** Per-chunk statistics of the variables (computeStatsSidecar), or the path of a sidecar. */
  stats?: StatsSidecar | string;
  /**
   * Most decoded bytes one variable read holds (default 4 MiB): larger pages are produced in
   * parts, so memory per reader stays bounded whatever the page size.
   */
  readBytes?: number;
  /** Decoded parts kept for later ranges, in bytes (default 16 MiB, shared by all readers). */
  cacheBytes?: number;
  /** Aborts the planning. */
  signal?: AbortSignal;
}

/** A virtual Parquet file: a ByteRangeFile whose layout is known up front. */
export interface VirtualParquet extends ByteRangeFile {
  /** Row groups, pages and their offsets (for tests, docs and clients that want to plan). */
  readonly layout: VirtualParquetLayout;
  /** Drops the decoded parts held in the cache; later reads fail. The source stays open. */
  close(): Promise<void>;
}

const KNOWN = new Set([
  "where",
  "columns",
  "table",
  "arrays",
  "rowGroupRows",
  "pageRows",
  "stats",
  "readBytes",
  "cacheBytes",
  "signal",
]);

/** At most this many bytes per streamed piece. */
const PIECE_BYTES = 1 << 20;
/** Values produced at once for a page's byte range. */
const STEP_VALUES = 1 << 17;

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1)
    throw new OptionsError(`virtualParquet: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

const ITEMSIZE: Record<string, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  float16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
  uint64: 8,
  float64: 8,
};

function sourceName(source: TableSource): string {
  if (source instanceof B2ndArray) return source.name;
  const loc = source as ZarrLocation;
  const root = (loc.store as { root?: unknown })?.root;
  return typeof root === "string" ? `${root}${loc.path === "/" ? "" : loc.path}` : loc.path;
}

/**
 * Plans the virtual Parquet file of `source` (what toArrow takes: a b2nd array, a zarrita array
 * or group). Nothing is decoded here; only metadata (and coordinate arrays) are read.
 */
export async function virtualParquet(
  source: TableSource,
  options: VirtualParquetOptions = {},
): Promise<VirtualParquet> {
  for (const key of Object.keys(options)) {
    if (KNOWN.has(key)) continue;
    const hint = ["nanAsNull", "fillAsNull", "fillValue"].includes(key)
      ? ": every column of the virtual file is REQUIRED (sizes must be known in advance), so nothing becomes null"
      : ` (options: ${[...KNOWN].join(", ")})`;
    throw new OptionsError(`virtualParquet: unknown option "${key}"${hint}`);
  }
  const rowGroupRows = positiveInt(options.rowGroupRows, "rowGroupRows") ?? 1 << 20;
  const pageRows = positiveInt(options.pageRows, "pageRows");
  const readBytes = positiveInt(options.readBytes, "readBytes") ?? 4 << 20;
  const cacheBytes =
    options.cacheBytes === 0 ? 0 : (positiveInt(options.cacheBytes, "cacheBytes") ?? 16 << 20);
  if (!LITTLE_ENDIAN) throw new OptionsError("virtualParquet needs a little-endian platform");
  const guard = await guardSource(source);
  const scan = await openScan(guard.source, {
    ...(options.where ? { where: options.where } : {}),
    ...(options.columns ? { columns: options.columns } : {}),
    ...(options.table !== undefined ? { table: options.table } : {}),
    ...(options.arrays ? { arrays: options.arrays } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  throwIfAborted("virtualParquet", undefined, options.signal);
  const table = scan.table;
  const fp = await fingerprint(guard, table);
  const sidecar = await sidecarFor(options.stats, table.name, fp);
  const columns: LayoutColumnInput[] = scan.columns.map((c) => {
    if (c.kind === "dimension") {
      const index = table.dims.findIndex((d) => d.name === c.name);
      return { ...c, dim: { dim: table.dims[index]!, index } };
    }
    const variable = table.variables.find((v) => v.name === c.name)!;
    const stats = sidecar?.variables[c.name];
    if (stats) {
      const grid = variable.shape.map((n, d) => Math.ceil(n / stats.chunkShape[d]!));
      if (
        stats.type !== variable.type ||
        stats.chunkShape.length !== variable.shape.length ||
        stats.chunks.length !== prod(grid)
      ) {
        throw new OptionsError(
          `virtualParquet: the stats sidecar's "${c.name}" does not fit the array (type or chunks differ): recompute it`,
        );
      }
    }
    return { ...c, variable, ...(stats ? { stats } : {}) };
  });
  const align = columns.find((c) => c.variable)?.variable;
  const plan = planLayout({
    ranges: scan.ranges,
    columns,
    chunk: align?.chunkShape ?? table.dims.map((d) => Math.max(1, d.size)),
    block: align?.blockShape,
    rowGroupRows,
    pageRows,
    keyValue: [
      { key: "zarr_blosc2.table", value: table.name },
      { key: "zarr_blosc2.dimensions", value: JSON.stringify(table.dims.map((d) => d.name)) },
      { key: "zarr_blosc2.ranges", value: JSON.stringify(scan.ranges) },
    ],
    createdBy: `zarr-blosc2 (virtual parquet layout ${LAYOUT_VERSION})`,
  });
  const etag = `"${(await sha256(fp, plan.tail)).slice(0, 40)}"`;
  const lastModified = new Date(
    Math.floor((guard.lastModified ?? new Date()).getTime() / 1000) * 1000,
  );
  return new VirtualParquetFile(plan, guard, sourceName(source), etag, lastModified, {
    readBytes,
    cacheBytes,
  });
}

async function sidecarFor(
  stats: VirtualParquetOptions["stats"],
  tableName: string,
  fp: string,
): Promise<StatsSidecar["tables"][string] | undefined> {
  if (stats === undefined) return undefined;
  const sidecar =
    typeof stats === "string" ? await readStatsSidecar(stats) : checkSidecar(stats, "stats");
  const where = typeof stats === "string" ? stats : "options.stats";
  const entry = sidecar.tables[tableName];
  if (!entry) {
    throw new OptionsError(
      `virtualParquet: stats sidecar ${where} has no table "${tableName}" (it has ${Object.keys(sidecar.tables).join(", ") || "none"})`,
    );
  }
  if (entry.fingerprint !== fp) {
    throw new OptionsError(
      `virtualParquet: stats sidecar ${where} is stale (its source changed since it was computed): recompute it with writeStatsSidecar`,
    );
  }
  return entry;
}

interface CacheEntry {
  promise: Promise<TypedArray>;
  bytes: number;
}

/** Per read or stream: the last decoded part, kept while the caller walks through it. */
interface ReadContext {
  signal: AbortSignal | undefined;
  last?: { key: string; data: TypedArray };
}

interface Tiles {
  boxes: IndexRange[][];
  /** First page row of each part, then the page's row count. */
  starts: number[];
}

class VirtualParquetFile implements VirtualParquet {
  readonly size: number;
  readonly layout: VirtualParquetLayout;
  readonly stats: ByteRangeStats;
  private readonly counts = {
    bytesProduced: 0,
    blocksDecoded: 0,
    chunksTouched: 0,
    bytesRead: 0,
    requests: 0,
  };
  private readonly cache = new Map<string, CacheEntry>();
  private cached = 0;
  private readonly tileMemo = new Map<string, Tiles>();
  private closed = false;
  private readonly name: string;

  constructor(
    private readonly plan: Plan,
    private readonly guard: SourceGuard,
    source: string,
    readonly etag: string,
    readonly lastModified: Date,
    private readonly limits: { readBytes: number; cacheBytes: number },
  ) {
    this.size = plan.layout.size;
    this.layout = plan.layout;
    this.name = `virtual Parquet of ${source}`;
    const counts = this.counts;
    // b2nd arrays count their source reads cumulatively (exact under concurrency).
    const arr = guard.source instanceof B2ndArray ? guard.source : undefined;
    const base = arr ? { ...arr.sourceStats } : { bytesRead: 0, requests: 0 };
    this.stats = {
      get bytesProduced() {
        return counts.bytesProduced;
      },
      get blocksDecoded() {
        return counts.blocksDecoded;
      },
      get chunksTouched() {
        return counts.chunksTouched;
      },
      get bytesRead() {
        return counts.bytesRead + (arr ? arr.sourceStats.bytesRead - base.bytesRead : 0);
      },
      get requests() {
        return counts.requests + (arr ? arr.sourceStats.requests - base.requests : 0);
      },
    };
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    this.checkOpen(offset, length);
    checkRange(this.name, offset, length, this.size);
    const out = new Uint8Array(length);
    await this.fill(out, offset, { signal });
    this.counts.bytesProduced += length;
    return out;
  }

  stream(offset: number, length: number, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    this.checkOpen(offset, length);
    checkRange(this.name, offset, length, this.size);
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const ctx: ReadContext = { signal };
        const end = offset + length;
        for (let pos = offset; pos < end; ) {
          self.checkOpen(pos, end - pos);
          const piece = new Uint8Array(Math.min(PIECE_BYTES, end - pos));
          await self.fill(piece, pos, ctx);
          self.counts.bytesProduced += piece.length;
          pos += piece.length;
          yield piece;
        }
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    this.cached = 0;
    this.tileMemo.clear();
  }

  private checkOpen(offset: number, length: number): void {
    if (this.closed) throw new SourceError(this.name, byteRange(offset, length), "closed");
  }

  /** Writes the file's bytes [offset, offset + out.length) into `out`. */
  private async fill(out: Uint8Array, offset: number, ctx: ReadContext): Promise<void> {
    const { pageStarts, pageHeaders, pageRef, tail, tailOffset } = this.plan;
    const end = offset + out.length;
    let pos = offset;
    while (pos < end) {
      throwIfAborted(this.name, byteRange(pos, end - pos), ctx.signal);
      const at = pos - offset;
      if (pos < MAGIC.length) {
        const k = Math.min(end, MAGIC.length) - pos;
        out.set(MAGIC.subarray(pos, pos + k), at);
        pos += k;
        continue;
      }
      if (pos >= tailOffset) {
        out.set(tail.subarray(pos - tailOffset, end - tailOffset), at);
        break;
      }
      // The page whose header starts last at or before pos.
      let lo = 0;
      let hi = pageStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (pageStarts[mid]! <= pos) lo = mid;
        else hi = mid - 1;
      }
      const header = pageHeaders[lo]!;
      const rg = pageRef[3 * lo]!;
      const col = pageRef[3 * lo + 1]!;
      const page = pageRef[3 * lo + 2]!;
      const dataStart = pageStarts[lo]! + header.length;
      const dataSize = this.layout.rowGroups[rg]!.columns[col]!.pages[page]!.dataSize;
      if (pos < dataStart) {
        const k = Math.min(end, dataStart) - pos;
        const h0 = pos - pageStarts[lo]!;
        out.set(header.subarray(h0, h0 + k), at);
        pos += k;
      } else {
        const k = Math.min(end, dataStart + dataSize) - pos;
        await this.pageData(out, at, rg, col, page, pos - dataStart, k, ctx);
        pos += k;
      }
    }
  }

  /** PLAIN bytes [from, from + length) of one page's data, written to out[at…]. */
  private async pageData(
    out: Uint8Array,
    at: number,
    rg: number,
    col: number,
    page: number,
    from: number,
    length: number,
    ctx: ReadContext,
  ): Promise<void> {
    const c = this.plan.columns[col]!;
    const width = parquetColumn(c.type).width;
    const rows = this.layout.rowGroups[rg]!.pages[page]!.rows;
    const step = width === 0 ? STEP_VALUES / 8 : STEP_VALUES * width;
    for (let done = 0; done < length; ) {
      throwIfAborted(this.name, undefined, ctx.signal);
      const n = Math.min(length - done, step);
      const d0 = from + done;
      // Values [v0, v1) cover the bytes; booleans are 8 to a byte from the page's start.
      const v0 = width === 0 ? d0 * 8 : Math.floor(d0 / width);
      const v1 = width === 0 ? Math.min(rows, (d0 + n) * 8) : Math.ceil((d0 + n) / width);
      const skip = width === 0 ? 0 : d0 - v0 * width;
      const values = c.dim
        ? this.dimValues(c, rg, page, v0, v1)
        : await this.variableValues(col, rg, page, v0, v1, ctx);
      const bytes = encodePlain(c.type, values);
      out.set(bytes.subarray(skip, skip + n), at + done);
      done += n;
    }
  }

  private dimValues(
    c: LayoutColumnInput,
    rg: number,
    page: number,
    v0: number,
    v1: number,
  ): TypedArray {
    const { dim, index } = c.dim!;
    const box = this.layout.rowGroups[rg]!.pages[page]!.box;
    const idx = indicesOf(box, index, v0, v1);
    const n = v1 - v0;
    if (dim.coords) {
      const Ctor = dim.coords.constructor as new (n: number) => TypedArray;
      const out = new Ctor(n);
      const src = dim.coords as unknown as { [i: number]: number | bigint };
      const o = out as unknown as { [i: number]: number | bigint };
      for (let k = 0; k < n; k++) o[k] = src[idx[k]!]!;
      return out;
    }
    const out = new BigInt64Array(n);
    if (dim.size <= 0x7fffffff) {
      const words = new Int32Array(out.buffer);
      for (let k = 0; k < n; k++) words[2 * k] = idx[k]!;
    } else for (let k = 0; k < n; k++) out[k] = BigInt(idx[k]!);
    return out;
  }

  /** A page split into parts of at most readBytes decoded bytes (boxes, in C order). */
  private tiles(col: number, rg: number, page: number): Tiles {
    const key = `${col}:${rg}:${page}`;
    let t = this.tileMemo.get(key);
    if (t) return t;
    const v = this.plan.columns[col]!.variable!;
    const p = this.layout.rowGroups[rg]!.pages[page]!;
    const maxRows = Math.max(1, Math.floor(this.limits.readBytes / ITEMSIZE[v.type]!));
    const boxes: IndexRange[][] = [];
    const starts: number[] = [0];
    if (p.rows <= maxRows) boxes.push(p.box);
    else {
      for (const b of slabsOf(p.box, v.chunkShape, v.blockShape, maxRows, true)) {
        boxes.push(b);
        starts.push(starts[starts.length - 1]! + prod(b.map((r) => r.stop - r.start)));
      }
      starts.pop();
    }
    starts.push(p.rows);
    t = { boxes, starts };
    if (this.tileMemo.size >= 1024) this.tileMemo.clear();
    this.tileMemo.set(key, t);
    return t;
  }

  private async variableValues(
    col: number,
    rg: number,
    page: number,
    v0: number,
    v1: number,
    ctx: ReadContext,
  ): Promise<TypedArray> {
    const t = this.tiles(col, rg, page);
    let i = 0;
    while (t.starts[i + 1]! <= v0) i++;
    const parts: TypedArray[] = [];
    for (; i < t.boxes.length && t.starts[i]! < v1; i++) {
      const s = t.starts[i]!;
      const data = await this.tile(`${col}:${rg}:${page}:${i}`, col, t.boxes[i]!, ctx);
      parts.push(
        data.subarray(Math.max(v0, s) - s, Math.min(v1, t.starts[i + 1]!) - s) as TypedArray,
      );
    }
    if (parts.length === 1) return parts[0]!;
    const Ctor = parts[0]!.constructor as new (n: number) => TypedArray;
    const out = new Ctor(v1 - v0);
    let at = 0;
    for (const p of parts) {
      (out as Uint8Array).set(p as Uint8Array, at);
      at += p.length;
    }
    return out;
  }

  /** One decoded part: from the caller's last part, the shared cache, or the source. */
  private async tile(
    key: string,
    col: number,
    box: IndexRange[],
    ctx: ReadContext,
  ): Promise<TypedArray> {
    if (ctx.last?.key === key) return ctx.last.data;
    let entry = this.cache.get(key);
    if (entry) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, entry);
    } else {
      const v = this.plan.columns[col]!.variable!;
      // Decoded without the caller's signal: other readers may be waiting for the same part.
      const promise = this.decode(v, box);
      entry = { promise, bytes: prod(box.map((r) => r.stop - r.start)) * ITEMSIZE[v.type]! };
      const own = entry;
      promise.catch(() => {
        if (this.cache.get(key) === own) {
          this.cache.delete(key);
          this.cached -= own.bytes;
        }
      });
      if (this.limits.cacheBytes > 0) {
        this.cache.set(key, entry);
        this.cached += entry.bytes;
        for (const [k, e] of this.cache) {
          if (this.cached <= this.limits.cacheBytes || k === key) break;
          this.cache.delete(k);
          this.cached -= e.bytes;
        }
      }
    }
    const data = await entry.promise;
    throwIfAborted(this.name, undefined, ctx.signal);
    ctx.last = { key, data };
    return data;
  }

  private async decode(v: Variable, box: IndexRange[]): Promise<TypedArray> {
    const s = newScanStats();
    let values: TypedArray;
    try {
      values = await v.read(box, s);
      await this.guard.check(box);
    } catch (err) {
      if (err instanceof ZarrBlosc2Error) throw err;
      throw new SourceError(
        this.name,
        undefined,
        `reading ${v.name}: ${(err as Error)?.message ?? String(err)}`,
        {
          cause: err,
        },
      );
    }
    const rows = prod(box.map((r) => r.stop - r.start));
    if (values.length !== rows) {
      throw new FormatError(v.name, `read ${values.length} values for ${rows} rows`);
    }
    this.counts.blocksDecoded += s.blocksDecoded;
    this.counts.chunksTouched += s.chunksTouched;
    if (!(this.guard.source instanceof B2ndArray)) {
      this.counts.bytesRead += s.bytesRead;
      this.counts.requests += s.requests;
    }
    return values;
  }
}
