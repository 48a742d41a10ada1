// Errors raised while one chunk of an array is read or decoded say which chunk: the source
// (path or URL), the chunk and, when known, its stored bytes, e.g.
// `data/x.b2nd: chunk 12 (bytes 4096-8191): block 3 starts at ...`. The classes and their
// fields stay; `chunk` and `chunkRange` are added.
import {
  Blosc2Error,
  FormatError,
  OptionsError,
  WasmTrapError,
  ZarrBlosc2Error,
} from "../errors.js";
import { SourceError } from "../io/source.js";

export interface ChunkContext {
  /** Path or URL holding the chunk (for a sparse frame: the chunk's own file). */
  source: string;
  /** The chunk's index (b2nd: C order in the chunk grid), or a Zarr chunk's coordinates. */
  chunk: number | readonly number[];
  /** The chunk's stored bytes in `source`, first and last inclusive, when known. */
  range?: [number, number];
  /**
   * Names the code below already put at the head of messages (e.g. "x.b2nd chunk 12"):
   * removed, so that the place is said once.
   */
  prefixes?: readonly string[];
}

function chunkText(ctx: ChunkContext, withRange = true): string {
  const id = typeof ctx.chunk === "number" ? String(ctx.chunk) : `[${ctx.chunk.join(",")}]`;
  const range = withRange && ctx.range ? ` (bytes ${ctx.range[0]}-${ctx.range[1]})` : "";
  return `chunk ${id}${range}`;
}

/** `text` without a leading "<prefix>: " (or "<prefix> "), for the first prefix that matches. */
function strip(text: string, prefixes: readonly string[]): string {
  for (const p of prefixes) {
    if (text.startsWith(`${p}: `)) return text.slice(p.length + 2);
    if (text === p) return "";
  }
  return text;
}

/** Sets `err.message`, and the first line of its stack, which repeats it. */
function retitle(err: Error, message: string): void {
  const head = `${err.name}: ${err.message}`;
  err.message = message;
  if (err.stack?.startsWith(head))
    err.stack = `${err.name}: ${message}${err.stack.slice(head.length)}`;
}

/**
 * `err` with the chunk's context, as the same class with the same fields plus `chunk` and
 * `chunkRange`. Aborts, errors that are not ours (bugs) and errors whose message names the
 * source already (the context was added below) are returned unchanged.
 */
export function inChunk(err: unknown, ctx: ChunkContext): unknown {
  if (!(err instanceof ZarrBlosc2Error)) return err;
  if (err.chunk !== undefined && err.message.startsWith(`${ctx.source}: chunk `)) return err;
  const where = chunkText(ctx);
  const prefixes = [...(ctx.prefixes ?? []), ctx.source];
  let out: ZarrBlosc2Error;
  if (err instanceof SourceError) {
    // A cancelled read is not the chunk's doing.
    if (err.problem.startsWith("aborted")) return err;
    // It names the source and the bytes requested already: the chunk goes at the end.
    retitle(err, `${err.message} (reading ${chunkText(ctx, false)})`);
    out = err;
  } else if (err instanceof FormatError) {
    out = new FormatError(ctx.source, `${where}: ${strip(err.message, prefixes)}`);
    out.stack = err.stack?.replace(`${err.name}: ${err.message}`, `${out.name}: ${out.message}`);
  } else if (
    err instanceof Blosc2Error ||
    err instanceof WasmTrapError ||
    err instanceof OptionsError
  ) {
    retitle(err, `${ctx.source}: ${where}: ${strip(err.message, prefixes)}`);
    out = err;
  } else {
    return err;
  }
  out.chunk = ctx.chunk;
  if (ctx.range) out.chunkRange = ctx.range;
  else delete out.chunkRange;
  return out;
}
