#!/bin/bash
# Runs inside the lab guest: each lab test file in a fresh network namespace of its own (lo up,
# empty IPVS table), reporting spec to stdout and TAP to $LVSD_LAB_RESULTS/<n>.tap for the host.
# Usage: run-tests.sh FILE...
set -u
results=${LVSD_LAB_RESULTS:?run inside the lab}
status=0
i=0
for f in "$@"; do
  i=$((i + 1))
  echo "▶ lab: $f"
  unshare --net -- bash -c 'ip link set lo up && exec timeout -s KILL "${LVSD_LAB_FILE_TIMEOUT:-900}" node --test \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$2" "$1"' _ "$f" "$results/$i.tap" || status=1
  [ -s "$results/$i.tap" ] || { echo "not ok - $f produced no results" > "$results/$i.tap"; echo "# fail 1" >> "$results/$i.tap"; status=1; }
done
exit $status
