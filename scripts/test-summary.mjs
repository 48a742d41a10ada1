// Prints vitest's result as one plain closing line, "N passed, N failed, N skipped", so any
// CI reader sees the count. Reads the JSON report written by `vitest --reporter=json`.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2] ?? ".setup/vitest.json", "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
);
process.exitCode = report.numFailedTests > 0 || report.numTotalTests === 0 ? 1 : 0;
