// The `stats` command: computes a table's stats sidecar (per-chunk min/max of its variables,
// src/table/stats-sidecar.ts) once and writes it beside the source, where the virtual Parquet
// file finds it to give variable columns statistics.
import { openTableSource } from "../table/open.js";
import { writeStatsSidecar } from "../table/stats-sidecar.js";
import { defineCommand } from "./command.js";

export async function writeStats(
  input: string,
  options: { table?: string | undefined; columns?: string[] | undefined; out?: string | undefined },
): Promise<string> {
  const o = await openTableSource(input);
  const tty = process.stderr.isTTY === true;
  try {
    const { path, sidecar } = await writeStatsSidecar(o.source, {
      ...(options.table ? { table: options.table } : {}),
      ...(options.columns ? { columns: options.columns } : {}),
      ...(options.out ? { path: options.out } : {}),
      ...(tty
        ? { onProgress: (done, total) => process.stderr.write(`\r${done}/${total} chunks`) }
        : {}),
    });
    if (tty) process.stderr.write("\n");
    const tables = Object.entries(sidecar.tables).map(
      ([name, t]) =>
        `${name} (${Object.entries(t.variables)
          .map(([v, s]) => `${v}: ${s.chunks.length} chunks`)
          .join(", ")})`,
    );
    return `wrote ${path}: ${tables.join("; ")}`;
  } finally {
    await o.close();
  }
}

export const statsCommand = defineCommand({
  name: "stats",
  description:
    "Compute the per-chunk min/max of a table's variables (decoding every chunk once) and write them beside the source as <source>.zb2stats.json, the stats sidecar that gives the virtual Parquet file's variable columns statistics. Tables already in the sidecar are kept.",
  positionals: [{ name: "<path>", missing: "stats needs a path" }],
  options: {
    table: { type: "string", value: "<dims>", help: "A group's table, by dimension names." },
    columns: { type: "string", value: "a,b", help: "The variables (default: all)." },
    out: {
      type: "string",
      value: "<file.json>",
      help: "Where to write the sidecar (default: beside the source).",
    },
  },
  async run({ values, positionals }) {
    const columns = values.columns
      ?.split(",")
      .map((c) => c.trim())
      .filter((c) => c !== "");
    console.log(
      await writeStats(positionals[0]!, { table: values.table, columns, out: values.out }),
    );
  },
});
