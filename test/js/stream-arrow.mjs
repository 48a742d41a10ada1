// Streams a b2nd array through toArrow (from dist/) and prints row count, checksums and peak
// memory as JSON. Run by test/table-big.test.ts under node --max-old-space-size=512.
// Checks per row that value == dim_0 * ncols + dim_1 (the array holds arange values).
import { openB2nd, toArrow } from "../../dist/index.js";

const [path, batchRowsText, whereText] = process.argv.slice(2);
const where = whereText ? JSON.parse(whereText) : undefined;
const arr = await openB2nd(path);
const ncols = arr.shape[1];
let rows = 0;
let batches = 0;
let sumValue = 0n;
let sumDim0 = 0n;
let sumDim1 = 0n;
let mismatches = 0;
let peakRss = 0;
let peakHeap = 0;
let peakExternal = 0;
const stats = {};
const start = performance.now();
for await (const batch of toArrow(arr, {
  batchRows: Number(batchRowsText ?? 65536),
  stats,
  where,
})) {
  const n = batch.numRows;
  const value = batch.getChild("value").data[0].values;
  // int64 indices below 2^31: the low words of the little-endian BigInt64Array.
  const d0 = new Int32Array(
    batch.getChild("dim_0").data[0].values.buffer,
    batch.getChild("dim_0").data[0].values.byteOffset,
    2 * n,
  );
  const d1 = new Int32Array(
    batch.getChild("dim_1").data[0].values.buffer,
    batch.getChild("dim_1").data[0].values.byteOffset,
    2 * n,
  );
  let sv = 0;
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    const v = value[i];
    const a = d0[2 * i];
    const b = d1[2 * i];
    if (v !== a * ncols + b || d0[2 * i + 1] !== 0 || d1[2 * i + 1] !== 0) mismatches++;
    sv += v;
    s0 += a;
    s1 += b;
  }
  sumValue += BigInt(sv);
  sumDim0 += BigInt(s0);
  sumDim1 += BigInt(s1);
  rows += n;
  if (++batches % 64 === 0) {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
  }
}
const m = process.memoryUsage();
peakRss = Math.max(peakRss, m.rss);
peakHeap = Math.max(peakHeap, m.heapUsed);
await arr.close();
console.log(
  JSON.stringify({
    rows,
    batches,
    sumValue: sumValue.toString(),
    sumDim0: sumDim0.toString(),
    sumDim1: sumDim1.toString(),
    mismatches,
    seconds: (performance.now() - start) / 1000,
    peakRss,
    peakHeap,
    peakExternal,
    stats,
  }),
);
