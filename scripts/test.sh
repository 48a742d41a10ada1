#!/usr/bin/env bash
# `npm test`: setup (idempotent), type check, lint, then vitest, whose closing line
# ("tests: N passed, N failed, N skipped") is printed whether the run passed or not.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run typecheck
npm run lint
report=.setup/vitest.json
rm -f "$report" # a stale report must never stand in for this run
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [ -f "$report" ]; then
  node scripts/test-summary.mjs "$report" || status=$((status == 0 ? 1 : status))
else
  echo "tests: vitest wrote no report (exit code $status)"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
