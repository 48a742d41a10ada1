// CI regenerates the fixtures with the pinned python-blosc2 and checks that every chunk still
// decodes (with our wasm) to the values committed in fixtures/data: a new python-blosc2 or
// generator change that alters the data, or a decoder regression, fails here.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { decompress } from "../src/index.js";
import { readBytes, readManifest, runPython } from "./helpers.js";

it("regenerated fixtures decode to the committed values", async () => {
  const out = mkdtempSync(join(tmpdir(), "zb-regen-"));
  const r = runPython(["fixtures/generate.py", "--out", out]);
  expect(r.status, r.stderr).toBe(0);
  const committed = readManifest();
  const fresh = readManifest(out);
  expect(fresh.chunks.map((c) => c.name)).toEqual(committed.chunks.map((c) => c.name));
  const byName = new Map(committed.chunks.map((c) => [c.name, c]));
  const differing: string[] = [];
  for (const c of fresh.chunks) {
    const decoded = await decompress(readBytes(join(out, c.file)));
    const want = byName.get(c.name)!;
    expect(decoded.length, c.name).toBe(want.nbytes);
    if (want.sha256 === null) continue; // uninitialized
    const got = createHash("sha256").update(decoded).digest("hex");
    if (got !== want.sha256) differing.push(c.name);
  }
  expect(differing).toEqual([]);
});
