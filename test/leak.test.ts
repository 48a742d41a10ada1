import { expect, it } from "vitest";
import { blosc2Wasm } from "../src/decode/wasm.js";
import { compress, decompress, decompressBlocks, decompressItems } from "../src/index.js";

// 100 000 calls, a quarter of them failing, must leave the C heap exactly where it was.
it("does not leak wasm memory over 100 000 calls", async () => {
  const data = new Uint32Array(2048).map((_, i) => (i * 2654435761) >>> 20);
  const chunk = await compress(data, { codec: "lz4", blocksize: 1024 });
  const broken = chunk.slice();
  broken.fill(0xff, 64);
  const wasm = await blosc2Wasm();
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      switch (i % 4) {
        case 0:
          await compress(data, { codec: "lz4", blocksize: 1024 });
          break;
        case 1:
          await decompress(chunk);
          break;
        case 2:
          await (i % 8 === 2 ? decompressItems(chunk, 100, 50) : decompressBlocks(chunk, [1, 3]));
          break;
        default:
          await decompress(broken).catch(() => undefined);
      }
    }
  };
  await run(1000); // warm-up: C-Blosc2 allocates some state once
  const inUse = wasm.heapInUse();
  const heapSize = wasm.heapSize();
  await run(100_000);
  expect(await blosc2Wasm()).toBe(wasm); // no trap replaced the instance
  expect(wasm.heapInUse()).toBe(inUse);
  expect(wasm.heapSize()).toBe(heapSize);
}, 300_000);
