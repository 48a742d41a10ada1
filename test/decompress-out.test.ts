// decompress(chunk, { out }) writes into a caller's buffer (what the benchmarks and callers
// decoding many equal-sized chunks use) and refuses buffers that cannot hold the result.
import { describe, expect, it } from "vitest";
import { compress, decompress, OptionsError } from "../src/index.js";

describe("decompress into a caller's buffer", () => {
  it("fills out and returns a view of it, for ordinary and special chunks", async () => {
    const values = new Float64Array(5000).map((_, i) => Math.cos(i) * i);
    const chunk = await compress(values, { typesize: 8, codec: "lz4" });
    const out = new Uint8Array(values.byteLength + 16).fill(0xee);
    const got = await decompress(chunk, { out });
    expect(got.buffer).toBe(out.buffer);
    expect(got.length).toBe(values.byteLength);
    expect(new Float64Array(out.buffer, 0, values.length)).toEqual(values);
    expect(Array.from(out.subarray(values.byteLength))).toEqual(new Array(16).fill(0xee));

    const zeros = await compress(new Float64Array(1000), { typesize: 8 });
    const out2 = new Uint8Array(8000).fill(1);
    await decompress(zeros, { out: out2 });
    expect(out2.every((v) => v === 0)).toBe(true);
  });

  it("refuses an out that is too small or not a Uint8Array", async () => {
    const chunk = await compress(new Int32Array(100).fill(7), { typesize: 4 });
    await expect(decompress(chunk, { out: new Uint8Array(399) })).rejects.toThrow(OptionsError);
    await expect(decompress(chunk, { out: new Uint8Array(399) })).rejects.toThrow(/holds 399/);
    await expect(
      decompress(chunk, { out: new Int32Array(100) as unknown as Uint8Array }),
    ).rejects.toThrow(OptionsError);
  });
});
