// The worker side of DecodePool: one wasm instance per worker, one chunk at a time. The same
// file runs as a Node worker_threads worker and as a browser module Web Worker.
import { decompress, decompressWith } from "./blosc2.js";
import type { PoolReply, PoolRequest } from "./pool.js";
import { scatterBatch } from "./scatter.js";
import { initBlosc2 } from "./wasm.js";

interface Port {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  on?(event: "message", listener: (message: unknown) => void): void;
  addEventListener?(event: "message", listener: (event: MessageEvent) => void): void;
}

// A browser worker listens at once (messages that arrive before a listener are lost there); a
// Node worker gets its parentPort from "#platform", which queues messages until a listener.
// No top-level await, so bundlers may build this file as a classic (IIFE) worker too.
const inBrowserWorker =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
let port: Port;

let ready: Promise<unknown> | undefined;

async function handle(request: PoolRequest): Promise<void> {
  if (request.type === "init") {
    ready = initBlosc2(request.module);
    try {
      await ready;
      port.postMessage({ type: "ready" } satisfies PoolReply);
    } catch (err) {
      port.postMessage({ type: "ready", error: serialize(err) } satisfies PoolReply);
    }
    return;
  }
  try {
    await ready;
    const job = request.scatter;
    if (job) {
      const source = request.options.source ?? "decompress";
      await decompressWith(
        request.chunk,
        (bytes) => scatterBatch(job, bytes, source),
        request.options,
      );
      port.postMessage({ type: "done", id: request.id } satisfies PoolReply);
      return;
    }
    const data = await decompress(request.chunk, request.options);
    port.postMessage({ type: "done", id: request.id, data } satisfies PoolReply, [data.buffer]);
  } catch (err) {
    port.postMessage({ type: "done", id: request.id, error: serialize(err) } satisfies PoolReply);
  }
}

function serialize(err: unknown): Record<string, unknown> {
  const e = err as Record<string, unknown>;
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(err),
    source: e?.source,
    problem: e?.problem,
    operation: e?.operation,
    code: e?.code,
  };
}

function listen(p: Port): void {
  port = p;
  if (p.on) p.on("message", (m) => void handle(m as PoolRequest));
  else p.addEventListener?.("message", (event) => void handle(event.data as PoolRequest));
}

if (inBrowserWorker) listen(globalThis as unknown as Port);
else
  void import("#platform").then(({ nodeParentPort }) => listen(nodeParentPort as unknown as Port));
