// The browser test's page logic. It opens one Zarr array over HTTP with zarrita's FetchStore,
// registers the Blosc2 codecs and exposes `window.zbTest`:
//   await window.zbTest.ready           -> { shape, chunks, dtype, workers }
//   await window.zbTest.read(selection, options?) -> { shape, dtype, bytes (base64), stats }
//     (options: more options for get, e.g. { mergeGap: 0 })
//   window.zbTest.tasks()            -> decodes the pool has completed (0 without workers)
//   await window.zbTest.close()
// The selection is JSON: integers, null, or { start, stop, step } slices. Nothing is caught
// here: a failure rejects the promise the test awaits, and an error during setup is an
// uncaught page error the test collects.
import * as zb from "zarr-blosc2";
import * as zarr from "zarrita";

const params = new URLSearchParams(location.search);
const arrayPath = params.get("array");
const workers = Number(params.get("workers") ?? "0");

function log(text) {
  document.getElementById("log").textContent += `${text}\n`;
  console.log(text);
}

function base64(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

async function setup() {
  if (!arrayPath) throw new Error("page: no ?array= given");
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`page: bad workers=${workers}`);
  zb.registerBlosc2Codecs(zarr.registry);
  const store = new zarr.FetchStore(new URL(arrayPath, location.href).href);
  const arr = await zarr.open.v3(store, { kind: "array" });
  let pool;
  if (workers > 0) {
    if (typeof zb.createDecodePool !== "function") {
      throw new Error("page: workers > 0 but the package exports no createDecodePool");
    }
    // minBytes 0: the fixture is small, and every read must go through the workers.
    pool = await zb.createDecodePool({ workers, minBytes: 0 });
  }
  async function read(selection, options = {}) {
    const stats = {};
    const result = await zb.get(arr, selection, { ...options, stats, ...(pool ? { pool } : {}) });
    if (typeof result !== "object" || !("data" in result)) {
      // A scalar selection: one value, returned as an 8-byte float64.
      return {
        shape: [],
        dtype: arr.dtype,
        bytes: base64(new Float64Array([result])),
        stats,
        poolTasks: pool?.stats.tasks ?? 0,
        sharedResult: false,
      };
    }
    log(`read ${JSON.stringify(selection)}: shape ${result.shape}, ${JSON.stringify(stats)}`);
    return {
      shape: result.shape,
      dtype: arr.dtype,
      bytes: base64(result.data),
      stats,
      poolTasks: pool?.stats.tasks ?? 0,
      // Not cross-origin isolated: SharedArrayBuffer is not even defined here.
      sharedResult:
        typeof SharedArrayBuffer !== "undefined" && result.data.buffer instanceof SharedArrayBuffer,
    };
  }
  async function close() {
    await pool?.close();
  }
  window.zbTest.read = read;
  window.zbTest.tasks = () => pool?.stats.tasks ?? 0;
  window.zbTest.close = close;
  log(`opened ${arrayPath}: shape ${arr.shape}, chunks ${arr.chunks}, workers ${workers}`);
  return { shape: arr.shape, chunks: arr.chunks, dtype: arr.dtype, workers };
}

window.zbTest = {};
window.zbTest.ready = setup();
