import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initBlosc2 } from "../src/index.js";
import { ROOT } from "./helpers.js";

describe("wasm build", () => {
  it("is compiled with SIMD128, the SSE2 shuffle path and bulk memory", async () => {
    const wasm = await initBlosc2();
    expect(wasm.features()).toEqual({ simd128: true, sse2Shuffle: true, bulkMemory: true });
  });

  it("contains SIMD instructions (0xfd prefix) in its code section", () => {
    const bytes = readFileSync(join(ROOT, "wasm", "build", "blosc2.wasm"));
    // A byte-level signal, independent of glue.c: 0xfd 0x00 is v128.load. A scalar build
    // has only chance occurrences of the pair (9 in the last scalar build, 2 414 in the SIMD one).
    let count = 0;
    for (let i = 0; i + 1 < bytes.length; i++)
      if (bytes[i] === 0xfd && bytes[i + 1] === 0x00) count++;
    expect(count).toBeGreaterThan(500);
  });
});
