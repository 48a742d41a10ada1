// The table commands: `sql` (DuckDB over b2nd files and Zarr arrays or groups) and `export`
// (Parquet). Sources are opened by path or URL: a .b2nd file or sparse b2nd directory, a Zarr
// array or group (v2 or v3; a path inside a store opens the store at its root so coordinate
// arrays next to an array are found).
import { OptionsError } from "../errors.js";
import { loadDuckDB } from "../table/deps.js";
import { type RegisteredTable, registerTable } from "../table/duckdb.js";
import { type Opened, openTableSource } from "../table/open.js";
import { toParquet } from "../table/parquet.js";
import { extractDimensionWhere } from "../table/sql-where.js";
import { listTables, type ScanStats } from "../table/tables.js";
import type { Where } from "../table/where.js";
import { UsageError } from "./demo.js";

interface TableArg {
  name: string;
  path: string;
  /** A group's table, by dimension names ("time,lat,lon"). */
  table?: string;
}

function parseTableArg(text: string): TableArg {
  const m = /^([A-Za-z_][\w]*)=(.+)$/.exec(text);
  if (!m) throw new UsageError(`--table needs name=<path|url>[#dim1,dim2,...], got "${text}"`);
  const [, name, rest] = m as unknown as [string, string, string];
  const hash = rest.lastIndexOf("#");
  if (hash > 0 && !rest.slice(hash + 1).includes("/")) {
    return { name, path: rest.slice(0, hash), table: rest.slice(hash + 1) };
  }
  return { name, path: rest };
}

/** Identifiers a query mentions (to choose a group's table and the variables to read). */
function identifiers(sql: string): Set<string> {
  const out = new Set<string>();
  for (const m of sql.matchAll(/"((?:[^"]|"")+)"|\b([A-Za-z_][\w$]*)\b/g)) {
    out.add(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!);
  }
  return out;
}

type Format = "table" | "csv" | "json";

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object")
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  return String(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

export function formatRows(names: string[], rows: unknown[][], format: Format): string {
  if (format === "json") {
    const objs = rows.map((r) => Object.fromEntries(names.map((n, i) => [n, jsonValue(r[i])])));
    return `${JSON.stringify(objs, null, 1)}\n`;
  }
  if (format === "csv") {
    const lines = [
      names.map(csvField).join(","),
      ...rows.map((r) => r.map((v) => csvField(cell(v))).join(",")),
    ];
    return `${lines.join("\n")}\n`;
  }
  const text = rows.map((r) => r.map((v) => (v === null || v === undefined ? "NULL" : cell(v))));
  const widths = names.map((n, i) => Math.max(n.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const numeric = rows.length > 0 && typeof rows[0]![i] !== "string";
        return numeric ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join(" | ")
      .trimEnd();
  const out = [line(names), widths.map((w) => "-".repeat(w)).join("-+-"), ...text.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? "" : "s"})`);
  return `${out.join("\n")}\n`;
}

function statsLine(name: string, s: ScanStats, where: Where | undefined): string {
  return `stats: table=${name} rows=${s.rows} chunksTouched=${s.chunksTouched} blocksDecoded=${s.blocksDecoded} bytesRead=${s.bytesRead} requests=${s.requests} variables=${s.variablesRead.join(",") || "-"} where=${where ? JSON.stringify(where) : "-"}`;
}

export async function sqlCommand(args: string[]): Promise<void> {
  let query: string | undefined;
  const tables: TableArg[] = [];
  let format: Format = "table";
  let stats = false;
  let nanAsNull = false;
  let fillAsNull = false;
  let pushdown = true;
  let view = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--table" || a === "-t") tables.push(parseTableArg(value()));
    else if (a.startsWith("--table=")) tables.push(parseTableArg(a.slice(8)));
    else if (a === "--format" || a === "-f" || a.startsWith("--format=")) {
      const f = a.startsWith("--format=") ? a.slice(9) : value();
      if (f !== "table" && f !== "csv" && f !== "json") {
        throw new UsageError(`--format must be table, csv or json, got "${f}"`);
      }
      format = f;
    } else if (a === "--stats") stats = true;
    else if (a === "--nan-as-null") nanAsNull = true;
    else if (a === "--fill-as-null") fillAsNull = true;
    else if (a === "--no-pushdown") pushdown = false;
    else if (a === "--view") view = true;
    else if (/^--?[A-Za-z]/.test(a)) throw new UsageError(`unknown option ${a}`);
    else if (query === undefined) query = a;
    else throw new UsageError(`unexpected argument ${a} (quote the query as one argument)`);
  }
  if (query === undefined || query.trim() === "")
    throw new UsageError('sql needs a query: sql "SELECT ..." --table name=<path>');
  if (tables.length === 0) throw new UsageError("sql needs at least one --table name=<path|url>");
  const duckdb = await loadDuckDB("zarr-blosc2 sql");
  const instance = await duckdb.DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const opened: Opened[] = [];
  const registered: { name: string; where: Where | undefined; table: RegisteredTable }[] = [];
  try {
    const mentioned = identifiers(query);
    for (const t of tables) {
      const o = await openTableSource(t.path);
      opened.push(o);
      const all = await listTables(o.source);
      const star = /(?:\bSELECT|,)\s*(?:[A-Za-z_]\w*\.)?\*/i.test(query);
      // Variables the query names: the only ones read (all of them for SELECT *).
      let spec = t.table ? all.find((x) => x.name === t.table) : undefined;
      if (t.table && !spec) {
        throw new OptionsError(
          `${t.path}: no table "${t.table}" (tables: ${all.map((x) => x.name).join("; ")})`,
        );
      }
      if (!spec) {
        const used = all.filter((x) => x.variables.some((v) => mentioned.has(v.name)));
        spec = all.length === 1 ? all[0] : used.length === 1 ? used[0] : undefined;
        if (!spec) {
          throw new OptionsError(
            `${t.path} holds ${all.length} tables (${all.map((x) => `${x.name}: ${x.variables.map((v) => v.name).join(", ")}`).join("; ")}); choose one with --table ${t.name}=${t.path}#<dims>`,
          );
        }
      }
      const columns = star
        ? undefined
        : spec.variables.map((v) => v.name).filter((v) => mentioned.has(v));
      const where =
        pushdown && tables.length === 1
          ? extractDimensionWhere(
              query,
              t.name,
              spec.dims.map((d) => d.name),
            )
          : undefined;
      // A view is re-read by a worker that reopens the path; DuckDB projects its columns.
      const r = await registerTable(connection, t.name, view ? t.path : o.source, {
        table: spec.name,
        ...(columns && !view ? { columns } : {}),
        ...(where ? { where } : {}),
        ...(view ? { mode: "view" as const } : {}),
        nanAsNull,
        fillAsNull,
      });
      registered.push({ name: t.name, where, table: r });
    }
    const reader = await connection.runAndReadAll(query);
    const names = reader.columnNames();
    process.stdout.write(formatRows(names, reader.getRowsJS() as unknown[][], format));
    if (stats) {
      for (const r of registered)
        process.stderr.write(`${statsLine(r.name, r.table.stats, r.where)}\n`);
    }
  } finally {
    for (const r of registered) await r.table.close();
    connection.closeSync();
    instance.closeSync();
    for (const o of opened) await o.close();
  }
}

/**
 * `--where` of export: comma-separated `dim=v`, `dim=lo..hi` (inclusive), `dim>=v`, `dim>v`,
 * `dim<=v`, `dim<v`, in coordinate units (indices without coordinates).
 */
export function parseWhereArg(text: string): Where {
  const out: Record<string, Record<string, number>> = {};
  const num = (v: string, term: string) => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) {
      throw new UsageError(`--where: "${term}" needs a number, got "${v}"`);
    }
    return x;
  };
  for (const term of text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")) {
    const m = /^([A-Za-z_][\w$]*)\s*(>=|<=|>|<|=)\s*(.+)$/.exec(term);
    if (!m) throw new UsageError(`--where: cannot read "${term}" (dim=v, dim=lo..hi, dim>=v, ...)`);
    const [, dim, op, value] = m as unknown as [string, string, string, string];
    const b = out[dim] ?? {};
    out[dim] = b;
    const range = op === "=" ? /^(.+?)\.\.(.+)$/.exec(value) : null;
    if (range) {
      b.gte = num(range[1]!, term);
      b.lte = num(range[2]!, term);
    } else {
      const key = { "=": "eq", ">=": "gte", ">": "gt", "<=": "lte", "<": "lt" }[op]!;
      b[key] = num(value, term);
    }
  }
  return out;
}

function progressBar(rows: number, total: number): string {
  const width = 30;
  const frac = total > 0 ? rows / total : 1;
  const filled = Math.round(frac * width);
  return `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${rows}/${total} rows`;
}

export async function exportCommand(args: string[]): Promise<void> {
  let input: string | undefined;
  let out: string | undefined;
  let table: string | undefined;
  let columns: string[] | undefined;
  let where: Where | undefined;
  let rowGroupRows: number | undefined;
  let nanAsNull = false;
  let fillAsNull = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v === "") throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--parquet") out = value();
    else if (a.startsWith("--parquet=")) out = a.slice(10);
    else if (a === "--table") table = value();
    else if (a === "--where") where = parseWhereArg(value());
    else if (a === "--columns")
      columns = value()
        .split(",")
        .map((c) => c.trim())
        .filter((c) => c !== "");
    else if (a === "--row-group-rows") {
      rowGroupRows = Number(value());
      if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows < 1) {
        throw new UsageError("--row-group-rows must be a positive integer");
      }
    } else if (a === "--nan-as-null") nanAsNull = true;
    else if (a === "--fill-as-null") fillAsNull = true;
    else if (/^--?[A-Za-z]/.test(a)) throw new UsageError(`unknown option ${a}`);
    else if (input === undefined) input = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (input === undefined) throw new UsageError("export needs a path or URL");
  if (out === undefined || out === "")
    throw new UsageError("export needs --parquet <file.parquet>");
  const o = await openTableSource(input);
  const tty = process.stderr.isTTY === true;
  try {
    const r = await toParquet(o.source, out, {
      ...(table ? { table } : {}),
      ...(columns ? { columns } : {}),
      ...(where ? { where } : {}),
      ...(rowGroupRows ? { rowGroupRows } : {}),
      nanAsNull,
      fillAsNull,
      ...(tty
        ? {
            onProgress: (rows: number, total: number) =>
              process.stderr.write(progressBar(rows, total)),
          }
        : {}),
    });
    if (tty) process.stderr.write("\n");
    console.log(
      `wrote ${out}: ${r.rows} rows, ${r.rowGroups} row groups, columns ${r.columns.map((c) => `${c.name} (${c.type})`).join(", ")}`,
    );
  } finally {
    await o.close();
  }
}
