// esbuild does not follow new URL(..., import.meta.url): the wasm comes in through the file
// loader, the pool's worker is a second entry point (docs/bundlers.md).
import { initBlosc2 } from "zarr-blosc2";
import wasmUrl from "zarr-blosc2/blosc2.wasm";
import { run } from "./run.js";

window.zbResult = initBlosc2(new URL(wasmUrl, import.meta.url)).then(() =>
  run({ workerUrl: new URL("./pool-worker.js", import.meta.url) }),
);
