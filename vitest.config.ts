import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const SRC = fileURLToPath(new URL("./src/", import.meta.url));

export default defineConfig({
  plugins: [
    {
      // "#platform" (package.json "imports") points at dist/; modules under src/ get the
      // source of the same module, so tests of src/ never mix in dist's copies of its classes.
      name: "platform-from-src",
      enforce: "pre",
      resolveId(id, importer) {
        if (id === "#platform" && importer?.startsWith(SRC)) return `${SRC}io/platform-node.ts`;
        return undefined;
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
