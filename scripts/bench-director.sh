#!/usr/bin/env bash
# npm run bench:director: the director benchmark on this host (real CPU, FakeIpvs in place of the
# kernel). Every block carries the load average and the CPU wait it was measured under; run it
# when the machine is quiet. Writes the blocks to ${OUT:-/tmp/lvsd-bench-director.md}; the figures
# kept (with what they mean) go into bench/results/director.md by hand.
#   scripts/bench-director.sh [reload] [rss] [checks] [starve] [detect]    (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
ulimit -n 20000 2>/dev/null || true
out=${OUT:-/tmp/lvsd-bench-director.md}
which=("$@")
((${#which[@]})) || which=(reload rss checks starve detect)
{
  echo "# Director benchmark, host runs ($(date -u +%FT%TZ))"
  echo
  for m in "${which[@]}"; do
    case "$m" in
      reload) node dist/bench/director-bench.js reload --services "${SERVICES:-10000}" --runs 5 ;;
      rss) node dist/bench/director-bench.js rss --services "${SERVICES:-10000}" --interval "${INTERVAL:-60s}" ;;
      checks) node dist/bench/director-bench.js checks --services 1000 --seconds 15 --attempts 3 ;;
      starve) node dist/bench/director-bench.js starve --services 1000 --seconds 15 ;;
      detect) node dist/bench/director-bench.js detect --services 1000 --fail 40 --how refused
              node dist/bench/director-bench.js detect --services 1000 --fail 40 --how dropped ;;
      *) echo "bench-director: unknown part $m (reload, rss, checks, starve, detect)" >&2; exit 2 ;;
    esac
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench-director: wrote $out"
