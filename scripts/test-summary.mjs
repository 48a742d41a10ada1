// Prints vitest's results as plain lines, "N passed, N failed, N skipped": one per run
// ("node20: ..."), then the closing line "tests: ..." adding them up, so any CI reader sees the
// count. Arguments: label=report.json, the JSON reports written by `vitest --reporter=json`.
// A missing report counts as a failed run.
import { existsSync, readFileSync } from "node:fs";

const total = { passed: 0, failed: 0, skipped: 0, brokenFiles: 0, tests: 0, missing: 0 };
const runs = process.argv.slice(2);
for (const arg of runs) {
  const [label, file] = arg.includes("=") ? arg.split("=", 2) : ["tests", arg];
  if (!existsSync(file)) {
    console.log(`${label}: vitest wrote no report`);
    total.missing++;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  const skipped = report.numPendingTests + report.numTodoTests;
  // A file that fails to load (a syntax error, a throwing beforeAll) has no failed test in it.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === "failed").length;
  total.passed += report.numPassedTests;
  total.failed += report.numFailedTests;
  total.skipped += skipped;
  total.brokenFiles += brokenFiles;
  total.tests += report.numTotalTests;
  if (runs.length > 1) {
    console.log(
      `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped` +
        (brokenFiles > 0 ? ` (${brokenFiles} test files failed)` : ""),
    );
  }
}
console.log(
  `tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped` +
    (total.brokenFiles > 0 ? ` (${total.brokenFiles} test files failed)` : "") +
    (total.missing > 0 ? ` (${total.missing} runs without a report)` : ""),
);
process.exitCode =
  total.failed > 0 ||
  total.brokenFiles > 0 ||
  total.missing > 0 ||
  total.tests === 0 ||
  runs.length === 0
    ? 1
    : 0;
