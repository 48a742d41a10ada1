// Loads blosc2.wasm (C-Blosc2 + wasm/glue.c) without Emscripten's generated loader: the
// module is built STANDALONE_WASM, so it needs only a handful of WASI/env imports, shimmed
// here. The same file works in Node and in browsers.
import { WasmTrapError, ZarrBlosc2Error } from "../errors.js";

/** The raw exports of blosc2.wasm (pointers and sizes are plain numbers). */
export interface Blosc2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  zb_init(): number;
  zb_version(): number;
  zb_features(): number;
  zb_heap_in_use(): number;
  zb_compress(src: number, srcsize: number, dest: number, destsize: number, params: number): number;
  zb_decompress(src: number, srcsize: number, dest: number, destsize: number): number;
  zb_decompress_masked(
    src: number,
    srcsize: number,
    dest: number,
    destsize: number,
    maskout: number,
    nblocks: number,
  ): number;
  zb_getitem(
    src: number,
    srcsize: number,
    start: number,
    nitems: number,
    dest: number,
    destsize: number,
  ): number;
}

/** Where to load the module from: bytes, a compiled module, or a URL (file: URLs in Node). */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string;

const WASI_EBADF = 8;
const WASI_ENOSYS = 52;

function imports(getMemory: () => WebAssembly.Memory): WebAssembly.Imports {
  const bytes = () => new Uint8Array(getMemory().buffer);
  const view = () => new DataView(getMemory().buffer);
  const noFiles = () => WASI_EBADF;
  return {
    wasi_snapshot_preview1: {
      clock_time_get(_id: number, _precision: bigint, out: number) {
        const ns = BigInt(Math.round(performance.now() * 1e6));
        view().setBigUint64(out, ns, true);
        return 0;
      },
      // Only stdout/stderr: C-Blosc2 prints traces there when BLOSC_TRACE is set.
      fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number) {
        const v = view();
        let text = "";
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + i * 8, true);
          const len = v.getUint32(iovs + i * 8 + 4, true);
          text += new TextDecoder().decode(bytes().subarray(ptr, ptr + len));
          total += len;
        }
        if (fd === 1 || fd === 2) console.error(text.replace(/\n$/, ""));
        v.setUint32(nwritten, total, true);
        return fd === 1 || fd === 2 ? 0 : WASI_EBADF;
      },
      environ_sizes_get(count: number, size: number) {
        view().setUint32(count, 0, true);
        view().setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      fd_close: noFiles,
      fd_read: noFiles,
      fd_seek: noFiles,
      fd_pread: noFiles,
      fd_pwrite: noFiles,
      proc_exit(code: number) {
        throw new WebAssembly.RuntimeError(`proc_exit(${code})`);
      },
    },
    env: {
      emscripten_notify_memory_growth: () => {},
      __syscall_ftruncate64: () => -WASI_ENOSYS,
      _msync_js: () => -WASI_ENOSYS,
      // C-Blosc2 can load plugins from shared libraries; there are none in wasm.
      _dlopen_js: () => 0,
      _dlsym_js: () => 0,
    },
  };
}

const DEFAULT_WASM_URL = new URL("../../wasm/build/blosc2.wasm", import.meta.url);

async function loadModule(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source !== "string" && !(source instanceof URL)) return WebAssembly.compile(source);
  const url = new URL(source, DEFAULT_WASM_URL);
  if (url.protocol === "file:") {
    const { readLocalFile } = await import("#platform");
    if (!readLocalFile) {
      throw new ZarrBlosc2Error(`cannot read ${url} here: pass initBlosc2 an http(s) URL or bytes`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readLocalFile(url);
    } catch (err) {
      throw new ZarrBlosc2Error(
        `cannot read the wasm module at ${url.pathname}: ${(err as Error).message} (run \`npm run build:wasm\`)`,
      );
    }
    return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw new ZarrBlosc2Error(`cannot fetch the wasm module at ${url}: HTTP ${response.status}`);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** One instance of the module, single-threaded. */
export class Blosc2Wasm {
  private constructor(readonly exports: Blosc2Exports) {}

  static async instantiate(module: WebAssembly.Module): Promise<Blosc2Wasm> {
    let memory: WebAssembly.Memory | undefined;
    const instance = await WebAssembly.instantiate(
      module,
      imports(() => memory!),
    );
    const exports = instance.exports as unknown as Blosc2Exports;
    memory = exports.memory;
    exports._initialize();
    const rc = exports.zb_init();
    if (rc < 0) throw new ZarrBlosc2Error(`C-Blosc2 initialisation failed (${rc})`);
    return new Blosc2Wasm(exports);
  }

  /** The whole linear memory as bytes; take a fresh view after any call that may allocate. */
  heap(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** Current size of the wasm linear memory in bytes. */
  heapSize(): number {
    return this.exports.memory.buffer.byteLength;
  }

  malloc(size: number, operation: string): number {
    // wasm32 pointers come back as signed i32: above 2 GiB they read negative without >>> 0.
    const ptr = this.exports.malloc(Math.max(size, 1)) >>> 0;
    if (ptr === 0) {
      throw new ZarrBlosc2Error(`${operation}: cannot allocate ${size} bytes in wasm memory`);
    }
    return ptr;
  }

  /** Copies bytes into a new wasm allocation. */
  copyIn(data: Uint8Array, operation: string): number {
    const ptr = this.malloc(data.length, operation);
    this.heap().set(data, ptr);
    return ptr;
  }

  /** Bytes currently allocated by C malloc (stays flat across calls unless something leaks). */
  heapInUse(): number {
    return this.exports.zb_heap_in_use();
  }

  /** Build features compiled in (see zb_features in wasm/glue.c). */
  features(): { simd128: boolean; sse2Shuffle: boolean; bulkMemory: boolean } {
    const f = this.exports.zb_features();
    return { simd128: (f & 1) !== 0, sse2Shuffle: (f & 2) !== 0, bulkMemory: (f & 4) !== 0 };
  }

  version(): string {
    const heap = this.heap();
    const start = this.exports.zb_version() >>> 0;
    const end = heap.indexOf(0, start);
    return new TextDecoder().decode(heap.subarray(start, end));
  }
}

let module: Promise<WebAssembly.Module> | undefined;
let instance: Promise<Blosc2Wasm> | undefined;

/**
 * Loads the wasm module from `source` (default: the blosc2.wasm shipped with this package,
 * read from disk in Node or fetched in browsers). Calling it again replaces the instance.
 */
export function initBlosc2(source: WasmSource = DEFAULT_WASM_URL): Promise<Blosc2Wasm> {
  module = loadModule(source);
  instance = module.then((m) => Blosc2Wasm.instantiate(m));
  // A failed load must not stick: the next call retries.
  instance.catch(() => {
    instance = undefined;
    module = undefined;
  });
  return instance;
}

/** The compiled module behind the shared instance (loads it on first use). */
export async function blosc2Module(): Promise<WebAssembly.Module> {
  if (!module) await blosc2Wasm();
  return module!;
}

/** The shared instance, loaded on first use. */
export function blosc2Wasm(): Promise<Blosc2Wasm> {
  return instance ?? initBlosc2();
}

let calls = 0;

/** How many operations have reached C-Blosc2 so far (lets tests prove a call never got there). */
export function blosc2CallCount(): number {
  return calls;
}

/**
 * Runs `fn` on the shared instance. A trap leaves the instance in an unknown state, so it is
 * replaced (same compiled module) and the trap becomes a WasmTrapError.
 */
export async function withBlosc2<T>(operation: string, fn: (wasm: Blosc2Wasm) => T): Promise<T> {
  return withBlosc2Prepared(operation, (wasm) => () => fn(wasm));
}

/**
 * withBlosc2 in two steps: `prepare` uses only JS and the allocator (it assembles and checks
 * an input in wasm memory, and may throw); the function it returns is the operation proper,
 * the part that calls C-Blosc2 and that blosc2CallCount counts.
 */
export async function withBlosc2Prepared<T>(
  operation: string,
  prepare: (wasm: Blosc2Wasm) => () => T,
): Promise<T> {
  const wasm = await blosc2Wasm();
  try {
    const run = prepare(wasm);
    calls++;
    return run();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      const compiled = module;
      if (compiled) instance = compiled.then((m) => Blosc2Wasm.instantiate(m));
      else instance = undefined;
      throw new WasmTrapError(operation, { cause: err });
    }
    throw err;
  }
}
