#!/usr/bin/env node
// The zarr-blosc2 command line. Errors become one line on stderr and exit code 1
// (stack traces only with --debug); usage errors exit with 2. Each command is a definition
// (src/cli/command.ts) from which both its parsing and its help come.
import { readFile } from "node:fs/promises";
import { blosc2Version } from "../decode/blosc2.js";
import { type Command, commandHelp, fullHelp, parseCommandArgs, UsageError } from "./command.js";
import { demoCommand } from "./demo.js";
import { infoCommand } from "./info.js";
import { sliceCommand } from "./slice.js";
import { statsCommand } from "./stats.js";
import { exportCommand, sqlCommand } from "./table.js";

const COMMANDS: readonly Command[] = [
  demoCommand,
  infoCommand,
  sliceCommand,
  sqlCommand,
  exportCommand,
  statsCommand,
] as unknown as Command[];

const TITLE = "zarr-blosc2 — Blosc2 chunks and b2nd arrays for JavaScript";
const TAIL = `  zarr-blosc2 <command> --help     The help of one command.
  zarr-blosc2 --version            Print the package and C-Blosc2 versions.
  zarr-blosc2 --help               Print this help.
`;

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
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

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const one = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      process.stdout.write(one ? commandHelp(one) : fullHelp(TITLE, COMMANDS, TAIL));
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-V") {
      console.log(`zarr-blosc2 ${await packageVersion()} (C-Blosc2 ${await blosc2Version()})`);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}" (see zarr-blosc2 --help)`);
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    await command.run(parseCommandArgs(command, rest));
    return 0;
  } catch (err) {
    if (debug) console.error(err);
    else console.error(`zarr-blosc2: ${oneLine(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
