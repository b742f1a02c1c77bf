#!/bin/bash
# Runs inside the lab guest as root, in the Debian userland seen through the overlay.
# Runs the host's command and leaves its output, exit status and (on failure) dmesg in the share;
# the console is not used for results.
share=$1
repo=$2
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LVSD_LAB=1 LANG=C.UTF-8 LVSD_LAB_RESULTS="$share/results"
mkdir -p "$share/results"
hostname lvsd-lab
ip link set lo up
modprobe ip_vs 2>"$share/modprobe.err"
# shellcheck disable=SC1091
[ -f "$share/env" ] && . "$share/env"
cd "$repo" || exit 1

if [ -f "$share/interactive" ]; then
  echo "lvsd lab: $(uname -r), repository at $repo; exit the shell to power off"
  setsid -c bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
  echo 0 > "$share/status"
  exit 0
fi

# V8 tags a start-up snapshot with the CPU features it saw, so the host's dist/lvsd.blob does not
# start on the guest's CPU: rebuild it here (into the overlay) so that bin/lvsd starts in the lab
# the way it starts on a director. LVSD_LAB_SNAPSHOT=0 skips this (bin/lvsd then runs the JavaScript).
if [ -f dist/lvsd.blob ] && [ "${LVSD_LAB_SNAPSHOT:-1}" != 0 ]; then
  node scripts/build-snapshot.js > "$share/snapshot.log" 2>&1 || echo "lab: snapshot build failed, see $share/snapshot.log" >&2
fi

read -r ready _ < /proc/uptime
bash "$share/cmd.sh" > "$share/output" 2>&1 </dev/null
status=$?
read -r done _ < /proc/uptime
echo "$ready $done" > "$share/timing"
[ "$status" -ne 0 ] && dmesg > "$share/dmesg" 2>&1
echo "$status" > "$share/status.tmp" && mv "$share/status.tmp" "$share/status"
sync
