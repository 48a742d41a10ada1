// `zarr-blosc2 slice`: a NumPy-style selection of an array written as a .npy file (or to
// stdout), reading only the chunks and blocks it touches.
import { writeFile } from "node:fs/promises";
import { OptionsError } from "../errors.js";
import { defineCommand, UsageError } from "./command.js";
import { encodeNpy } from "./npy.js";
import { openCliArray } from "./open-array.js";
import { parseNumpySelection } from "./parse-selection.js";

export const sliceCommand = defineCommand({
  name: "slice",
  description:
    'Read a selection of a b2nd array or a Zarr array and write it as a NumPy .npy file (stored dtype and byte order, C order). The selection is NumPy index syntax without brackets: integers, start:stop:step slices (any part may be omitted), one "..."; e.g. "5, :, 0:10", "::2, -1", "..., 3", "::-3". Missing trailing dimensions are taken whole; an empty or omitted selection reads everything. A selection may start with "-" ("-1, :"); it is not taken for an option. Only the chunks and blocks the selection touches are read and decoded (for Zarr arrays: b2nd-codec chunks block by block, other codecs whole chunks). Prints what it wrote; with --out - the .npy goes to stdout and nothing else does.',
  positionals: [
    { name: "<path|url>", missing: "slice needs a path or URL" },
    { name: '"<selection>"', optional: true },
  ],
  options: {
    out: {
      type: "string",
      short: "o",
      required: true,
      value: "FILE",
      help: "The .npy file to write; - for stdout.",
    },
    stats: {
      type: "boolean",
      help: 'Print "stats: chunksTouched=.. blocksDecoded=.. bytesRead=.. requests=.." for the read (on stderr with --out -).',
    },
  },
  async run({ values, positionals }) {
    const [input, selectionText = ""] = positionals as [string, string?];
    const out = values.out;
    const a = await openCliArray(input);
    let result: Awaited<ReturnType<typeof a.read>>;
    try {
      let selection: ReturnType<typeof parseNumpySelection>;
      try {
        selection = parseNumpySelection(selectionText, a.ndim);
      } catch (err) {
        if (err instanceof OptionsError) throw new UsageError(err.message);
        throw err;
      }
      result = await a.read(selection);
    } finally {
      await a.close();
    }
    const npy = encodeNpy(result.bytes, a.dtype, result.shape);
    const toStdout = out === "-";
    if (toStdout) await writeStdout(npy);
    else await writeFile(out, npy);
    const s = result.stats;
    const lines: string[] = [];
    if (!toStdout) {
      const shape = `(${result.shape.join(", ")}${result.shape.length === 1 ? "," : ""})`;
      lines.push(`wrote ${out}: shape ${shape} ${a.dtype}, ${npy.length} bytes`);
    }
    if (values.stats) {
      lines.push(
        `stats: chunksTouched=${s.chunksTouched} blocksDecoded=${s.blocksDecoded} bytesRead=${s.bytesRead} requests=${s.requests}`,
      );
    }
    if (lines.length > 0)
      (toStdout ? process.stderr : process.stdout).write(`${lines.join("\n")}\n`);
  },
});

function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}
