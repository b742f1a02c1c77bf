#!/usr/bin/env bash
# npm run demo: one command from a fresh machine to the seed-002 story on a real IPVS kernel.
# Sets up (Debian packages, npm ci: scripts/setup.sh), builds, then runs the narrator
# (test/support/demo.ts) in a network namespace of its own: on this host when its kernel has
# IPVS, otherwise inside the kernel lab (qemu). Ends with "demo: OK — ..." or "demo: FAILED — ...".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ "$(id -u)" != 0 ]; then echo "demo: FAILED — needs root (network namespaces, IPVS, MariaDB as user mysql)"; exit 1; fi
bash scripts/setup.sh || { echo "demo: FAILED — scripts/setup.sh did not finish"; exit 1; }
echo "demo: building"
npm run --silent build >/dev/null || { echo "demo: FAILED — the build failed (run npm run build to see why)"; exit 1; }

inner='ip link set lo up && exec timeout -s KILL 600 node dist/test/support/demo.js'
if [ -e /proc/net/ip_vs ] || { modprobe -q ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]; }; then
  LVSD_DEMO_WHERE=host unshare --net -- bash -c "$inner"
  exit $?
fi
# The lab is shared with other runs on this machine: take its lock (free on a fresh machine).
# The narrator prints the verdict; if the guest itself fails, say so here.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
LVSD_DEMO_WHERE=lab flock /tmp/lvsd-lab.lock bash scripts/lab.sh --timeout 900 -- unshare --net -- bash -c "$inner" | tee "$out"
status=${PIPESTATUS[0]}
grep -q '^demo: \(OK\|FAILED\)' "$out" || { echo "demo: FAILED — the lab run ended without a verdict (exit $status)"; exit 1; }
grep -q '^demo: OK' "$out" && exit 0
exit 1
