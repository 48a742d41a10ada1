// Typed errors shared by every layer. Each says what failed and where.

/** Base class of every error this library throws on purpose. */
export class ZarrBlosc2Error extends Error {
  override name = "ZarrBlosc2Error";
  /**
   * Set when the error arose reading one chunk of an array: the b2nd chunk's index (C order in
   * the chunk grid), or a Zarr chunk's coordinates. The message names it too.
   */
  chunk?: number | readonly number[];
  /** That chunk's stored bytes in the source, first and last inclusive, when known. */
  chunkRange?: [number, number];
}

/** Invalid options or arguments passed by the caller. */
export class OptionsError extends ZarrBlosc2Error {
  override name = "OptionsError";
}

/** Bytes that do not follow the Blosc2 format, found before any decoding. */
export class FormatError extends ZarrBlosc2Error {
  override name = "FormatError";
  constructor(
    /** What was being read, e.g. "chunk" or a file name. */
    readonly source: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** Meanings of C-Blosc2's negative return codes (blosc2.h, BLOSC2_ERROR_*). */
export const BLOSC2_ERROR_MEANINGS: Readonly<Record<number, string>> = {
  [-1]: "generic failure",
  [-2]: "bad stream",
  [-3]: "invalid data",
  [-4]: "memory allocation failure",
  [-5]: "not enough space to read",
  [-6]: "not enough space to write",
  [-7]: "codec not supported",
  [-8]: "invalid parameter supplied to codec",
  [-9]: "codec dictionary error",
  [-10]: "version not supported",
  [-11]: "invalid value in header",
  [-12]: "invalid parameter supplied to function",
  [-13]: "file read failure",
  [-14]: "file write failure",
  [-15]: "file open failure",
  [-16]: "not found",
  [-17]: "bad run length encoding",
  [-18]: "filter pipeline error",
  [-19]: "chunk insert failure",
  [-20]: "chunk append failure",
  [-21]: "chunk update failure",
  [-22]: "sizes larger than 2 GB not supported",
  [-23]: "super-chunk copy failure",
  [-24]: "wrong type for frame",
  [-25]: "file truncate failure",
  [-26]: "thread or thread context creation failure",
  [-27]: "postfilter failure",
  [-28]: "special frame failure",
  [-29]: "special super-chunk failure",
  [-30]: "IO plugin error",
  [-31]: "remove file failure",
  [-32]: "pointer is null",
  [-33]: "invalid index",
  [-34]: "metalayer not found",
  [-35]: "maximum buffer size exceeded",
  [-36]: "tuner failure",
  [-37]: "frame lock failure",
};

/** A C-Blosc2 call returned an error code. */
export class Blosc2Error extends ZarrBlosc2Error {
  override name = "Blosc2Error";
  /** Human-readable meaning of `code`. */
  readonly meaning: string;
  constructor(
    /** The operation that failed, e.g. "decompress". */
    readonly operation: string,
    /** The negative BLOSC2_ERROR_* code. */
    readonly code: number,
    detail?: string,
  ) {
    const meaning = BLOSC2_ERROR_MEANINGS[code] ?? "unknown error";
    super(`${operation} failed: ${meaning} (Blosc2 error ${code})${detail ? `: ${detail}` : ""}`);
    this.meaning = meaning;
  }
}

/**
 * The WebAssembly module trapped (e.g. an out-of-bounds access). The module instance is
 * discarded and the next call gets a fresh one.
 */
export class WasmTrapError extends ZarrBlosc2Error {
  override name = "WasmTrapError";
  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${operation}: the WebAssembly module trapped (${String((options?.cause as Error)?.message ?? options?.cause)})`,
      options,
    );
  }
}
