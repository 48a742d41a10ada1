// registerTable: makes a source queryable by SQL in DuckDB (@duckdb/node-api, loaded on first
// use). @duckdb/node-api 1.5 has no Arrow scan. Two ways:
// - mode "table" (default): the pushed-down scan (`where` on dimensions, `columns`) is appended
//   into a DuckDB table through data chunks: the needed blocks are read once, the rows live in
//   DuckDB.
// - mode "view": a view over a table function that re-reads the source for every query, with
//   DuckDB's projection pushdown deciding which variables are read. Table-function callbacks
//   run synchronously on the JS thread while reads are asynchronous, so the reads run in a
//   worker thread (scan-worker.ts) and the callback blocks on Atomics.wait for each batch. The
//   worker reopens the source, so this mode takes a path or URL.
import type { DuckDBConnection, DuckDBType } from "@duckdb/node-api";
import { OptionsError, ZarrBlosc2Error } from "../errors.js";
import { type DuckDBModule, loadDuckDB } from "./deps.js";
import { type ColumnBatch, type ColumnInfo, openScan, type ScanOptions } from "./scan.js";
import type { WorkerReply, WorkerRequest } from "./scan-worker.js";
import { type ColumnType, newScanStats, type ScanStats, type TableSource } from "./tables.js";
import { halfToFloat } from "./values.js";

/**
 * A @duckdb/node-api DuckDBConnection (structural, so the package's types compile without
 * that optional dependency installed).
 */
export interface DuckDBConnectionLike {
  run(sql: string): Promise<unknown>;
  createAppender(table: string, schema?: string, catalog?: string): Promise<unknown>;
}

export interface RegisterTableOptions extends ScanOptions {
  /**
   * "table" (default): append the pushed-down rows into a DuckDB table once. "view": a view
   * re-read for every query through a worker thread (the source must be a path or URL).
   */
  mode?: "table" | "view";
  /** View mode: how long a query waits for one batch before failing (default 120 000 ms). */
  batchTimeoutMs?: number;
  /** Replace a table or view of the same name (default true). */
  replace?: boolean;
  /** Create a TEMPORARY table, dropped with the connection (default false). */
  temporary?: boolean;
}

export interface RegisteredTable {
  name: string;
  /** Rows appended. */
  rows: number;
  /** Column names and DuckDB types, in table order. */
  columns: { name: string; type: string }[];
  /** The dimension box read, per dimension [start, stop) in indices. */
  ranges: { start: number; stop: number }[];
  /** What the registration read (table mode), or the last finished query's scan (view mode). */
  stats: ScanStats;
  /** View mode: queries whose scan finished so far. */
  scans: number;
  /** Stops the view's scan worker (later queries on the view fail). No-op for tables. */
  close(): Promise<void>;
}

/** DuckDB's SQL name for a column type (float16 is widened to FLOAT). */
export function duckdbTypeName(type: ColumnType): string {
  return {
    bool: "BOOLEAN",
    int8: "TINYINT",
    int16: "SMALLINT",
    int32: "INTEGER",
    int64: "BIGINT",
    uint8: "UTINYINT",
    uint16: "USMALLINT",
    uint32: "UINTEGER",
    uint64: "UBIGINT",
    float16: "FLOAT",
    float32: "FLOAT",
    float64: "DOUBLE",
  }[type];
}

function duckdbType(duckdb: DuckDBModule, type: ColumnType): DuckDBType {
  return {
    bool: duckdb.BOOLEAN,
    int8: duckdb.TINYINT,
    int16: duckdb.SMALLINT,
    int32: duckdb.INTEGER,
    int64: duckdb.BIGINT,
    uint8: duckdb.UTINYINT,
    uint16: duckdb.USMALLINT,
    uint32: duckdb.UINTEGER,
    uint64: duckdb.UBIGINT,
    float16: duckdb.FLOAT,
    float32: duckdb.FLOAT,
    float64: duckdb.DOUBLE,
  }[type];
}

/** Drops a table or view `name` if one of that kind exists (the other kind is left alone). */
async function dropIfExists(
  connection: DuckDBConnection,
  kind: "TABLE" | "VIEW",
  name: string,
): Promise<void> {
  try {
    await connection.run(`DROP ${kind} IF EXISTS ${quoteIdent(name)}`);
  } catch {
    // An object of the other kind: CREATE OR REPLACE handles it.
  }
}

/** A SQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const VECTOR_SIZE = 2048;

function appendBatch(
  duckdb: DuckDBModule,
  appender: Awaited<ReturnType<DuckDBConnection["createAppender"]>>,
  types: DuckDBType[],
  batch: ColumnBatch,
): void {
  for (let a = 0; a < batch.rows; a += VECTOR_SIZE) {
    const n = Math.min(VECTOR_SIZE, batch.rows - a);
    const chunk = duckdb.DuckDBDataChunk.create(types, n);
    batch.columns.forEach((c, ci) => {
      const vector = chunk.getColumnVector(ci) as unknown as {
        setItem(i: number, v: unknown): void;
        flush(): void;
      };
      const values = c.values as unknown as ArrayLike<number | bigint>;
      const valid = c.valid;
      for (let i = 0; i < n; i++) {
        const row = a + i;
        if (valid && valid[row] === 0) {
          vector.setItem(i, null);
          continue;
        }
        const v = values[row]!;
        vector.setItem(
          i,
          c.type === "bool" ? v !== 0 : c.type === "float16" ? halfToFloat(v as number) : v,
        );
      }
      vector.flush();
    });
    appender.appendDataChunk(chunk);
  }
}

/**
 * Creates table `name` in DuckDB holding `source` (a b2nd array, a zarrita array or group) as
 * rows: dimension columns, then variables. `where` (dimensions) and `columns` are pushed into
 * the read, so only the needed blocks are read. The table is a snapshot: re-register after
 * the data changes.
 */
export async function registerTable(
  db: DuckDBConnectionLike,
  name: string,
  source: TableSource | string,
  options: RegisterTableOptions = {},
): Promise<RegisteredTable> {
  const connection = db as DuckDBConnection;
  const duckdb = await loadDuckDB("registerTable");
  if (options.mode === "view") return registerView(duckdb, connection, name, source, options);
  if (options.mode !== undefined && options.mode !== "table") {
    throw new OptionsError(
      `registerTable: mode must be "table" or "view", got ${String(options.mode)}`,
    );
  }
  let opened: { source: TableSource; close(): Promise<void> } | undefined;
  if (typeof source === "string") {
    const { openTableSource } = await import("./open.js");
    opened = await openTableSource(source);
  }
  try {
    return await registerMaterialised(
      duckdb,
      connection,
      name,
      opened?.source ?? (source as TableSource),
      options,
    );
  } finally {
    await opened?.close();
  }
}

async function registerMaterialised(
  duckdb: DuckDBModule,
  connection: DuckDBConnection,
  name: string,
  source: TableSource,
  options: RegisterTableOptions,
): Promise<RegisteredTable> {
  const scan = await openScan(source, options);
  const columns = scan.columns.map((c) => ({ name: c.name, type: duckdbTypeName(c.type) }));
  const ddl = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ");
  const replace = options.replace ?? true;
  const create = `CREATE ${replace ? "OR REPLACE " : ""}${options.temporary ? "TEMPORARY " : ""}TABLE`;
  if (replace) await dropIfExists(connection, "VIEW", name);
  await connection.run(`${create} ${quoteIdent(name)} (${ddl})`);
  const appender = options.temporary
    ? await connection.createAppender(name, "main", "temp")
    : await connection.createAppender(name);
  const types = scan.columns.map((c) => duckdbType(duckdb, c.type));
  try {
    for await (const batch of scan.batches()) appendBatch(duckdb, appender, types, batch);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return {
    name,
    rows: scan.stats.rows,
    columns,
    ranges: scan.ranges,
    stats: scan.stats,
    scans: 1,
    close: async () => {},
  };
}

/** The JS-thread side of the scan worker: synchronous requests. */
class ScanWorker {
  private nextId = 1;
  private constructor(
    private readonly worker: import("node:worker_threads").Worker,
    private readonly port: import("node:worker_threads").MessagePort,
    private readonly flag: Int32Array,
    private readonly receive: typeof import("node:worker_threads").receiveMessageOnPort,
    private readonly timeoutMs: number,
  ) {}

  static async start(timeoutMs: number): Promise<ScanWorker> {
    const wt = await import("node:worker_threads");
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new wt.MessageChannel();
    const worker = new wt.Worker(new URL("./scan-worker.js", import.meta.url), {
      workerData: { port: port2, flag },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    return new ScanWorker(worker, port1, flag, wt.receiveMessageOnPort, timeoutMs);
  }

  id(): number {
    return this.nextId++;
  }

  request(msg: WorkerRequest): WorkerReply {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(msg);
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs) === "timed-out") {
      throw new ZarrBlosc2Error(
        `scan worker: no answer to "${msg.type}" within ${this.timeoutMs} ms`,
      );
    }
    const got = this.receive(this.port);
    if (!got) throw new ZarrBlosc2Error(`scan worker: raised its flag without a message`);
    const reply = got.message as WorkerReply;
    if ("error" in reply) throw new ZarrBlosc2Error(`scan worker: ${reply.error}`);
    return reply;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

interface ScanState {
  id: number;
  projected: (ColumnInfo | undefined)[];
  batch?: Extract<WorkerReply, { batch: unknown }>["batch"];
  columns?: ({ values: ArrayLike<number | bigint>; valid?: Uint8Array } | undefined)[];
  offset: number;
  done: boolean;
  /** Row number, for a projected row-id column (count(*) projects no real column). */
  row: number;
}

let viewCounter = 0;

async function registerView(
  duckdb: DuckDBModule,
  connection: DuckDBConnection,
  name: string,
  source: TableSource | string,
  options: RegisterTableOptions,
): Promise<RegisteredTable> {
  if (typeof source !== "string") {
    throw new OptionsError(
      'registerTable: mode "view" needs the source as a path or URL (its scan worker reopens it)',
    );
  }
  // Columns, types and the box, from the source opened here once.
  const { openTableSource } = await import("./open.js");
  const opened = await openTableSource(source);
  let scanColumns: ColumnInfo[];
  let ranges: { start: number; stop: number }[];
  let totalRows: number;
  try {
    const scan = await openScan(opened.source, options);
    scanColumns = scan.columns;
    ranges = scan.ranges;
    totalRows = scan.totalRows;
  } finally {
    await opened.close();
  }
  const worker = await ScanWorker.start(options.batchTimeoutMs ?? 120_000);
  const {
    stats: _stats,
    onProgress: _p,
    signal: _s,
    mode: _m,
    batchTimeoutMs: _t,
    ...rest
  } = options;
  const scanOptions: ScanOptions = rest;
  const result: RegisteredTable = {
    name,
    rows: totalRows,
    columns: scanColumns.map((c) => ({ name: c.name, type: duckdbTypeName(c.type) })),
    ranges,
    stats: Object.assign(options.stats ?? ({} as ScanStats), newScanStats()),
    scans: 0,
    close: () => worker.terminate(),
  };
  const open = new Set<number>();
  const fnName = `zarr_blosc2_view_${++viewCounter}_${name.replace(/\W/g, "_")}`;
  const fn = duckdb.DuckDBTableFunction.create({
    name: fnName,
    supportsProjectionPushdown: true,
    bindFunction: (info) => {
      for (const c of scanColumns) info.addResultColumn(c.name, duckdbType(duckdb, c.type));
      info.setCardinality(totalRows, true);
    },
    initFunction: (info) => {
      try {
        const projected = info.getColumnIndexes().map((i) => scanColumns[i]);
        const variables = projected.filter((c) => c?.kind === "variable").map((c) => c!.name);
        // A query that stops early (LIMIT) never finishes its scan: keep a few at most.
        if (open.size >= 8) {
          const oldest = open.values().next().value as number;
          open.delete(oldest);
          worker.request({ type: "close", id: oldest });
        }
        const id = worker.id();
        worker.request({
          type: "open",
          id,
          input: source,
          options: { ...scanOptions, columns: variables },
        });
        open.add(id);
        const state: ScanState = { id, projected, offset: 0, done: false, row: 0 };
        info.setInitData(state);
        info.setMaxThreads(1);
      } catch (err) {
        info.setError((err as Error).message);
      }
    },
    mainFunction: (info, output) => {
      const st = info.initData as ScanState;
      try {
        while (!st.done && (!st.batch || st.offset >= st.batch.rows)) {
          const reply = worker.request({ type: "next", id: st.id });
          if ("done" in reply) {
            st.done = true;
            open.delete(st.id);
            Object.assign(result.stats, reply.stats);
            result.scans++;
          } else if ("batch" in reply) {
            st.batch = reply.batch;
            st.offset = 0;
            st.columns = st.projected.map((p) => {
              const c = reply.batch.columns.find((x) => x.name === p?.name);
              return c
                ? {
                    values: c.values as unknown as ArrayLike<number | bigint>,
                    ...(c.valid ? { valid: c.valid } : {}),
                  }
                : undefined;
            });
          }
        }
        if (st.done) {
          output.rowCount = 0;
          return;
        }
        const n = Math.min(VECTOR_SIZE, st.batch!.rows - st.offset);
        output.rowCount = n;
        st.projected.forEach((p, j) => {
          const vector = output.getColumnVector(j) as unknown as {
            setItem(i: number, v: unknown): void;
            flush(): void;
          };
          const col = st.columns![j];
          for (let i = 0; i < n; i++) {
            const row = st.offset + i;
            if (!p || !col) {
              vector.setItem(i, BigInt(st.row + i)); // DuckDB's row id
              continue;
            }
            if (col.valid && col.valid[row] === 0) {
              vector.setItem(i, null);
              continue;
            }
            const v = col.values[row]!;
            vector.setItem(
              i,
              p.type === "bool" ? v !== 0 : p.type === "float16" ? halfToFloat(v as number) : v,
            );
          }
          vector.flush();
        });
        st.offset += n;
        st.row += n;
      } catch (err) {
        info.setError((err as Error).message);
        output.rowCount = 0;
      }
    },
  });
  connection.registerTableFunction(fn);
  if (options.replace ?? true) await dropIfExists(connection, "TABLE", name);
  await connection.run(
    `CREATE ${(options.replace ?? true) ? "OR REPLACE " : ""}${options.temporary ? "TEMPORARY " : ""}VIEW ${quoteIdent(name)} AS SELECT * FROM ${fnName}()`,
  );
  return result;
}
