// `zarr-blosc2 info`: what an array is (shape, dtype, chunking, codec, ratio, attributes)
// without decoding anything.
import type { B2ndArray } from "../decode/b2nd-read.js";
import { codecName, filterName } from "../format/chunk.js";
import { defineCommand } from "./command.js";
import { type CliArray, openCliArray } from "./open-array.js";

/** JSON for attributes: int64 values beyond 2^53 as strings, binary as base64. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
  return value;
}

interface B2ndInfo {
  format: "b2nd";
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

interface ZarrInfo {
  format: "zarr";
  zarrFormat: number;
  shape: number[];
  dtype: string;
  /** The chunks reads decode: the inner chunks of sharded arrays. */
  chunkShape: number[];
  /** The shards' shape, for sharded arrays. */
  shardShape: number[] | null;
  dimensionNames: (string | null)[] | null;
  fillValue: unknown;
  codecs: unknown[];
  attrs: Record<string, unknown>;
}

function b2ndInfo(a: B2ndArray): B2ndInfo {
  const h = a.header;
  const special = { zeros: 0, nan: 0, uninit: 0 };
  for (const o of a.offsets) if (o.kind !== "data") special[o.kind]++;
  return {
    format: "b2nd",
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

async function zarrInfo(a: CliArray): Promise<ZarrInfo> {
  const meta = await a.metadata();
  const arr = a.array as { chunks: number[]; fillValue: unknown; attrs: Record<string, unknown> };
  const v3 = meta.zarr_format === 3;
  // v2 keeps the compressor and filters apart; shown here as one pipeline like v3's codecs.
  const codecs = v3
    ? ((meta.codecs as unknown[]) ?? [])
    : [
        ...((meta.filters as unknown[] | null) ?? []),
        ...(meta.compressor ? [meta.compressor] : []),
      ];
  const names =
    (meta.dimension_names as (string | null)[] | undefined) ??
    ((meta.attributes as Record<string, unknown> | undefined)?._ARRAY_DIMENSIONS as
      | string[]
      | undefined) ??
    null;
  const sharded = v3 && codecs.some((c) => (c as { name?: string }).name === "sharding_indexed");
  const grid = meta.chunk_grid as { configuration?: { chunk_shape?: number[] } } | undefined;
  return {
    format: "zarr",
    zarrFormat: (meta.zarr_format as number | undefined) ?? 2,
    shape: a.shape,
    dtype: a.dtype,
    chunkShape: arr.chunks,
    shardShape: sharded ? (grid?.configuration?.chunk_shape ?? null) : null,
    dimensionNames: names,
    fillValue: arr.fillValue,
    codecs,
    attrs: arr.attrs,
  };
}

const dims = (xs: readonly number[]) => `(${xs.join(", ")}${xs.length === 1 ? "," : ""})`;

function b2ndLines(input: string, i: B2ndInfo): string[] {
  const specials = Object.entries(i.specialChunks)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return [
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
}

function zarrLines(input: string, i: ZarrInfo): string[] {
  const codec = (c: unknown) => {
    const o = c as { name?: string; id?: string; configuration?: unknown };
    const name = o.name ?? o.id ?? "?";
    const config =
      o.configuration ?? Object.fromEntries(Object.entries(o).filter(([k]) => k !== "id"));
    const text = JSON.stringify(config, jsonReplacer);
    return text && text !== "{}" ? `${name} ${text}` : name;
  };
  return [
    `array:    ${input}`,
    `format:   Zarr v${i.zarrFormat}`,
    `shape:    ${dims(i.shape)}`,
    `dtype:    ${i.dtype}`,
    `chunks:   ${dims(i.chunkShape)}${i.shardShape ? ` in shards of ${dims(i.shardShape)}` : ""}`,
    `dims:     ${i.dimensionNames ? i.dimensionNames.join(", ") : "unnamed"}`,
    `fill:     ${JSON.stringify(i.fillValue, jsonReplacer)}`,
    `codecs:   ${i.codecs.length > 0 ? i.codecs.map(codec).join(" | ") : "none"}`,
    `attrs:    ${Object.keys(i.attrs).length > 0 ? JSON.stringify(i.attrs, jsonReplacer) : "none"}`,
  ];
}

export const infoCommand = defineCommand({
  name: "info",
  description:
    "Describe an array without decoding it: a b2nd array (a .b2nd file, a sparse frame directory or an http(s) URL: shape, dtype, chunk and block shapes, codec, filters, compression ratio, chunk count and special chunks, attributes) or a Zarr v2/v3 array (shape, dtype, chunks, dimension names, fill value, codecs, attributes).",
  positionals: [{ name: "<path|url>", missing: "info needs a path or URL" }],
  options: {
    json: { type: "boolean", help: "Print the description as JSON." },
  },
  async run({ values, positionals }) {
    const input = positionals[0]!;
    const a = await openCliArray(input);
    let described: B2ndInfo | ZarrInfo;
    try {
      described = a.kind === "b2nd" ? b2ndInfo(a.array as B2ndArray) : await zarrInfo(a);
    } finally {
      await a.close();
    }
    if (values.json) {
      console.log(JSON.stringify(described, jsonReplacer, 1));
      return;
    }
    const lines =
      described.format === "b2nd" ? b2ndLines(input, described) : zarrLines(input, described);
    console.log(lines.join("\n"));
  },
});
