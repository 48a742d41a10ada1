// A user's TypeScript file, compiled by test/types.test.ts against the packed package (with
// skipLibCheck: false, without the optional dependencies installed). Each typed result is
// assigned to the type it must have; @ts-expect-error lines must fail to compile.
import {
  type ArrayOfDtype,
  compress,
  createDecodePool,
  decompress,
  type GetResult,
  get,
  MissingDependencyError,
  openB2nd,
  type RecordBatchLike,
  registerTable,
  toArrow,
  type ZarrBlosc2Error,
} from "zarr-blosc2";

export async function main(): Promise<void> {
  const chunk: Uint8Array = await compress(new Float64Array(10), { codec: "zstd" });
  const bytes: Uint8Array = await decompress(chunk);

  // A dtype given at open is checked there and types the data.
  const f8 = await openB2nd("a.b2nd", { dtype: "<f8" });
  const row = await f8.get([0, null]);
  const values: Float64Array = row.data;
  const blocks: number = row.stats.blocksDecoded;
  const stride: number[] = row.stride;
  // @ts-expect-error a float64 array's data is no Int32Array
  const wrong: Int32Array = row.data;

  const i8: BigInt64Array = (await (await openB2nd("b.b2nd", { dtype: "int64" })).get()).data;
  const flags: Uint8Array = (await (await openB2nd("c.b2nd", { dtype: "|b1" })).get()).data;
  const bigEndian: Uint8Array = (await (await openB2nd("d.b2nd", { dtype: ">f4" })).get()).data;
  const half: Uint16Array = (await (await openB2nd("e.b2nd", { dtype: "<f2" })).get()).data;
  const complex: Float32Array = (await (await openB2nd("f.b2nd", { dtype: "<c8" })).get()).data;
  const byType: ArrayOfDtype<"<u4"> = new Uint32Array(1);

  // Without a dtype: any typed array, narrowed by the user.
  const any = await (await openB2nd(new Uint8Array(0))).get();
  const typed: GetResult = any;
  if (typed.data instanceof Float32Array) typed.data.fill(0);

  const pool = await createDecodePool({ workers: 2, minBytes: 0 });
  await pool.close();

  // Zarr: a zarrita Array is structural here (zarrita is not installed for this compile).
  const zarrArray = {
    dtype: "float32" as const,
    shape: [10, 10],
    chunks: [5, 5],
    path: "/",
    store: new Map<string, Uint8Array>(),
    fillValue: 0,
  };
  const column = await get(zarrArray, [null, 3]);
  const floats: Float32Array = column.data;
  const requests: number = column.stats.requests;
  const one: number = await get(zarrArray, [1, 2]);

  for await (const batch of toArrow(f8)) {
    const rows: number = batch.numRows;
    const like: RecordBatchLike = batch;
    void [rows, like];
  }
  try {
    await registerTable({ run: async () => 0, createAppender: async () => 0 }, "t", f8);
  } catch (err) {
    if (err instanceof MissingDependencyError) {
      const name: string = err.packageName;
      const base: ZarrBlosc2Error = err;
      void [name, base];
    }
  }
  void [bytes, values, blocks, stride, wrong, i8, flags, bigEndian, half, complex, byType];
  void [floats, requests, one];
}
