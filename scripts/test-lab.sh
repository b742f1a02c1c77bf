#!/usr/bin/env bash
# The lab tier: boots the kernel lab once and runs lab test files inside it, each in a fresh
# network namespace. With no arguments it runs every dist/test/**/*.lab.test.js.
# Ends with "lab: P passed, F failed"; exits non-zero if anything failed or the lab did not boot.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# The end-to-end scenarios (dist/test/lab/e2e: namespaces, MariaDB, Galera, keepalived) take about
# 10 minutes under emulation; LVSD_LAB_E2E=0 leaves them out of a quick run.
# They run last: the modules they load (ipip, galera's) change what a new namespace holds.
if (($#)); then files=("$@"); else
  mapfile -t files < <(find dist/test -name '*.lab.test.js' | grep -v '/lab/e2e/' | sort)
  if [ "${LVSD_LAB_E2E:-1}" != 0 ]; then mapfile -t -O "${#files[@]}" files < <(find dist/test/lab/e2e -name '*.lab.test.js' | sort); fi
fi
if ((${#files[@]} == 0)); then echo "lab: no lab test files found (did the build run?)"; exit 1; fi
results=$(mktemp -d "$repo/.lab-cache/lab-results.XXXXXX" 2>/dev/null || { mkdir -p "$repo/.lab-cache"; mktemp -d "$repo/.lab-cache/lab-results.XXXXXX"; })
lab_status=0
# the whole tier is bounded (it takes about 22 minutes here), so CI always ends with a report
bash scripts/lab.sh --timeout "${LVSD_LAB_TIMEOUT:-3000}" --results "$results" -- bash test/lab/harness/run-tests.sh "${files[@]}" || lab_status=$?
if ((lab_status != 0)) && ! grep -qsE '^# (fail|cancelled) [1-9]' "$results"/*.tap; then
  # The guest did not boot, or died before a test could report: that is a failure, never a skip.
  echo "lab: the lab run itself failed (exit $lab_status)"
  printf 'not ok 1 - lab run\n# fail 1\n' > "$results/lab-run.tap"
fi
summary_status=0
bash scripts/tap-summary.sh lab "$results"/*.tap || summary_status=$?
rm -rf "$results"
exit $((lab_status || summary_status))
