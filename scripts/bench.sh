#!/usr/bin/env bash
# npm run bench: every benchmark, each as a ratio against the reference tool measured in the same
# run. Results land in bench/results/*.md. Run on a quiet machine: the lab is software-emulated.
#   scripts/bench.sh [ipvs] [ipvs-replay] [health-tcp] [health-mysql] [vrrp-failover] [director-e2e] [director-lab]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
mkdir -p bench/results
which=("$@")
((${#which[@]})) || which=(ipvs ipvs-replay health-tcp health-mysql vrrp-failover director-e2e director-lab)
for b in "${which[@]}"; do
  case "$b" in
    ipvs)  # lvsd ipvs restore/list vs ipvsadm -R/-Ln, 10,000 services x 4, one lab boot
      bash scripts/lab.sh --timeout 1800 --results bench/results -- bash -c \
        "node dist/bench/ipvs-bench.js --services ${SERVICES:-10000} --runs ${RUNS:-3} --out \"\$LVSD_LAB_RESULTS/ipvs.md\"" ;;
    ipvs-replay)  # the JavaScript of list -n [--stats] and of restore's encoding on this host's CPU, from lab-captured replies
      bash scripts/lab.sh --timeout 1800 --results .lab-cache/replay -- bash -c \
        "node dist/bench/ipvs-replay.js --services ${SERVICES:-10000} --capture \"\$LVSD_LAB_RESULTS/ipvs-replies.bin\""
      node dist/bench/ipvs-replay.js --replies .lab-cache/replay/ipvs-replies.bin --runs "${RUNS:-9}" --out bench/results/ipvs-replay.md ;;
    health-tcp)  # 5,000 TCP targets at 1 s: lvsd vs keepalived's checker, in the lab
      bash scripts/bench-health-tcp.sh ;;
    health-mysql)  # authenticated MySQL checks/s and CPU per check vs a MISC_CHECK-style client
      node dist/bench/health-mysql-bench.js --out bench/results/health-mysql.md ;;
    vrrp-failover)  # a director pair's failover when the master's host dies: lvsd pair vs keepalived pair, one lab boot
      bash scripts/lab.sh --timeout 1800 --results bench/results -- bash -c \
        "unshare --net -- bash -c 'ip link set lo up && node dist/bench/vrrp-failover-bench.js --runs ${RUNS:-3} --out \"\$LVSD_LAB_RESULTS/vrrp-failover-run.md\"'" ;;
    director-e2e)  # a backend failing and a reload under load: lvsd's director vs keepalived, one topology, one lab boot
      bash scripts/lab.sh --timeout 1800 --results bench/results -- bash -c \
        "unshare --net -- bash -c 'ip link set lo up && node dist/bench/director-e2e-bench.js --runs ${RUNS:-3} --out \"\$LVSD_LAB_RESULTS/director-e2e-run.md\"'" ;;
    director-lab)  # lvsd director run: cold start vs ipvsadm -R (10,000 x 4), SIGHUP-to-applied with 4,000 checks (and checks/s) and without checks vs keepalived; one lab boot
      # the blocks go to bench/results/director-lab-run.md; bench/results/director.md ("Lab rows") quotes them with what they mean
      rm -f bench/results/director-lab-run.md
      # with 4,000 checks under TCG one lvsd reload took 16-21 s and each of the bench's status
      # requests waited 30 s for a starved event loop: hence CHECK_RUNS=1 and CHECK_RELOADS=2 by
      # default; the whole boot takes about 30 min
      flock /tmp/lvsd-lab.lock bash scripts/lab.sh --timeout 3600 --results bench/results -- bash -c \
        "ulimit -n 65536 && node dist/bench/director-lab-bench.js cold --services ${SERVICES:-10000} --runs ${RUNS:-2} --out \"\$LVSD_LAB_RESULTS/director-lab-run.md\"; node dist/bench/director-lab-bench.js reload --services ${RELOAD_SERVICES:-1000} --runs ${CHECK_RUNS:-1} --reloads ${CHECK_RELOADS:-2} --out \"\$LVSD_LAB_RESULTS/director-lab-run.md\"; node dist/bench/director-lab-bench.js reload --no-checks --services ${RELOAD_SERVICES:-1000} --runs ${RUNS:-2} --reloads ${RELOADS:-5} --out \"\$LVSD_LAB_RESULTS/director-lab-run.md\"" ;;
    *) echo "bench: unknown benchmark $b (ipvs, ipvs-replay, health-tcp, health-mysql, vrrp-failover, director-e2e, director-lab)" >&2; exit 2 ;;
  esac
done
