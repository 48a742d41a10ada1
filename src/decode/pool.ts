// An opt-in pool of decode workers (Node worker_threads or browser module Web Workers), each
// with its own wasm instance. Readers hand it chunks (whole, or cut to the blocks they need)
// and scatter the decoded bytes themselves, so a worker's memory is one batch at a time.
import {
  Blosc2Error,
  FormatError,
  OptionsError,
  WasmTrapError,
  ZarrBlosc2Error,
} from "../errors.js";
import type { DecodeOptions } from "./blosc2.js";
import type { ScatterJob } from "./scatter.js";
import { blosc2Module } from "./wasm.js";

export interface DecodePoolOptions {
  /** Number of workers (default: the number of CPUs, at most 4). */
  workers?: number;
  /** The worker module (default: pool-worker.js next to this file). */
  workerUrl?: URL | string;
  /**
   * Let workers write decoded blocks straight into a result backed by a SharedArrayBuffer
   * (default: when SharedArrayBuffer exists — Node, cross-origin isolated pages). When false
   * or unavailable, workers send each batch back and the calling thread scatters it.
   */
  sharedOutput?: boolean;
  /**
   * Reads that decode fewer bytes than this stay on the calling thread, where a worker round
   * trip would cost more than it saves (default 1 MiB; 0 sends everything to the workers).
   */
  minBytes?: number;
}

/** Messages to a worker. */
export type PoolRequest =
  | { type: "init"; module: WebAssembly.Module }
  | {
      type: "decode";
      id: number;
      chunk: Uint8Array;
      options: DecodeOptions;
      /** Scatter into this job's shared output instead of sending the bytes back. */
      scatter?: ScatterJob;
    };

/** Messages from a worker. */
export type PoolReply =
  | { type: "ready"; error?: Record<string, unknown> }
  | { type: "done"; id: number; data?: Uint8Array; error?: Record<string, unknown> };

/** The part of Worker / worker_threads.Worker used here. */
interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): unknown;
  /** Node only: whether a busy worker keeps the process alive. */
  ref?(): void;
  unref?(): void;
}

interface Task {
  id: number;
  chunk: Uint8Array;
  options: DecodeOptions;
  scatter?: ScatterJob;
  resolve: (data: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: WorkerLike;
  busy: Task | undefined;
}

// "#platform" is imported only in Node: an unbundled page (an import map, which module
// workers do not see) never needs it, and bundlers meet no node: import.
const isNode = typeof process !== "undefined" && process.versions?.node !== undefined;

async function defaultWorkers(): Promise<number> {
  const n = isNode
    ? (await import("#platform")).cpuCount?.()
    : globalThis.navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(4, n ?? 2));
}

/** Rebuilds a typed error thrown in a worker. */
function revive(e: Record<string, unknown> | undefined, fallback: string): Error {
  const message = String(e?.message ?? fallback);
  switch (e?.name) {
    case "FormatError":
      return new FormatError(String(e.source), String(e.problem));
    case "Blosc2Error": {
      const err = new Blosc2Error(String(e.operation), Number(e.code));
      err.message = message;
      return err;
    }
    case "OptionsError":
      return new OptionsError(message);
    case "WasmTrapError": {
      const err = new WasmTrapError(String(e.operation), { cause: message });
      err.message = message;
      return err;
    }
    default:
      return new ZarrBlosc2Error(message);
  }
}

/**
 * Decode workers shared by any number of reads. Pass it as `pool` to openB2nd, B2ndArray.get
 * or the Zarr get; close() stops the workers (an idle pool does not keep Node alive).
 */
export class DecodePool {
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  /** Whether reads with this pool let workers write into a shared result. */
  readonly sharedOutput: boolean;
  /** Reads decoding fewer bytes than this do not use the pool. */
  readonly minBytes: number;
  /** Decodes the workers have completed (failed ones included). */
  readonly stats = { tasks: 0 };

  private constructor(
    private readonly slots: Slot[],
    sharedOutput: boolean,
    minBytes: number,
  ) {
    this.sharedOutput = sharedOutput;
    this.minBytes = minBytes;
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** @internal Starts `workers` workers and waits until each has its wasm instance. */
  static async start(options: DecodePoolOptions = {}): Promise<DecodePool> {
    const n = options.workers ?? (await defaultWorkers());
    if (!Number.isInteger(n) || n < 1 || n > 256) {
      throw new OptionsError(`createDecodePool: workers must be an integer in 1..256, got ${n}`);
    }
    const url =
      options.workerUrl === undefined ? undefined : new URL(options.workerUrl, import.meta.url);
    const module = await blosc2Module();
    const slots: Slot[] = [];
    const shared = typeof SharedArrayBuffer !== "undefined";
    const minBytes = options.minBytes ?? 1024 * 1024;
    if (!(minBytes >= 0)) {
      throw new OptionsError(`createDecodePool: minBytes must be >= 0, got ${minBytes}`);
    }
    const pool = new DecodePool(slots, (options.sharedOutput ?? shared) && shared, minBytes);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const slot: Slot = { worker: undefined as unknown as WorkerLike, busy: undefined };
      let onReady!: (error?: Error) => void;
      ready.push(
        new Promise<void>((resolve, reject) => {
          onReady = (error) => (error ? reject(error) : resolve());
        }),
      );
      const onMessage = (reply: PoolReply): void => {
        if (reply.type === "ready") {
          onReady(reply.error ? revive(reply.error, "worker failed to start") : undefined);
        } else pool.finish(slot, reply);
      };
      const onError = (error: unknown): void => {
        const err = new ZarrBlosc2Error(
          `decode worker failed: ${(error as Error)?.message ?? String(error)}`,
        );
        onReady(err);
        pool.fail(slot, err);
      };
      slot.worker = await spawn(url, onMessage, onError);
      slots.push(slot);
      slot.worker.postMessage({ type: "init", module } satisfies PoolRequest, []);
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.close();
      throw err;
    }
    // An idle pool does not keep a Node process alive (dispatch refs a worker while busy).
    for (const slot of slots) slot.worker.unref?.();
    return pool;
  }

  /**
   * Decompresses a chunk in a worker. The chunk's buffer is transferred (it becomes unusable
   * here): pass a copy if you still need it. Resolves to the decoded bytes.
   */
  decompress(chunk: Uint8Array, options: DecodeOptions = {}): Promise<Uint8Array> {
    return this.submit(chunk, options, undefined);
  }

  /**
   * Decompresses a chunk in a worker and scatters the decoded blocks into `job.ctx.out`,
   * which must be backed by a SharedArrayBuffer. The chunk's buffer is transferred.
   */
  async decompressScatter(
    chunk: Uint8Array,
    options: DecodeOptions,
    job: ScatterJob,
  ): Promise<void> {
    if (!(job.ctx.out.buffer instanceof SharedArrayBuffer)) {
      throw new OptionsError("decompressScatter needs an output backed by a SharedArrayBuffer");
    }
    await this.submit(chunk, options, job);
  }

  private submit(
    chunk: Uint8Array,
    options: DecodeOptions,
    scatter: ScatterJob | undefined,
  ): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new OptionsError("the decode pool is closed"));
    return new Promise<Uint8Array>((resolve, reject) => {
      const task: Task = { id: this.nextId++, chunk, options, resolve, reject };
      if (scatter) task.scatter = scatter;
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Stops the workers; pending decodes reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new OptionsError("the decode pool was closed");
    for (const task of this.queue.splice(0)) task.reject(err);
    for (const slot of [...this.slots]) {
      slot.busy?.reject(err);
      slot.busy = undefined;
      await slot.worker.terminate();
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const task = this.queue.shift()!;
      slot.busy = task;
      slot.worker.ref?.(); // pending work keeps a Node process alive; idle workers do not
      const { chunk } = task;
      // Transfer when the view covers its whole buffer; otherwise copy just the view.
      const own =
        chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
          ? chunk
          : chunk.slice();
      slot.worker.postMessage(
        {
          type: "decode",
          id: task.id,
          chunk: own,
          options: task.options,
          ...(task.scatter ? { scatter: task.scatter } : {}),
        } satisfies PoolRequest,
        [own.buffer as ArrayBuffer],
      );
    }
  }

  private finish(slot: Slot, reply: Extract<PoolReply, { type: "done" }>): void {
    const task = slot.busy;
    slot.busy = undefined;
    slot.worker.unref?.();
    this.stats.tasks++;
    if (task && task.id === reply.id) {
      if (reply.error) task.reject(revive(reply.error, "decode failed"));
      else task.resolve(reply.data ?? new Uint8Array(0));
    }
    this.dispatch();
  }

  private fail(slot: Slot, error: Error): void {
    if (this.closed) return;
    const task = slot.busy;
    slot.busy = undefined;
    task?.reject(error);
    // A worker that died cannot take more work: drop it, and fail everything if none is left.
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (this.slots.length === 0) {
      this.closed = true;
      for (const t of this.queue.splice(0)) t.reject(error);
    } else this.dispatch();
  }
}

async function spawn(
  url: URL | undefined,
  onMessage: (reply: PoolReply) => void,
  onError: (error: unknown) => void,
): Promise<WorkerLike> {
  const { NodeWorker } = isNode ? await import("#platform") : { NodeWorker: undefined };
  if (NodeWorker) {
    // No flags from the main script: the worker only imports this package's relative modules,
    // and flags such as --input-type or --expose-gc break or are refused in workers.
    const worker = new NodeWorker(url ?? new URL("./pool-worker.js", import.meta.url), {
      execArgv: [],
    });
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", (code) => {
      if (code !== 0) onError(new Error(`exited with code ${code}`));
    });
    return worker;
  }
  // Written out as `new Worker(new URL("./pool-worker.js", import.meta.url), ...)`: webpack and
  // Vite see that pattern and bundle the worker with its imports (docs/bundlers.md).
  const worker = url
    ? new Worker(url, { type: "module" })
    : new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module" });
  worker.addEventListener("message", (event) => onMessage(event.data as PoolReply));
  // A script that fails to load fires a plain Event, with no message to pass on.
  worker.addEventListener("error", (event) =>
    onError(
      event.message ??
        `could not load the worker script ${url ?? "pool-worker.js"} (with a bundler, see workerUrl in docs/bundlers.md)`,
    ),
  );
  return worker;
}

/** Starts a pool of decode workers (see DecodePool). */
export function createDecodePool(options: DecodePoolOptions = {}): Promise<DecodePool> {
  return DecodePool.start(options);
}
