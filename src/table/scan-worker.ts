// The scan worker behind DuckDB views (registerTable with mode "view"). DuckDB calls table
// functions synchronously on the JS thread, but reads are asynchronous: the JS thread posts a
// request here and blocks on a shared flag (Atomics.wait) until this worker has read the next
// batch, posted it on the shared port and raised the flag. The JS thread then takes the
// message with receiveMessageOnPort. One request is outstanding at a time.
import { type MessagePort, workerData } from "node:worker_threads";
import { openTableSource } from "./open.js";
import { type ColumnBatch, openScan, type ScanOptions } from "./scan.js";
import type { ScanStats } from "./tables.js";

export type WorkerRequest =
  | { type: "open"; id: number; input: string; options: ScanOptions }
  | { type: "next"; id: number }
  | { type: "close"; id: number };

export type WorkerReply =
  | { ok: true; totalRows?: number }
  | { done: true; stats: ScanStats }
  | {
      batch: {
        rows: number;
        columns: { name: string; values: ArrayBufferView; valid?: Uint8Array }[];
      };
    }
  | { error: string };

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

interface Running {
  batches: AsyncGenerator<ColumnBatch>;
  stats: ScanStats;
  close(): Promise<void>;
}
const scans = new Map<number, Running>();

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === "open") {
    const opened = await openTableSource(msg.input);
    let scan: Awaited<ReturnType<typeof openScan>>;
    try {
      scan = await openScan(opened.source, msg.options);
    } catch (err) {
      await opened.close(); // no file left open by a scan that never started
      throw err;
    }
    scans.set(msg.id, { batches: scan.batches(), stats: scan.stats, close: opened.close });
    reply({ ok: true, totalRows: scan.totalRows });
    return;
  }
  const running = scans.get(msg.id);
  if (msg.type === "close") {
    scans.delete(msg.id);
    await running?.batches.return(undefined);
    await running?.close();
    reply({ ok: true });
    return;
  }
  if (!running) throw new Error(`no scan ${msg.id}`);
  let next: IteratorResult<ColumnBatch>;
  try {
    next = await running.batches.next();
  } catch (err) {
    // A failed scan is over: close its files now rather than when the worker ends.
    scans.delete(msg.id);
    await running.close().catch(() => {});
    throw err;
  }
  if (next.done) {
    scans.delete(msg.id);
    await running.close();
    reply({ done: true, stats: running.stats });
    return;
  }
  // Copy each column out of its slab (a view would clone the whole slab buffer) and transfer.
  const transfer: ArrayBuffer[] = [];
  const columns = next.value.columns.map((c) => {
    const values = (c.values as unknown as { slice(): ArrayBufferView }).slice();
    transfer.push(values.buffer as ArrayBuffer);
    const valid = c.valid?.slice();
    if (valid) transfer.push(valid.buffer as ArrayBuffer);
    return { name: c.name, values, ...(valid ? { valid } : {}) };
  });
  reply({ batch: { rows: next.value.rows, columns } }, transfer);
}

let queue = Promise.resolve();
port.on("message", (msg: WorkerRequest) => {
  queue = queue.then(() =>
    handle(msg).catch((err: unknown) => {
      reply({ error: err instanceof Error ? err.message : String(err) });
    }),
  );
});
