// openB2nd: a b2nd array behind a ByteSource, and get(selection), which reads and decodes
// only the chunks and inner blocks a selection touches (plan in src/plan, bytes in src/io).
import { FormatError, OptionsError } from "../errors.js";
import { type B2ndMeta, parseB2ndMeta } from "../format/b2nd-meta.js";
import { blockEnds, type ChunkInfo, chunkInfo, EXTENDED_HEADER_LENGTH } from "../format/chunk.js";
import { cutChunk } from "../format/chunk-subset.js";
import {
  type ArrayOfDtype,
  arrayFor,
  type DType,
  parseDtype,
  type TypedArray,
} from "../format/dtype.js";
import {
  type ChunkOffset,
  FRAME_PREFIX_LENGTH,
  type FrameHeader,
  framePrefix,
  indexOffset,
  parseChunkOffsets,
  parseFrameHeader,
  parseTrailer,
  TRAILER_TAIL_LENGTH,
  trailerLength,
} from "../format/frame.js";
import { toPlain, unpack } from "../format/msgpack.js";
import { forEachLimited } from "../io/pool.js";
import { ScratchPool } from "../io/scratch.js";
import {
  type ByteSource,
  type DirectorySource,
  isDirectorySource,
  newStats,
  openSource,
  type SourceStats,
  throwIfAborted,
} from "../io/source.js";
import {
  blockByteRanges,
  blockGrid,
  type ChunkPlan,
  chunkGrid,
  planRead,
} from "../plan/b2nd-plan.js";
import { cStrides, normalizeSelection, resultShape, type Selection } from "../plan/selection.js";
import {
  type DecodeOptions,
  decompress,
  decompressItems,
  decompressWith,
  decompressWritten,
  needsBlockZero,
} from "./blosc2.js";
import { type ChunkContext, inChunk } from "./chunk-error.js";
import type { DecodePool } from "./pool.js";
import { type CopyContext, copyBlock, type ScatterJob, scatterBatch } from "./scatter.js";

export interface OpenB2ndOptions<D extends string = string> {
  /**
   * The dtype the array must have, e.g. "<f8" or "float64" (a FormatError at open
   * otherwise). It also types `get`'s data: `openB2nd(path, { dtype: "<f8" })` reads
   * Float64Arrays (see ArrayOfDtype).
   */
  dtype?: D;
  /** Merge block byte ranges closer than this many bytes into one read (default 64 KiB). */
  mergeGap?: number;
  /** Refuse any single allocation (chunk, index, result) above this size (default 2 GiB). */
  maxDecodedBytes?: number;
  /** How many chunks are fetched at once (default 4). */
  concurrency?: number;
  /** Shared counters for the source's reads (a new set by default). */
  stats?: SourceStats;
  /** fetch implementation and headers for HTTP(S) sources. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** HTTP: repeats of a read after a connection error or HTTP 429/502/503/504 (default 3). */
  retries?: number;
  /** HTTP: wait before the first retry, doubled for each next one (default 200 ms). */
  retryDelayMs?: number;
  /** HTTP: the longest wait before a retry, also for Retry-After (default 10 s). */
  maxRetryDelayMs?: number;
  /**
   * HTTP: when the server ignores Range requests, download the whole file once (up to
   * maxFullReadBytes) and read from it (default false: a SourceError).
   */
  allowFullRead?: boolean;
  /** HTTP: the largest file allowFullRead downloads (default: maxDecodedBytes). */
  maxFullReadBytes?: number;
  /**
   * Decoded bytes per wasm call (default 4 MiB, at least one block): a partial read
   * decodes the blocks it needs in batches this size, so its scratch memory is bounded by
   * this, not by the chunk size.
   */
  batchBytes?: number;
  /** Decode in these workers (see createDecodePool) instead of on the calling thread. */
  pool?: DecodePool;
}

/** Options of one B2ndArray.get call. */
export interface GetOptions {
  signal?: AbortSignal;
  /** Decode in this pool's workers (overrides the pool given to openB2nd). */
  pool?: DecodePool;
}

/** Reads `length` bytes at absolute `offset` of one chunk's source. */
type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** The stored bytes of a chunk that a partial decode needs. */
interface BlockParts {
  /** Header, block starts and dictionary: the bytes before `dataStart`. */
  prefix: Uint8Array;
  dataStart: number;
  /** A wanted block's stored bytes. */
  block: (b: number) => Uint8Array;
  /** The whole stored chunk, when the first read already returned it. */
  whole: Uint8Array | undefined;
}

export interface GetStats {
  /** Chunks the selection touches. */
  chunksTouched: number;
  /** Blocks decompressed (delta-filtered chunks also decode block 0). */
  blocksDecoded: number;
  /** Bytes read from the source by this call. */
  bytesRead: number;
  /** Read requests made by this call. */
  requests: number;
}

export interface GetResult<T extends TypedArray = TypedArray> {
  /**
   * Values in C order. Native typed array for little-endian dtypes (bool as 0/1 Uint8Array,
   * float16 as raw Uint16Array bits, complex as interleaved real/imaginary floats); for
   * big-endian dtypes a Uint8Array of the stored bytes (see toNativeByteOrder).
   */
  data: T;
  shape: number[];
  /** Element strides of `data` (C order), as in zarrita. */
  stride: number[];
  stats: GetStats;
}

const DEFAULT_MAX = 2 ** 31;
/** Upper bound for a stored codec dictionary (C-Blosc2 trains at most 128 KiB). */
const MAX_DICT_BYTES = 128 * 1024;

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/** Where the frame's bytes live: one file, or a sparse directory. */
interface FrameStore {
  frame: ByteSource;
  dir?: DirectorySource;
}

/**
 * A b2nd array. `D` is the dtype it was opened with (openB2nd's `dtype` option, checked
 * there); it types `get`'s data, and is `string` (any typed array) when not given.
 */
export class B2ndArray<D extends string = string> {
  readonly shape: number[];
  readonly chunkShape: number[];
  readonly blockShape: number[];
  /** NumPy dtype string, e.g. "<f8". */
  readonly dtype: string;
  /** User attributes (python-blosc2's vlmeta). */
  readonly attrs: Record<string, unknown>;
  readonly dtypeInfo: DType;
  readonly header: FrameHeader;
  /** Per-chunk locations from the index. */
  readonly offsets: ChunkOffset[];
  private readonly chunkBytes: number;
  private readonly blocksize: number;
  private readonly nblocks: number;
  private readonly chunkEnds: Map<number, number>;

  constructor(
    private readonly store: FrameStore,
    readonly name: string,
    meta: B2ndMeta,
    header: FrameHeader,
    offsets: ChunkOffset[],
    attrs: Record<string, unknown>,
    private readonly options: Required<
      Pick<OpenB2ndOptions, "mergeGap" | "maxDecodedBytes" | "concurrency" | "batchBytes">
    > &
      Pick<OpenB2ndOptions, "pool">,
  ) {
    this.shape = meta.shape;
    this.chunkShape = meta.chunkShape;
    this.blockShape = meta.blockShape;
    this.dtypeInfo = meta.dtype;
    this.dtype = meta.dtype.name;
    this.header = header;
    this.offsets = offsets;
    this.attrs = attrs;
    const padded = meta.chunkShape.map(
      (c, d) => Math.ceil(c / meta.blockShape[d]!) * meta.blockShape[d]!,
    );
    this.chunkBytes = prod(padded) * meta.dtype.itemsize;
    this.blocksize = prod(meta.blockShape) * meta.dtype.itemsize;
    this.nblocks = prod(blockGrid(meta));
    // A contiguous frame's chunk ends where the next chunk (or the index) starts.
    this.chunkEnds = new Map();
    if (!header.sparse) {
      const starts = [
        ...new Set(offsets.flatMap((o) => (o.kind === "data" ? [o.offset] : []))),
      ].sort((a, b) => a - b);
      starts.forEach((s, i) => {
        this.chunkEnds.set(s, i + 1 < starts.length ? starts[i + 1]! : header.cbytes);
      });
    }
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Closes the files behind the array (local sources keep a handle open). */
  async close(): Promise<void> {
    await this.store.frame.close?.();
    await this.store.dir?.close?.();
  }

  /** The byte sources behind the array: the frame, and the directory of a sparse frame. */
  get sources(): { frame: ByteSource; directory?: DirectorySource } {
    return this.store.dir
      ? { frame: this.store.frame, directory: this.store.dir }
      : { frame: this.store.frame };
  }

  /** Stats of the underlying source (cumulative over the array's life). */
  get sourceStats(): SourceStats {
    return this.store.frame.stats;
  }

  /** Reads `selection` (zarrita-style; null or omitted reads everything). */
  async get(selection?: Selection, options: GetOptions = {}): Promise<GetResult<ArrayOfDtype<D>>> {
    const ranges = normalizeSelection(selection, this.shape);
    const shape = resultShape(ranges);
    const itemsize = this.dtypeInfo.itemsize;
    const outBytes = prod(shape) * itemsize;
    this.checkSize(outBytes, "result");
    const plan = planRead(this, ranges);
    // Small reads stay here: a worker round trip would cost more than the decoding.
    const decodeBytes = plan.chunks.reduce((n, cp) => n + cp.blocks.length, 0) * this.blocksize;
    const candidate = options.pool ?? this.options.pool;
    const pool = candidate && decodeBytes >= candidate.minBytes ? candidate : undefined;
    // With a pool, workers scatter straight into a shared output where the platform allows
    // SharedArrayBuffer (Node; cross-origin isolated pages); otherwise they send blocks back.
    const shared = pool?.sharedOutput === true;
    const out = new Uint8Array(
      shared ? new SharedArrayBuffer(outBytes) : new ArrayBuffer(outBytes),
    );
    const stats = this.store.frame.stats;
    const before = { bytesRead: stats.bytesRead, requests: stats.requests };
    let blocksDecoded = 0;
    const ctx: CopyContext = {
      out,
      outStrides: this.outStrides(ranges, shape),
      bgrid: plan.blocksPerChunk,
      bstrides: cStrides(this.blockShape),
      steps: ranges.map((r) => r.step),
    };
    const scratch = new ScratchPool();
    await forEachLimited(plan.chunks, this.options.concurrency, async (cp) => {
      throwIfAborted(this.name, undefined, options.signal);
      const held: Uint8Array[] = [];
      const decoded = await this.readChunk(
        cp,
        { ...options, pool, shared },
        ctx,
        (s) => (offset, length) => scratch.read(s, offset, length, held, options.signal),
      ).catch((err: unknown) => {
        throw this.chunkError(err, cp.chunk);
      });
      // Only after success: after a failure another read may still be writing into them.
      for (const b of held) scratch.give(b);
      blocksDecoded += decoded; // not `+= await`: chunks run concurrently
    });
    const data = (
      this.dtypeInfo.littleEndian ? arrayFor(this.dtypeInfo, out) : out
    ) as ArrayOfDtype<D>;
    return {
      data,
      shape,
      stride: cStrides(shape),
      stats: {
        chunksTouched: plan.chunks.length,
        blocksDecoded,
        bytesRead: stats.bytesRead - before.bytesRead,
        requests: stats.requests - before.requests,
      },
    };
  }

  /** Output strides (in elements) per source dimension; dropped dimensions get 0. */
  private outStrides(ranges: ReturnType<typeof normalizeSelection>, shape: number[]): number[] {
    const strides = cStrides(shape);
    let k = 0;
    return ranges.map((r) => (r.keep ? strides[k++]! : 0));
  }

  /** `err` naming the source, the chunk and its stored bytes (see chunk-error.ts). */
  private chunkError(err: unknown, chunk: number): unknown {
    const loc = this.offsets[chunk];
    const ctx: ChunkContext = {
      source: this.name,
      chunk,
      prefixes: [`${this.name} chunk ${chunk}`, this.name],
    };
    if (loc?.kind === "data") {
      const { source, base, end } = this.chunkSource(loc.offset);
      ctx.source = source.name;
      if (end !== undefined) ctx.range = [base, end - 1];
    }
    return inChunk(err, ctx);
  }

  private checkSize(bytes: number, what: string): void {
    if (bytes > this.options.maxDecodedBytes) {
      throw new OptionsError(
        `${this.name}: the ${what} needs ${bytes} bytes, above maxDecodedBytes (${this.options.maxDecodedBytes})`,
      );
    }
  }

  private chunkSource(offset: number): {
    source: ByteSource;
    base: number;
    end: number | undefined;
  } {
    if (this.store.dir) {
      const file = `${offset.toString(16).toUpperCase().padStart(8, "0")}.chunk`;
      return { source: this.store.dir.file(file), base: 0, end: undefined };
    }
    const base = this.header.headerLength + offset;
    return {
      source: this.store.frame,
      base,
      end: this.header.headerLength + this.chunkEnds.get(offset)!,
    };
  }

  /**
   * Fetches and decodes the blocks of one chunk the plan needs and scatters them into the
   * output (`ctx`), here or in a pool worker. Returns how many blocks were decompressed.
   */
  private async readChunk(
    cp: ChunkPlan,
    call: GetOptions & { shared: boolean },
    ctx: CopyContext,
    reader: (source: ByteSource) => ReadAt,
  ): Promise<number> {
    const { pool } = call;
    const itemsize = this.dtypeInfo.itemsize;
    const scatter = (b: number, block: Uint8Array): void =>
      copyBlock(ctx, cp.segments, b, block, itemsize);
    const where = `${this.name} chunk ${cp.chunk}`;
    const loc = this.offsets[cp.chunk];
    if (loc === undefined)
      throw new FormatError(this.name, `chunk ${cp.chunk} is missing from the index`);
    if (loc.kind !== "data") {
      const fill = this.fillBlock(loc.kind, where);
      for (const b of cp.blocks) scatter(b, fill);
      return 0;
    }
    const { source, base, end } = this.chunkSource(loc.offset);
    const read = reader(source);
    // A whole chunk of a contiguous frame is one read (its extent is known); otherwise the
    // header and block starts come first.
    const firstLength =
      end === undefined
        ? EXTENDED_HEADER_LENGTH
        : cp.whole
          ? end - base
          : Math.min(EXTENDED_HEADER_LENGTH + 4 * this.nblocks, end - base);
    const head = await read(base, firstLength);
    const info = chunkInfo(head, where, { headerOnly: true });
    this.checkChunk(info, where, end === undefined ? undefined : end - base);

    if (info.flags.memcpyed && info.special === "none") {
      // Memcpyed blocks are stored raw after the header: read just those bytes.
      const raw = await this.readMemcpyedBlocks(read, base, head, cp.blocks);
      for (const b of cp.blocks) scatter(b, raw(b));
      return cp.blocks.length;
    }
    if (info.special !== "none" || info.flags.variableBlocks) {
      const chunk = await this.readWhole(read, base, head, info);
      if (info.special !== "none" && this.blocksize % info.typesize === 0) {
        // Every block of a special chunk holds the same bytes (filled in JS, no wasm).
        const block = await decompressItems(
          chunk,
          0,
          this.blocksize / info.typesize,
          this.decodeOptions(where),
        );
        for (const b of cp.blocks) scatter(b, block);
        return 0;
      }
      return decompressWith(
        chunk,
        (all) => {
          this.checkDecoded(all.length, this.chunkBytes, where);
          for (const b of cp.blocks)
            scatter(b, all.subarray(b * this.blocksize, (b + 1) * this.blocksize));
          return this.nblocks;
        },
        this.decodeOptions(where),
      );
    }

    const wanted = [...cp.blocks].sort((a, b) => a - b);
    if (needsBlockZero(info) && wanted[0] !== 0) wanted.unshift(0);
    const parts = await this.readBlockParts(read, base, head, info, wanted, where);
    // Decode in batches of whole blocks, at most batchBytes of output each (and at least one
    // block besides block 0, which every batch of a delta chunk starts with).
    const perBatch = Math.max(1, Math.floor(this.options.batchBytes / this.blocksize));
    const batches: number[][] = [];
    const zero = needsBlockZero(info);
    const rest = zero ? wanted.slice(1) : wanted;
    for (let i = 0; i < rest.length || (zero && batches.length === 0); i += perBatch) {
      const batch = rest.slice(i, i + perBatch);
      batches.push(zero ? [0, ...batch.filter((b) => b !== 0)] : batch);
    }
    const requested = new Set(cp.blocks);
    let decoded = 0;
    const decodeBatch = async (batch: number[]): Promise<void> => {
      // The chunk as stored when it was read whole and every block is wanted; else a chunk
      // cut to the batch.
      const stored = batch.length === this.nblocks ? parts.whole : undefined;
      const cut = stored
        ? undefined
        : cutChunk(info, parts.prefix, parts.dataStart, batch, parts.block, where);
      const job: ScatterJob = {
        ctx,
        segments: cp.segments,
        blocks: batch.map((b) => (requested.has(b) ? b : -1)), // block 0 of delta: decode only
        blocksize: this.blocksize,
        itemsize,
      };
      const use = (bytes: Uint8Array): void => scatterBatch(job, bytes, where);
      decoded += batch.length;
      const opts = stored
        ? this.decodeOptions(where)
        : { ...this.decodeOptions(where), blockNumbers: batch };
      if (!pool) {
        // The cut chunk is assembled straight in wasm memory.
        if (cut) return decompressWritten(cut.size, cut.write, use, opts);
        return decompressWith(stored!, use, opts);
      }
      // A worker gets a chunk of its own; the stored one may be a caller's buffer.
      const own = new Uint8Array(cut ? cut.size : stored!.length);
      if (cut) cut.write(own);
      else own.set(stored!);
      if (call.shared) await pool.decompressScatter(own, opts, job);
      else use(await pool.decompress(own, opts));
    };
    if (pool) await Promise.all(batches.map(decodeBatch));
    else for (const batch of batches) await decodeBatch(batch);
    return decoded;
  }

  /** The whole stored chunk, extending the first read when it was shorter. */
  private async readWhole(
    read: ReadAt,
    base: number,
    head: Uint8Array,
    info: ChunkInfo,
  ): Promise<Uint8Array> {
    if (head.length >= info.cbytes) return head.subarray(0, info.cbytes);
    const chunk = new Uint8Array(info.cbytes);
    chunk.set(head);
    chunk.set(await read(base + head.length, info.cbytes - head.length), head.length);
    return chunk;
  }

  /** A memcpyed chunk stores its blocks raw after the header: read just those bytes. */
  private async readMemcpyedBlocks(
    read: ReadAt,
    base: number,
    head: Uint8Array,
    blocks: number[],
  ): Promise<(b: number) => Uint8Array> {
    const bs = this.blocksize;
    const got = new Map<number, Uint8Array>();
    await Promise.all(
      blocks.map(async (b) => {
        const start = EXTENDED_HEADER_LENGTH + b * bs;
        // The first read may already hold the block.
        const bytes =
          start + bs <= head.length
            ? head.subarray(start, start + bs)
            : await read(base + start, bs);
        got.set(b, bytes);
      }),
    );
    return (b) => got.get(b)!;
  }

  /**
   * The stored bytes a partial decode needs: the prefix (header, block starts, dictionary)
   * and each wanted block's bytes, read as merged ranges. Nothing chunk-sized is allocated
   * unless the first read already returned the whole chunk.
   */
  private async readBlockParts(
    read: ReadAt,
    base: number,
    head: Uint8Array,
    info: ChunkInfo,
    blocks: number[],
    where: string,
  ): Promise<BlockParts> {
    const tableEnd = EXTENDED_HEADER_LENGTH + 4 * this.nblocks;
    if (info.cbytes < tableEnd)
      throw new FormatError(
        where,
        `cbytes ${info.cbytes} cannot hold ${this.nblocks} block starts`,
      );
    const readAt = async (start: number, length: number): Promise<Uint8Array> =>
      start + length <= head.length
        ? head.subarray(start, start + length)
        : await read(base + start, length);
    let prefix = await readAt(0, tableEnd);
    let dataStart = tableEnd;
    if (info.flags.dictionary) {
      if (info.cbytes < tableEnd + 4) throw new FormatError(where, "dictionary size is missing");
      const sizeBytes = await readAt(tableEnd, 4);
      const dictSize = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 4).getInt32(0, true);
      if (dictSize < 0 || tableEnd + 4 + dictSize > info.cbytes) {
        throw new FormatError(
          where,
          `dictionary size ${dictSize} runs past the chunk (${info.cbytes} bytes)`,
        );
      }
      dataStart = tableEnd + 4 + dictSize;
      const withDict = new Uint8Array(dataStart);
      withDict.set(prefix);
      withDict.set(sizeBytes, tableEnd);
      withDict.set(await readAt(tableEnd + 4, dictSize), tableEnd + 4);
      prefix = withDict;
    }
    const bstarts = new Int32Array(this.nblocks);
    const view = new DataView(prefix.buffer, prefix.byteOffset + EXTENDED_HEADER_LENGTH);
    for (let i = 0; i < this.nblocks; i++) bstarts[i] = view.getInt32(4 * i, true);
    for (let i = 0; i < this.nblocks; i++) {
      if (bstarts[i]! < dataStart)
        throw new FormatError(where, `block ${i} starts at ${bstarts[i]}, inside the header`);
    }
    const ends = blockEnds(bstarts, info.cbytes);
    const ranges = blockByteRanges(
      bstarts,
      info.cbytes,
      blocks,
      this.options.mergeGap,
      where,
      ends,
    );
    // Each block's bytes are a slice of the merged range that was read for it.
    const pieces = new Map<number, { start: number; bytes: Uint8Array }>();
    await Promise.all(
      ranges.map(async (r) => {
        const piece = { start: r.start, bytes: await readAt(r.start, r.end - r.start) };
        for (const b of r.blocks) pieces.set(b, piece);
      }),
    );
    const block = (b: number): Uint8Array => {
      const piece = pieces.get(b);
      if (!piece) throw new FormatError(where, `block ${b} was not read`);
      return piece.bytes.subarray(bstarts[b]! - piece.start, ends[b]! - piece.start);
    };
    const whole = head.length >= info.cbytes ? head.subarray(0, info.cbytes) : undefined;
    return { prefix, dataStart, block, whole };
  }

  private decodeOptions(where: string): DecodeOptions {
    return { source: where, maxDecodedBytes: this.options.maxDecodedBytes };
  }

  private checkChunk(info: ChunkInfo, where: string, extent: number | undefined): void {
    if (extent !== undefined && info.cbytes > extent) {
      throw new FormatError(
        where,
        `cbytes ${info.cbytes} runs past the chunk's ${extent} bytes in the frame`,
      );
    }
    // No valid chunk is larger than its data plus header, block starts and a dictionary:
    // refuse to allocate what a header merely claims.
    const maxCbytes =
      this.chunkBytes + EXTENDED_HEADER_LENGTH + 4 * this.nblocks + 4 + MAX_DICT_BYTES;
    if (info.cbytes > maxCbytes) {
      throw new FormatError(
        where,
        `cbytes ${info.cbytes} is larger than any chunk of ${this.chunkBytes} bytes can be`,
      );
    }
    if (info.nbytes !== this.chunkBytes) {
      throw new FormatError(
        where,
        `holds ${info.nbytes} bytes, b2nd metadata implies ${this.chunkBytes}`,
      );
    }
    // Memcpyed blocks are read straight from the chunk (no wasm): their sizes must add up.
    if (
      info.flags.memcpyed &&
      info.special === "none" &&
      info.cbytes !== info.nbytes + info.headerLength
    ) {
      throw new FormatError(
        where,
        `memcpyed chunk of ${info.nbytes} bytes has cbytes ${info.cbytes} (expected ${info.nbytes + info.headerLength})`,
      );
    }
    if (info.special === "none" && !info.flags.memcpyed && info.blocksize !== this.blocksize) {
      throw new FormatError(
        where,
        `blocksize ${info.blocksize} differs from the b2nd block (${this.blocksize} bytes)`,
      );
    }
    this.checkSize(info.nbytes, "chunk");
  }

  private checkDecoded(length: number, expected: number, where: string): void {
    if (length !== expected) {
      throw new FormatError(where, `decoded to ${length} bytes, expected ${expected}`);
    }
  }

  /** One block's worth of a special chunk's value. */
  private fillBlock(kind: "zeros" | "nan" | "uninit", where: string): Uint8Array {
    const block = new Uint8Array(this.blocksize);
    if (kind !== "nan") return block; // uninitialized chunks read as zeros
    const { kind: k, itemsize, littleEndian } = this.dtypeInfo;
    if (k !== "f" && k !== "c") throw new FormatError(where, `NaN chunk in a ${this.dtype} array`);
    const unit = k === "c" ? itemsize / 2 : itemsize;
    const nan = new Uint8Array(unit);
    const v = new DataView(nan.buffer);
    if (unit === 2) v.setUint16(0, 0x7e00, littleEndian);
    else if (unit === 4) v.setFloat32(0, Number.NaN, littleEndian);
    else v.setFloat64(0, Number.NaN, littleEndian);
    for (let i = 0; i < block.length; i += unit) block.set(nan, i);
    return block;
  }
}

/** Reads the frame header, the chunk index and the trailer with a bounded number of reads. */
async function readFrame(frame: ByteSource, name: string, maxBytes: number) {
  const size = await frame.size();
  const first = await frame.read(0, Math.min(size, 8192));
  const { headerLength, frameLength } = framePrefix(
    first.subarray(0, Math.min(first.length, FRAME_PREFIX_LENGTH)),
    name,
  );
  if (frameLength > size)
    throw new FormatError(name, `frame length ${frameLength} exceeds the ${size} bytes available`);
  let headerBytes = first;
  if (headerLength > first.length) {
    if (headerLength > maxBytes)
      throw new FormatError(name, `header of ${headerLength} bytes is above the limit`);
    headerBytes = new Uint8Array(headerLength);
    headerBytes.set(first);
    headerBytes.set(await frame.read(first.length, headerLength - first.length), first.length);
  }
  const header = parseFrameHeader(headerBytes, name);
  // The index and the trailer sit at the end: read from the index to the end at once.
  const start = indexOffset(header);
  if (start + TRAILER_TAIL_LENGTH > frameLength) {
    throw new FormatError(
      name,
      `chunk index offset ${start} is past the end of the frame (${frameLength})`,
    );
  }
  if (frameLength - start > maxBytes) {
    throw new FormatError(
      name,
      `index and trailer (${frameLength - start} bytes) are above maxDecodedBytes`,
    );
  }
  const tail =
    start + (frameLength - start) <= first.length
      ? first.subarray(start, frameLength)
      : await frame.read(start, frameLength - start);
  const trailerLen = trailerLength(tail, frameLength, name);
  const indexLength = tail.length - trailerLen;
  const trailer = tail.subarray(indexLength);
  // A frame without chunks (a zero-length dimension) may have no index at all.
  if (indexLength === 0 && header.nbytes === 0) {
    return { header, indexChunk: tail.subarray(0, 0), nchunks: 0, trailer };
  }
  if (indexLength < EXTENDED_HEADER_LENGTH) {
    throw new FormatError(
      name,
      `no room for the chunk index (${indexLength} bytes before the trailer)`,
    );
  }
  const indexChunk = tail.subarray(0, indexLength);
  const indexInfo = chunkInfo(indexChunk, `${name} chunk index`);
  if (indexInfo.nbytes % 8 !== 0) {
    throw new FormatError(name, `chunk index holds ${indexInfo.nbytes} bytes, not int64s`);
  }
  if (indexInfo.nbytes > maxBytes)
    throw new FormatError(name, "chunk index is above maxDecodedBytes");
  return { header, indexChunk, nchunks: indexInfo.nbytes / 8, trailer };
}

async function decodeAttrs(trailer: Uint8Array, name: string): Promise<Record<string, unknown>> {
  const attrs: Record<string, unknown> = {};
  let layers: Map<string, Uint8Array>;
  try {
    layers = parseTrailer(trailer, `${name} trailer`);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(name, `unreadable trailer: ${(err as Error).message}`);
  }
  for (const [key, content] of layers) {
    // Each variable-length metalayer is a Blosc2 chunk holding one msgpack value.
    const packed = await decompress(content, { source: `${name} attribute "${key}"` });
    attrs[key] = toPlain(unpack(packed, `${name} attribute "${key}"`));
  }
  return attrs;
}

/**
 * Opens a b2nd array (a contiguous .b2nd frame, or a sparse frame directory) from bytes, a
 * local path (Node), a URL (HTTP range requests) or a ByteSource. Opening reads the header,
 * the chunk index and the trailer only (at most 4 requests for HTTP).
 */
export async function openB2nd<D extends string = string>(
  input: string | URL | Uint8Array | ArrayBuffer | ByteSource | DirectorySource,
  options: OpenB2ndOptions<D> = {},
): Promise<B2ndArray<D>> {
  const stats = options.stats ?? newStats();
  const opened = await openSource(input, {
    stats,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    ...(options.maxRetryDelayMs === undefined ? {} : { maxRetryDelayMs: options.maxRetryDelayMs }),
    ...(options.allowFullRead ? { allowFullRead: true } : {}),
    maxFullReadBytes: options.maxFullReadBytes ?? options.maxDecodedBytes ?? DEFAULT_MAX,
  });
  const store: FrameStore = isDirectorySource(opened)
    ? { frame: opened.file("chunks.b2frame"), dir: opened }
    : { frame: opened };
  try {
    return await openFrame(store, options);
  } catch (err) {
    // A source opened here is closed here: a failed open leaves no file handle behind. A
    // source the caller passed in stays the caller's to close.
    if (opened !== input) {
      await Promise.allSettled([store.frame.close?.(), store.dir?.close?.()]);
    }
    throw err;
  }
}

/** Reads and checks the frame's header, index and trailer: the array, or a typed error. */
async function openFrame<D extends string>(
  store: FrameStore,
  options: OpenB2ndOptions<D>,
): Promise<B2ndArray<D>> {
  const name = store.dir ? store.dir.name : store.frame.name;
  const maxDecodedBytes = options.maxDecodedBytes ?? DEFAULT_MAX;
  const { header, indexChunk, nchunks, trailer } = await readFrame(
    store.frame,
    name,
    maxDecodedBytes,
  );
  if (header.sparse !== (store.dir !== undefined)) {
    throw new FormatError(
      name,
      header.sparse
        ? "sparse frame header outside a directory"
        : "contiguous frame found in a sparse directory",
    );
  }
  const metaBytes = header.metalayers.get("b2nd") ?? header.metalayers.get("caterva");
  if (!metaBytes) throw new FormatError(name, "not a b2nd array (no b2nd or caterva metalayer)");
  const meta = parseB2ndMeta(metaBytes, header.typesize, `${name} b2nd metalayer`);
  const padded = meta.chunkShape.map(
    (c, d) => Math.ceil(c / meta.blockShape[d]!) * meta.blockShape[d]!,
  );
  const chunkBytes = prod(padded) * meta.dtype.itemsize;
  const blockBytes = prod(meta.blockShape) * meta.dtype.itemsize;
  if (chunkBytes > maxDecodedBytes) {
    throw new FormatError(
      name,
      `chunks of ${chunkBytes} bytes are above maxDecodedBytes (${maxDecodedBytes})`,
    );
  }
  // The frame header repeats the chunk and block sizes; they must agree with the b2nd meta.
  if (header.chunksize > 0 && header.chunksize !== chunkBytes) {
    throw new FormatError(
      name,
      `frame chunksize ${header.chunksize} disagrees with the b2nd chunk shape (${chunkBytes} bytes)`,
    );
  }
  if (header.blocksize > 0 && header.blocksize !== blockBytes) {
    throw new FormatError(
      name,
      `frame blocksize ${header.blocksize} disagrees with the b2nd block shape (${blockBytes} bytes)`,
    );
  }
  const expectedChunks = prod(chunkGrid(meta));
  if (nchunks !== expectedChunks) {
    throw new FormatError(
      name,
      `chunk index has ${nchunks} chunks, the b2nd shape implies ${expectedChunks}`,
    );
  }
  if (header.typesize !== Math.min(meta.dtype.itemsize, 255) && nchunks > 0) {
    throw new FormatError(
      name,
      `frame typesize ${header.typesize} disagrees with dtype ${meta.dtype.name}`,
    );
  }
  const offsets =
    nchunks === 0
      ? []
      : parseChunkOffsets(
          await decompress(indexChunk, { source: `${name} chunk index`, maxDecodedBytes }),
          nchunks,
          `${name} chunk index`,
        );
  if (!header.sparse) {
    for (const [i, o] of offsets.entries()) {
      if (o.kind === "data" && o.offset + EXTENDED_HEADER_LENGTH > header.cbytes) {
        throw new FormatError(
          name,
          `chunk ${i} offset ${o.offset} is past the chunk data (${header.cbytes} bytes)`,
        );
      }
    }
  }
  const attrs =
    header.hasVlmetalayers || trailer.length > TRAILER_TAIL_LENGTH
      ? await decodeAttrs(trailer, name)
      : {};
  if (options.dtype !== undefined) {
    const expected = parseDtype(options.dtype, `${name}: the dtype option`).name;
    if (expected !== meta.dtype.name) {
      throw new FormatError(name, `dtype is ${meta.dtype.name}, expected ${expected}`);
    }
  }
  return new B2ndArray<D>(store, name, meta, header, offsets, attrs, {
    mergeGap: options.mergeGap ?? 64 * 1024,
    maxDecodedBytes,
    concurrency: options.concurrency ?? 4,
    batchBytes: options.batchBytes ?? 4 * 1024 * 1024,
    ...(options.pool ? { pool: options.pool } : {}),
  });
}
