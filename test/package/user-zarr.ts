// The Zarr entry with zarrita installed (test/types.test.ts): a real zarrita Array goes into
// get, and the result has zarr.get's types.

import { get, registerBlosc2Codecs } from "zarr-blosc2";
import { B2ndCodec, get as getToo } from "zarr-blosc2/zarr";
import * as zarr from "zarrita";

export async function main(): Promise<void> {
  registerBlosc2Codecs(zarr.registry);
  const arr = await zarr.open.v3(zarr.root(new Map()), { kind: "array" });
  if (!arr.is("float64")) return;
  const region = await get(arr, [zarr.slice(0, 10), null]);
  const values: Float64Array = region.data;
  const same: Float64Array = (await zarr.get(arr, [zarr.slice(0, 10), null])).data;
  const one: number = await getToo(arr, [1, 2]);
  // @ts-expect-error float64 data is no BigInt64Array
  const wrong: BigInt64Array = region.data;
  void [values, same, one, wrong, B2ndCodec];
}
