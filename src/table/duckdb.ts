// registerTable: makes a source queryable by SQL in DuckDB (@duckdb/node-api, loaded on first
// use). @duckdb/node-api 1.5 has no Arrow scan, and its table-function callbacks run
// synchronously on the JS thread while our reads are asynchronous, so a lazily re-read VIEW
// is not possible without a worker thread. Instead the pushed-down scan (`where` on
// dimensions, `columns`) is appended into a DuckDB table, batch by batch through data chunks:
// only the needed blocks are read, once, and memory on the JS side stays at one slab.
import type { DuckDBConnection, DuckDBType } from "@duckdb/node-api";
import { type DuckDBModule, loadDuckDB } from "./deps.js";
import { type ColumnBatch, openScan, type ScanOptions } from "./scan.js";
import type { ColumnType, ScanStats, TableSource } from "./tables.js";
import { halfToFloat } from "./values.js";

export interface RegisterTableOptions extends ScanOptions {
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
  stats: ScanStats;
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
  connection: DuckDBConnection,
  name: string,
  source: TableSource,
  options: RegisterTableOptions = {},
): Promise<RegisteredTable> {
  const duckdb = await loadDuckDB("registerTable");
  const scan = await openScan(source, options);
  const columns = scan.columns.map((c) => ({ name: c.name, type: duckdbTypeName(c.type) }));
  const ddl = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ");
  const replace = options.replace ?? true;
  const create = `CREATE ${replace ? "OR REPLACE " : ""}${options.temporary ? "TEMPORARY " : ""}TABLE`;
  await connection.run(`${create} ${quoteIdent(name)} (${ddl})`);
  const appender = await connection.createAppender(name, options.temporary ? "temp" : null);
  const types = scan.columns.map((c) => duckdbType(duckdb, c.type));
  try {
    for await (const batch of scan.batches()) appendBatch(duckdb, appender, types, batch);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return { name, rows: scan.stats.rows, columns, ranges: scan.ranges, stats: scan.stats };
}
