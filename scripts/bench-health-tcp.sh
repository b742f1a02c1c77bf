#!/usr/bin/env bash
# TCP health-check benchmark: lvsd's checker against keepalived's on the same 5,000 loopback
# targets (127.1.x.y), 1 s interval, in one run. keepalived's checker refuses to run without IPVS,
# so by default this runs in the kernel lab; --host measures lvsd alone on this machine.
#
#   scripts/bench-health-tcp.sh           lab: lvsd + keepalived  -> bench/results/health-tcp.md
#   scripts/bench-health-tcp.sh --host    host: lvsd only         -> bench/results/health-tcp-host.md
# TARGETS, WARMUP and MEASURE_SECONDS (defaults 5000, 5, 20) change the load and the window.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >/dev/null 2>&1 || true # type errors elsewhere do not stop tsc from emitting
args="--targets ${TARGETS:-5000} --warmup ${WARMUP:-5} --seconds ${MEASURE_SECONDS:-20}"
if [ "${1:-}" = "--host" ]; then
  ulimit -n 65536 2>/dev/null || true
  # shellcheck disable=SC2086
  exec node dist/bench/health-tcp-bench.js $args --out bench/results/health-tcp-host.md
fi
exec scripts/lab.sh --timeout 1200 --results bench/results -- \
  bash -c "ulimit -n 65536 && node dist/bench/health-tcp-bench.js $args --keepalived --out \"\$LVSD_LAB_RESULTS/health-tcp.md\""
