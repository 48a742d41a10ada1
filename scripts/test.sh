#!/usr/bin/env bash
# `npm test`: setup (idempotent), type check, lint, then the vitest suite twice: on the system's
# Node 20 (the oldest `engines` allows) and on Node 24, the current LTS (fetched by setup into
# .setup/node24). The closing line ("tests: N passed, N failed, N skipped", both runs added up)
# is printed whether the runs passed or not; each run's own line comes before it.
# TEST_NODES="20" (or "24") runs one of them; arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh
npm run typecheck
npm run lint
status=0
reports=()
for version in ${TEST_NODES:-20 24}; do
  case "$version" in
    20) path=$PATH ;;
    24)
      if [ ! -x "$root/.setup/node24/bin/node" ]; then
        echo "tests: no Node 24 for $(uname -sm) in .setup/node24" >&2
        status=1
        continue
      fi
      path="$root/.setup/node24/bin:$PATH"
      ;;
    *) echo "tests: TEST_NODES takes 20 and 24, got $version" >&2; exit 2 ;;
  esac
  report=".setup/vitest-node$version.json"
  rm -f "$report" # a stale report must never stand in for this run
  echo "test.sh: vitest on Node $(PATH=$path node --version)"
  PATH=$path npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" ||
    status=$?
  reports+=("node$version=$report")
done
node scripts/test-summary.mjs "${reports[@]}" || status=$((status == 0 ? 1 : status))
exit "$status"
