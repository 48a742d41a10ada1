#!/usr/bin/env node
// The zarr-blosc2 command line. Errors become one line on stderr and exit code 1
// (stack traces only with --debug); usage errors exit with 2.
import { readFile, writeFile } from "node:fs/promises";
import { type B2ndArray, openB2nd } from "../decode/b2nd-read.js";
import { OptionsError } from "../errors.js";
import { codecName, filterName } from "../format/chunk.js";
import { blosc2Version, openSource } from "../index.js";
import { demo, UsageError } from "./demo.js";
import { encodeNpy } from "./npy.js";
import { parseNumpySelection } from "./parse-selection.js";
import { exportCommand, sqlCommand } from "./table.js";

const HELP = `zarr-blosc2 — Blosc2 chunks and b2nd arrays for JavaScript

Usage:
  zarr-blosc2 demo [file] [--typesize N] [--json]
      The main job on an embedded default: writes a 2048 x 1024 float64 sample
      (a smooth field with a little noise) as a b2nd file, slices it (a point, a
      row, a column, a box, a strided grid, everything) printing the chunks and
      blocks each read touched, then compresses and decompresses the sample
      with every codec (shuffle on), printing ratio and speed. With a file,
      only the codec table, on that file's bytes.
  zarr-blosc2 info <path|url> [--json]
      Describe a b2nd array (a .b2nd file, a sparse frame directory or an http(s)
      URL): shape, dtype, chunk and block shapes, codec, filters, compression
      ratio, chunk count (and special chunks: zeros, nan, uninit), attributes.
  zarr-blosc2 slice <path|url> ["<selection>"] --out <file.npy> [--stats]
      Read a selection and write it as a NumPy .npy file (stored dtype and byte
      order, C order). The selection is NumPy index syntax without brackets:
      integers, start:stop:step slices (any part may be omitted), one "...";
      e.g. "5, :, 0:10", "::2, -1", "..., 3", "::-3". Missing trailing
      dimensions are taken whole; an empty or omitted selection reads everything.
      A selection may start with "-" ("-1, :"); it is not taken for an option.
      Only the chunks and blocks the selection touches are read and decoded.
      --out, -o FILE  The .npy file to write (required).
      --stats         Print "stats: chunksTouched=.. blocksDecoded=.. bytesRead=..
                      requests=.." for the read.
  zarr-blosc2 sql "<query>" --table name=<path|url>[#dims] [--table ...]
                  [--format table|csv|json] [--nan-as-null] [--fill-as-null] [--stats]
                  [--no-pushdown] [--view]
      Run SQL (DuckDB, @duckdb/node-api) over b2nd files and Zarr arrays or
      groups, each registered as a table: one row per array point, one column
      per dimension (coordinates, or indices dim_0...), then one per variable.
      A group holding arrays over different dimensions has several tables:
      the one whose variables the query names is used, or name it with
      #dim1,dim2. Only the variables the query names are read, and with one
      table, simple WHERE conditions on dimensions (x BETWEEN a AND b, y >= c,
      t = v, AND-ed) are pushed into the read (--no-pushdown turns that off).
      --format csv prints a header and one line per row (the last line is the
      last row); json an array of objects. --stats prints what was read.
      Tables are filled once with the rows read; --view registers views that
      a worker thread re-reads for each query instead (DuckDB then decides
      which variables are read).
  zarr-blosc2 export <path|url> --parquet <out.parquet> [--table <dims>]
                  [--columns a,b] [--where "lat=-20..30,lon=90,time>=59"]
                  [--row-group-rows N] [--nan-as-null] [--fill-as-null]
      Write a b2nd array or a Zarr array or group table as Parquet
      (hyparquet-writer): one row group per chunk slab, min/max statistics.
      --where keeps a box of dimension values (coordinate units; =lo..hi is
      inclusive) and reads only the blocks inside it.
      Shows a progress bar when stderr is a terminal.
  zarr-blosc2 --version     Print the package and C-Blosc2 versions.
  zarr-blosc2 --help        Print this help.

Options:
  --debug                   Show stack traces on errors.
`;

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** True for an option flag; "-1", "-3:" and "-1,:" are negative selections, not options. */
function isOption(arg: string): boolean {
  return /^--?[A-Za-z]/.test(arg);
}

/** Opens the array behind an explicitly opened source, so the file can be closed afterwards. */
async function withArray<T>(input: string, fn: (array: B2ndArray) => Promise<T>): Promise<T> {
  const source = await openSource(input);
  try {
    return await fn(await openB2nd(source));
  } finally {
    await source.close?.();
  }
}

/** JSON for attributes: int64 values beyond 2^53 as strings, binary as base64. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
  return value;
}

interface ArrayInfo {
  shape: number[];
  dtype: string;
  chunkShape: number[];
  blockShape: number[];
  codec: string;
  clevel: number;
  filters: string[];
  nbytes: number;
  cbytes: number;
  /** nbytes / cbytes, or null when nothing is stored (cbytes 0). */
  ratio: number | null;
  nchunks: number;
  specialChunks: { zeros: number; nan: number; uninit: number };
  sparse: boolean;
  attrs: Record<string, unknown>;
}

function arrayInfo(a: B2ndArray): ArrayInfo {
  const h = a.header;
  const special = { zeros: 0, nan: 0, uninit: 0 };
  for (const o of a.offsets) if (o.kind !== "data") special[o.kind]++;
  return {
    shape: a.shape,
    dtype: a.dtype,
    chunkShape: a.chunkShape,
    blockShape: a.blockShape,
    codec: codecName(h.codecId),
    clevel: h.clevel,
    filters: h.filters.filter((id) => id !== 0).map(filterName),
    nbytes: h.nbytes,
    cbytes: h.cbytes,
    ratio: h.cbytes > 0 ? h.nbytes / h.cbytes : null,
    nchunks: a.offsets.length,
    specialChunks: special,
    sparse: h.sparse,
    attrs: a.attrs,
  };
}

async function info(args: string[]): Promise<void> {
  let input: string | undefined;
  let json = false;
  for (const a of args) {
    if (a === "--json") json = true;
    else if (isOption(a)) throw new UsageError(`unknown option ${a}`);
    else if (input === undefined) input = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (input === undefined) throw new UsageError("info needs a path or URL");
  const i = await withArray(input, async (a) => arrayInfo(a));
  if (json) {
    console.log(JSON.stringify(i, jsonReplacer, 1));
    return;
  }
  const dims = (xs: number[]) => `(${xs.join(", ")}${xs.length === 1 ? "," : ""})`;
  const specials = Object.entries(i.specialChunks)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  const lines = [
    `array:    ${input}`,
    `shape:    ${dims(i.shape)}`,
    `dtype:    ${i.dtype}`,
    `chunks:   ${dims(i.chunkShape)}`,
    `blocks:   ${dims(i.blockShape)}`,
    `codec:    ${i.codec} (clevel ${i.clevel})`,
    `filters:  ${i.filters.length > 0 ? i.filters.join(", ") : "none"}`,
    `size:     ${i.nbytes} bytes, ${i.cbytes} stored`,
    `ratio:    ${i.ratio === null ? "n/a" : `${i.ratio.toFixed(2)}x`}`,
    `nchunks:  ${i.nchunks}${specials.length > 0 ? ` (special: ${specials.join(", ")})` : ""}`,
    `storage:  ${i.sparse ? "sparse (directory)" : "contiguous"} frame`,
    `attrs:    ${Object.keys(i.attrs).length > 0 ? JSON.stringify(i.attrs, jsonReplacer) : "none"}`,
  ];
  console.log(lines.join("\n"));
}

async function sliceCommand(args: string[]): Promise<void> {
  const positional: string[] = [];
  let out: string | undefined;
  let stats = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === "--stats") stats = true;
    else if (a === "--out" || a === "-o") {
      out = args[++i];
      if (out === undefined || out === "") throw new UsageError(`${a} needs a file name`);
    } else if (a.startsWith("--out=")) {
      out = a.slice("--out=".length);
      if (out === "") throw new UsageError("--out needs a file name");
    } else if (isOption(a)) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  const [input, selectionText = "", ...extra] = positional;
  if (input === undefined) throw new UsageError("slice needs a path or URL");
  if (extra.length > 0) {
    throw new UsageError(`unexpected argument ${extra[0]} (quote the selection as one argument)`);
  }
  if (out === undefined) throw new UsageError("slice needs --out <file.npy>");
  const outFile = out;
  const result = await withArray(input, async (a) => {
    let selection: ReturnType<typeof parseNumpySelection>;
    try {
      selection = parseNumpySelection(selectionText, a.ndim);
    } catch (err) {
      if (err instanceof OptionsError) throw new UsageError(err.message);
      throw err;
    }
    const r = await a.get(selection);
    return { ...r, dtype: a.dtype };
  });
  const bytes = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  await writeFile(outFile, encodeNpy(bytes, result.dtype, result.shape));
  if (stats) {
    const s = result.stats;
    console.log(
      `stats: chunksTouched=${s.chunksTouched} blocksDecoded=${s.blocksDecoded} bytesRead=${s.bytesRead} requests=${s.requests}`,
    );
  }
}

/**
 * An error as one printable line: messages quote paths, URLs and names read from files, so
 * line breaks and other control characters (terminal escapes) are shown escaped.
 */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let out = "";
  for (const c of message) {
    const code = c.codePointAt(0)!;
    if (code >= 0x20 && (code < 0x7f || code > 0x9f)) out += c;
    else out += c === "\n" ? "\\n" : `\\x${code.toString(16).padStart(2, "0")}`;
  }
  return out;
}

const COMMANDS = new Map<string, (args: string[]) => Promise<void>>([
  ["demo", demo],
  ["info", info],
  ["slice", sliceCommand],
  ["sql", sqlCommand],
  ["export", exportCommand],
]);

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  try {
    const [command, ...rest] = args;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "-V") {
      console.log(`zarr-blosc2 ${await packageVersion()} (C-Blosc2 ${await blosc2Version()})`);
      return 0;
    }
    const run = COMMANDS.get(command);
    if (run) {
      await run(rest);
      return 0;
    }
    throw new UsageError(`unknown command "${command}" (see zarr-blosc2 --help)`);
  } catch (err) {
    if (debug) console.error(err);
    else console.error(`zarr-blosc2: ${oneLine(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
