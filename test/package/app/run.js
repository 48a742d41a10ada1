// The bundler test's page logic (test/bundlers.test.ts), built by Vite, esbuild and webpack
// from the packed package exactly as a user's app imports it. It decodes a chunk written by
// python-blosc2 and reads a b2nd array over HTTP through a pool of two Web Workers, and
// reports SHA-256 digests that the test compares with the fixtures' manifests.
import { chunkInfo, compress, createDecodePool, decompress, openB2nd } from "zarr-blosc2";

async function sha256(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const digest = await crypto.subtle.digest("SHA-256", bytes.slice());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** workerUrl: where the pool's worker was built to (esbuild); undefined: the package default. */
export async function run({ workerUrl } = {}) {
  const stored = new Uint8Array(await (await fetch("./chunk.b2")).arrayBuffer());
  const decoded = await decompress(stored);

  const values = Float64Array.from({ length: 50_000 }, (_, i) => Math.sin(i / 100));
  const packed = await compress(values, { codec: "lz4", filters: ["shuffle"] });
  const back = new Float64Array((await decompress(packed)).buffer);

  const pool = await createDecodePool({
    workers: 2,
    minBytes: 0,
    ...(workerUrl ? { workerUrl } : {}),
  });
  try {
    const arr = await openB2nd("./array.b2nd", { pool, dtype: "<f8" });
    const all = await arr.get();
    const column = await arr.get([null, 3, 5]);
    return {
      chunk: { nbytes: chunkInfo(stored).nbytes, sha256: await sha256(decoded) },
      roundTrip: back.length === values.length && back.every((v, i) => v === values[i]),
      array: {
        shape: arr.shape,
        sha256: await sha256(all.data),
        column: Array.from(column.data),
        blocksDecoded: all.stats.blocksDecoded,
      },
      poolTasks: pool.stats.tasks,
      shared:
        typeof SharedArrayBuffer !== "undefined" && all.data.buffer instanceof SharedArrayBuffer,
    };
  } finally {
    await pool.close();
  }
}
