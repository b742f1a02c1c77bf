#!/usr/bin/env bash
# npm test: set-up (idempotent), build, then the host tier (unit tests and tests against real servers on this machine),
# then the lab tier (tests inside a qemu guest with a real IPVS kernel). Fails if either fails.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
mkdir -p .lab-cache

echo "== setup"
bash scripts/setup.sh || { echo "setup failed"; exit 1; }

echo "== build"
# no stale compiled tests from deleted sources; without its build info tsc emits every file again
# (an incremental tsc does not notice that the files it emitted are gone)
rm -rf dist/test dist/.tsbuildinfo
npm run --silent build || { echo "build failed"; exit 1; }

echo "== host tier"
# Tests under test/host/lab boot the lab's qemu: they run after the rest of the host tier, one at
# a time, so they never compete for the CPU with timing-sensitive tests. Both parts count as host.
mapfile -t host_files < <(find dist/test/unit dist/test/host -name '*.test.js' -not -path 'dist/test/host/lab/*' 2>/dev/null | sort)
mapfile -t host_serial_files < <(find dist/test/host/lab -name '*.test.js' 2>/dev/null | sort)
host_tap=.lab-cache/host.tap
host_serial_tap=.lab-cache/host-serial.tap
rm -f "$host_tap" "$host_serial_tap"
host_taps=("$host_tap")
host_status=0
# Every part is bounded, so a hang is reported as a failure and CI still ends in time: a test that
# runs over 5 minutes fails, and each run as a whole is killed past its budget (normally about 3
# minutes all together). Not --test-force-exit: it ends the runner before the TAP file is written.
bounded() { # SECONDS NAME COMMAND...
  local budget=$1 name=$2 rc=0; shift 2
  timeout -s KILL "$budget" "$@" || rc=$?
  ((rc == 137)) && echo "not ok - $name: killed after ${budget}s (a hang; see the last file named above)"
  return $rc
}
node_test=(node --test --test-timeout=300000)
bounded "${LVSD_HOST_BUDGET:-900}" "host tier" "${node_test[@]}" --test-concurrency="${LVSD_TEST_CONCURRENCY:-2}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$host_tap" \
  "${host_files[@]}" || host_status=$?
if ((${#host_serial_files[@]})); then
  echo "== host tier: tests that boot qemu, after the rest, one at a time"
  host_taps+=("$host_serial_tap")
  bounded "${LVSD_HOST_LAB_BUDGET:-600}" "host tier (qemu)" "${node_test[@]}" --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$host_serial_tap" \
    "${host_serial_files[@]}" || host_status=$?
fi

host_seconds=$SECONDS
echo "== lab tier"
lab_out=.lab-cache/lab-tier.log
lab_status=0
bash scripts/test-lab.sh 2>&1 | tee "$lab_out"
lab_status=${PIPESTATUS[0]}

lab_seconds=$((SECONDS - host_seconds))
echo "== summary (set-up, build and host tier ${host_seconds}s; lab tier ${lab_seconds}s)"
bash scripts/tap-summary.sh host "${host_taps[@]}" || host_status=1
lab_line=$(grep -E '^lab: [0-9]+ passed, [0-9]+ failed' "$lab_out" | tail -n1)
echo "${lab_line:-lab: 0 passed, 1 failed}"
hp=$(bash scripts/tap-summary.sh x "${host_taps[@]}" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
lp=$(echo "${lab_line:-lab: 0 passed, 1 failed}" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
read -r hpass hfail <<<"$hp"; read -r lpass lfail <<<"$lp"
echo "total: $((hpass + lpass)) passed, $((hfail + lfail)) failed"
exit $((host_status || lab_status))
