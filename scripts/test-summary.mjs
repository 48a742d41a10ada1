// Prints vitest's result as one plain closing line, "N passed, N failed, N skipped", so any
// CI reader sees the count. Reads the JSON report written by `vitest --reporter=json`.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2] ?? ".setup/vitest.json", "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
// A file that fails to load counts as a failed suite with no failed test in it.
const brokenFiles = report.numFailedTestSuites ?? 0;
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped` +
    (brokenFiles > 0 ? ` (${brokenFiles} test files failed)` : ""),
);
process.exitCode =
  report.numFailedTests > 0 || brokenFiles > 0 || report.numTotalTests === 0 ? 1 : 0;
