// The embedded default sample for the demo: generated, not stored, so the package stays small.
// A smooth 2-D field (like a temperature map) plus a little deterministic noise, as float64.

/** Deterministic 32-bit PRNG (mulberry32), so every run compresses the same bytes. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SAMPLE_SHAPE = [2048, 1024];

/** 16 MiB: 2048 x 1024 float64 values, rounded to 0.01 as a sensor would record them. */
export function sampleData(rows = SAMPLE_SHAPE[0]!, cols = SAMPLE_SHAPE[1]!): Uint8Array {
  const values = new Float64Array(rows * cols);
  const random = mulberry32(42);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const smooth = 15 + 10 * Math.sin(i / 200) * Math.cos(j / 150) + 0.002 * (i + j);
      values[i * cols + j] = Math.round((smooth + (random() - 0.5) * 0.2) * 100) / 100;
    }
  }
  return new Uint8Array(values.buffer);
}
