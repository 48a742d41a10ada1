// Command definitions for the CLI: each command declares its arguments and options once, and
// both the parsing (Node's util.parseArgs) and the help text come from that declaration.
import { parseArgs } from "node:util";

/** A usage error: the message is printed as one line and the CLI exits with 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface OptionDef {
  type: "string" | "boolean";
  short?: string;
  /** A string option that may be given several times (its value is then a list). */
  multiple?: boolean;
  /** A string option that must be given. */
  required?: boolean;
  /** The value's placeholder in the help, e.g. "FILE" (string options). */
  value?: string;
  /** What the option does, for the help (one or more lines). */
  help: string;
}

export type OptionDefs = Record<string, OptionDef>;

/** The parsed values of `O`: booleans, strings, or lists of strings for `multiple` options. */
export type OptionValues<O extends OptionDefs> = {
  [K in keyof O]: O[K]["type"] extends "boolean"
    ? boolean
    : O[K]["multiple"] extends true
      ? string[]
      : O[K]["required"] extends true
        ? string
        : string | undefined;
};

export interface PositionalDef {
  /** As shown in the usage line, e.g. "<path|url>" (optional ones get brackets there). */
  name: string;
  optional?: boolean;
  /** Takes all remaining arguments (the last positional only). */
  rest?: boolean;
  /** The usage error when a required positional is missing. */
  missing?: string;
}

export interface Command<O extends OptionDefs = OptionDefs> {
  name: string;
  /** Shown after the usage line in the help. */
  description: string;
  positionals: PositionalDef[];
  options: O;
  run(args: { values: OptionValues<O>; positionals: string[] }): Promise<void>;
}

/** Declares a command; the identity function keeps `O` for the option values' types. */
export function defineCommand<O extends OptionDefs>(command: Command<O>): Command<O> {
  return command;
}

/** Options every command takes (handled by main before parsing). */
export const GLOBAL_OPTIONS: OptionDefs = {
  debug: { type: "boolean", help: "Show stack traces on errors." },
  help: { type: "boolean", short: "h", help: "Print the help of the command." },
};

// A token such as "-1", "-1,:" or "-3:" is a negative selection or number, not an option;
// parseArgs would take it for one, so it is shielded with a prefix while parsing.
const SHIELD = "\u0000";
const NEGATIVE = /^-[^A-Za-z-]/;

function unshield(text: string): string {
  return text.startsWith(SHIELD) ? text.slice(1) : text;
}

/** Parses `argv` (after the command name) against the command's definitions. */
export function parseCommandArgs<O extends OptionDefs>(
  command: Command<O>,
  argv: readonly string[],
): { values: OptionValues<O>; positionals: string[] } {
  const options = { ...command.options, ...GLOBAL_OPTIONS };
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  const args = argv.map((a) => (NEGATIVE.test(a) ? SHIELD + a : a));
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: config, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(usageMessage(err, options));
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) {
    const v = parsed.values[name];
    if (o.type === "boolean") values[name] = v === true;
    else if (o.multiple) values[name] = ((v as string[] | undefined) ?? []).map(unshield);
    else values[name] = typeof v === "string" ? unshield(v) : undefined;
    if (o.type === "string" && !o.multiple && values[name] === "") {
      throw new UsageError(`--${name} needs a value`);
    }
  }
  const positionals = parsed.positionals.map(unshield);
  const defs = command.positionals;
  const takesRest = defs.at(-1)?.rest === true;
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i]!;
    if (!d.optional && positionals[i] === undefined) {
      throw new UsageError(d.missing ?? `${command.name} needs ${d.name}`);
    }
  }
  if (!takesRest && positionals.length > defs.length) {
    const extra = positionals[defs.length]!;
    throw new UsageError(
      `unexpected argument ${extra}${defs.length > 1 ? " (quote each argument that holds spaces)" : ""}`,
    );
  }
  for (const [name, o] of Object.entries(command.options)) {
    if (o.required && values[name] === undefined) {
      throw new UsageError(`${command.name} needs --${name}${o.value ? ` ${o.value}` : ""}`);
    }
  }
  return { values: values as OptionValues<O>, positionals };
}

/** parseArgs' errors, in the CLI's own words. */
function usageMessage(err: unknown, options: OptionDefs): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  const option = quoted.replace(/ <value>$/, "");
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${unshield(option)}`;
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const long = option.replace(/^-(\w)(?:, )?/, "").replace(/^.*?--/, "--");
    const def = options[long.replace(/^--/, "")];
    if (/does not take an argument/.test(message)) return `${long} takes no value`;
    return `${long} needs a value${def?.value ? ` (${def.value})` : ""}`;
  }
  return message.split("\n")[0]!;
}

function optionLabel(name: string, o: OptionDef): string {
  const value = o.type === "string" ? ` ${o.value ?? "VALUE"}` : "";
  return `--${name}${o.short ? `, -${o.short}` : ""}${value}`;
}

/** The usage line: positionals, then required options, then the others in brackets. */
export function usageLine(command: Command): string {
  const parts = [`zarr-blosc2 ${command.name}`];
  for (const p of command.positionals) parts.push(p.optional ? `[${p.name}]` : p.name);
  for (const [name, o] of Object.entries(command.options)) {
    const value = o.type === "string" ? ` ${o.value ?? "VALUE"}` : "";
    const text = `--${name}${value}`;
    parts.push(o.required ? text : `[${text}${o.multiple ? " ..." : ""}]`);
  }
  return parts.join(" ");
}

function wrap(text: string, indent: string, width = 80): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter((w) => w !== "")) {
      if (line !== "" && indent.length + line.length + 1 + word.length > width) {
        lines.push(indent + line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    lines.push(indent + line);
  }
  return lines;
}

/** The help of one command: usage, description, options. */
export function commandHelp(command: Command): string {
  const [first, ...more] = wrap(usageLine(command), "    ", 100);
  const lines = [`  ${first!.trimStart()}`, ...more, ...wrap(command.description, "      ")];
  const options = Object.entries(command.options);
  if (options.length > 0) {
    const labels = options.map(([name, o]) => optionLabel(name, o));
    const width = Math.min(26, Math.max(...labels.map((l) => l.length)) + 2);
    options.forEach(([, o], i) => {
      const label = labels[i]!;
      const help = wrap(o.help, " ".repeat(6 + width));
      if (label.length + 2 > width) lines.push(`      ${label}`);
      else help[0] = `      ${label.padEnd(width)}${help[0]!.trimStart()}`;
      lines.push(...help);
    });
  }
  return `${lines.join("\n")}\n`;
}

/** The whole help: every command, then the global options. */
export function fullHelp(title: string, commands: readonly Command[], tail: string): string {
  const globals = Object.entries(GLOBAL_OPTIONS)
    .map(([name, o]) => `  ${optionLabel(name, o).padEnd(24)}${o.help}`)
    .join("\n");
  return `${title}\n\nUsage:\n${commands.map(commandHelp).join("")}${tail}\nOptions of every command:\n${globals}\n`;
}
