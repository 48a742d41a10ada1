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
import { defineCommand, UsageError } from "./command.js";

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

async function sql(
  query: string,
  tables: TableArg[],
  o: {
    format: Format;
    stats: boolean;
    nanAsNull: boolean;
    fillAsNull: boolean;
    pushdown: boolean;
    view: boolean;
  },
): Promise<void> {
  const { format, stats, nanAsNull, fillAsNull, pushdown, view } = o;
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

async function exportParquet(
  input: string,
  out: string,
  options: {
    table: string | undefined;
    columns: string[] | undefined;
    where: Where | undefined;
    rowGroupRows: number | undefined;
    nanAsNull: boolean;
    fillAsNull: boolean;
  },
): Promise<void> {
  const { table, columns, where, rowGroupRows, nanAsNull, fillAsNull } = options;
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

const nullOptions = {
  "nan-as-null": { type: "boolean", help: "NaN in float variables becomes NULL." },
  "fill-as-null": {
    type: "boolean",
    help: "Values equal to the array's fill value become NULL.",
  },
} as const;

export const sqlCommand = defineCommand({
  name: "sql",
  description:
    "Run SQL (DuckDB, @duckdb/node-api) over b2nd files and Zarr arrays or groups, each registered as a table: one row per array point, one column per dimension (coordinates, or indices dim_0...), then one per variable. A group holding arrays over different dimensions has several tables: the one whose variables the query names is used, or name it with #dim1,dim2. Only the variables the query names are read, and with one table, simple WHERE conditions on dimensions (x BETWEEN a AND b, y >= c, t = v, AND-ed) are pushed into the read. Tables are filled once with the rows read; --view registers views that a worker thread re-reads for each query instead (DuckDB then decides which variables are read).",
  positionals: [
    { name: '"<query>"', missing: 'sql needs a query: sql "SELECT ..." --table name=<path>' },
  ],
  options: {
    table: {
      type: "string",
      short: "t",
      multiple: true,
      value: "name=<path|url>[#dims]",
      help: "A table to register (at least one).",
    },
    format: {
      type: "string",
      short: "f",
      value: "table|csv|json",
      help: "Output format: an aligned table (default), CSV with a header, or a JSON array of objects.",
    },
    ...nullOptions,
    stats: { type: "boolean", help: "Print what was read for each table, on stderr." },
    "no-pushdown": { type: "boolean", help: "Do not push WHERE conditions into the read." },
    view: { type: "boolean", help: "Register views re-read per query instead of tables." },
  },
  async run({ values, positionals }) {
    const query = positionals[0]!;
    if (query.trim() === "") {
      throw new UsageError('sql needs a query: sql "SELECT ..." --table name=<path>');
    }
    const tables = values.table.map(parseTableArg);
    if (tables.length === 0) throw new UsageError("sql needs at least one --table name=<path|url>");
    const format = values.format ?? "table";
    if (format !== "table" && format !== "csv" && format !== "json") {
      throw new UsageError(`--format must be table, csv or json, got "${format}"`);
    }
    await sql(query, tables, {
      format,
      stats: values.stats,
      nanAsNull: values["nan-as-null"],
      fillAsNull: values["fill-as-null"],
      pushdown: !values["no-pushdown"],
      view: values.view,
    });
  },
});

export const exportCommand = defineCommand({
  name: "export",
  description:
    "Write a b2nd array or a Zarr array or group table as Parquet (hyparquet-writer): one row group per chunk slab, min/max statistics. --where keeps a box of dimension values (coordinate units; =lo..hi is inclusive) and reads only the blocks inside it. Shows a progress bar when stderr is a terminal.",
  positionals: [{ name: "<path|url>", missing: "export needs a path or URL" }],
  options: {
    parquet: {
      type: "string",
      required: true,
      value: "<out.parquet>",
      help: "The Parquet file to write.",
    },
    table: { type: "string", value: "<dims>", help: "A group's table, by dimension names." },
    columns: { type: "string", value: "a,b", help: "The variables to write (default: all)." },
    where: {
      type: "string",
      value: '"lat=-20..30,lon=90,time>=59"',
      help: "Conditions on dimensions: dim=v, dim=lo..hi, dim>=v, dim>v, dim<=v, dim<v.",
    },
    "row-group-rows": {
      type: "string",
      value: "N",
      help: "Most rows per row group (default 1048576).",
    },
    ...nullOptions,
  },
  async run({ values, positionals }) {
    let rowGroupRows: number | undefined;
    if (values["row-group-rows"] !== undefined) {
      rowGroupRows = Number(values["row-group-rows"]);
      if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows < 1) {
        throw new UsageError("--row-group-rows must be a positive integer");
      }
    }
    const columns = values.columns
      ?.split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
    await exportParquet(positionals[0]!, values.parquet, {
      table: values.table,
      columns,
      where: values.where === undefined ? undefined : parseWhereArg(values.where),
      rowGroupRows,
      nanAsNull: values["nan-as-null"],
      fillAsNull: values["fill-as-null"],
    });
  },
});
