// Prints vitest's result as one plain closing line, "N passed, N failed, N skipped", so any
// CI reader sees the count. Reads the JSON report written by `vitest --reporter=json`.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2] ?? ".setup/vitest.json", "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
// A file that fails to load (a syntax error, a throwing beforeAll) has no failed test in it.
const failedFiles = (report.testResults ?? []).filter((f) => f.status === "failed").length;
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped` +
    (failedFiles > 0 ? ` (${failedFiles} test files failed)` : ""),
);
process.exitCode =
  report.numFailedTests > 0 || failedFiles > 0 || report.numTotalTests === 0 ? 1 : 0;
