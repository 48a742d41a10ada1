// The table fixtures regenerate to the same values and the same NumPy answers: a change of
// zarr-python, NumPy or the generator that alters them fails here.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { equalBytes, FIXTURES, readBytes, runPython } from "./helpers.js";
import { readTableManifest } from "./table-helpers.js";

it("fixtures/generate_table.py regenerates the committed values and answers", () => {
  const out = mkdtempSync(join(tmpdir(), "zb-table-regen-"));
  try {
    const r = runPython(["fixtures/generate_table.py", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const fresh = readTableManifest(out);
    const committed = readTableManifest();
    expect(fresh.where).toEqual(committed.where);
    expect(fresh.sql).toEqual(committed.sql);
    expect(fresh.tables).toEqual(committed.tables);
    expect(fresh.arrays).toEqual(committed.arrays);
    for (const a of committed.arrays) {
      expect(equalBytes(readBytes(join(out, a.npy)), readBytes(join(FIXTURES, a.npy))), a.npy).toBe(
        true,
      );
    }
    expect(readFileSync(join(out, "table-manifest.json"), "utf8").length).toBeGreaterThan(0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
