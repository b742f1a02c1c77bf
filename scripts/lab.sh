#!/usr/bin/env bash
# The kernel lab: boots Debian's kernel (which has every ip_vs module) under qemu with the host's
# root visible read-only, runs one command as root inside, streams its output, and exits with its
# status. Results come back through a read-write 9p share, never through the console.
#
#   scripts/lab.sh [--timeout SECONDS] [--] COMMAND [ARGS...]   run a command in the guest
#   scripts/lab.sh --shell                                      interactive shell in the guest
#   --results DIR   afterwards, copy what the command wrote to $LVSD_LAB_RESULTS in the guest to DIR
#
# Environment variables named LVSD_* are passed into the guest. LVSD_LAB_KERNEL overrides the
# kernel image (used by the harness's own test of a lab that cannot boot).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="$repo/.lab-cache"
timeout_s=1800
shell=0
results=""

while (($#)); do
  case "$1" in
    --shell) shell=1; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "lab: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if ((!shell && $# == 0)); then
  echo "usage: scripts/lab.sh [--timeout SECONDS] [--] COMMAND [ARGS...] | --shell" >&2
  exit 2
fi

# The newest installed Debian kernel that ships IPVS modules.
kver=""
for k in $(ls -1 /lib/modules 2>/dev/null | sort -V -r); do
  if [ -f "/boot/vmlinuz-$k" ] && [ -d "/lib/modules/$k/kernel/net/netfilter/ipvs" ]; then kver=$k; break; fi
done
if [ -z "$kver" ]; then
  echo "lab: no kernel with IPVS modules found in /boot and /lib/modules: run scripts/setup.sh" >&2
  exit 1
fi
command -v qemu-system-x86_64 >/dev/null || { echo "lab: qemu-system-x86_64 missing: run scripts/setup.sh" >&2; exit 1; }

# Build the initramfs once per kernel and init script; cached in the git-ignored .lab-cache.
modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay)
key=$(cat "$repo/test/lab/harness/init" <(echo "$kver ${modules[*]}") | sha256sum | cut -c1-16)
initrd="$cache/initramfs-$kver-$key.cpio.gz"
if [ ! -f "$initrd" ]; then
  mkdir -p "$cache"
  build=$(mktemp -d "$cache/initramfs.XXXXXX")
  mkdir -p "$build"/{bin,dev,proc,sys,modules}
  cp /bin/busybox "$build/bin/busybox"
  cp "$repo/test/lab/harness/init" "$build/init"
  for m in "${modules[@]}"; do
    f=$(find "/lib/modules/$kver/kernel" -name "$m.ko*" | head -n1)
    [ -n "$f" ] || { echo "lab: module $m not found for $kver" >&2; exit 1; }
    case "$f" in
      *.ko.xz) xz -dc "$f" > "$build/modules/$m.ko" ;;
      *.ko.zst) zstd -dcq "$f" > "$build/modules/$m.ko" ;;
      *) cp "$f" "$build/modules/$m.ko" ;;
    esac
  done
  (cd "$build" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$build"
fi

# Boot the uncompressed ELF kernel (PVH entry): decompressing the xz bzImage costs seconds under TCG.
kernel="$cache/vmlinux-$kver"
if [ ! -f "$kernel" ]; then
  python3 - "/boot/vmlinuz-$kver" "$kernel.tmp" <<'PY' && mv "$kernel.tmp" "$kernel" || kernel="/boot/vmlinuz-$kver"
import lzma, sys
data = open(sys.argv[1], 'rb').read()
start = data.find(b'\xfd7zXZ\x00')
out = lzma.LZMADecompressor().decompress(data[start:]) if start >= 0 else b''
if not out.startswith(b'\x7fELF'):
    sys.exit(1)
open(sys.argv[2], 'wb').write(out)
PY
fi

kernel=${LVSD_LAB_KERNEL:-$kernel}

mkdir -p "$cache/runs"
run=$(mktemp -d "$cache/runs/run.XXXXXX")
: > "$run/output"
{
  while IFS='=' read -r name value; do
    [[ $name =~ ^LVSD_[A-Za-z0-9_]*$ ]] && printf 'export %s=%q\n' "$name" "$value"
  done < <(env)
} > "$run/env"
if ((shell)); then
  touch "$run/interactive"
else
  printf 'exec' > "$run/cmd.sh"
  printf ' %q' "$@" >> "$run/cmd.sh"
  echo >> "$run/cmd.sh"
fi

qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu "${LVSD_LAB_CPU:-qemu64}" -m "${LVSD_LAB_MEMORY:-3072}" -smp 2
  -nographic -no-reboot -nodefaults
  -kernel "$kernel" -initrd "$initrd"
  -append "console=ttyS0 quiet loglevel=3 panic=-1 mitigations=off nokaslr no_timer_check tsc=reliable lvsd.share=$run lvsd.repo=$repo"
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
  -fsdev "local,id=labshare,path=$run,security_model=none,multidevs=remap"
  -device virtio-9p-pci,fsdev=labshare,mount_tag=labshare)

if ((shell)); then
  "${qemu[@]}" -serial mon:stdio
  rm -rf "$run"
  exit 0
fi

started=$(date +%s%N)
timeout -s KILL "$timeout_s" "${qemu[@]}" -serial "file:$run/console.log" </dev/null &
qpid=$!
tail -n +1 -F --pid="$qpid" "$run/output" 2>/dev/null &
tpid=$!
qstatus=0
wait "$qpid" || qstatus=$?
wait "$tpid" 2>/dev/null || true
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))ms

if [ ! -f "$run/status" ]; then
  echo "lab: the guest reported no status (qemu exit $qstatus after ${elapsed}; timeout ${timeout_s}s). Console tail:" >&2
  tail -n 40 "$run/console.log" >&2 || true
  echo "lab: run folder kept at $run" >&2
  exit 1
fi
status=$(cat "$run/status")
if [ -n "${LVSD_LAB_TIMING:-}" ] && [ -f "$run/timing" ]; then
  read -r ready done < "$run/timing"
  echo "lab: guest ready ${ready}s after kernel start, command ran $(echo "$done - $ready" | awk '{print $1 - $3}')s, wall ${elapsed} in all" >&2
fi
if [ -n "$results" ] && [ -d "$run/results" ]; then
  mkdir -p "$results" && cp -r "$run/results/." "$results/"
fi
if [ "$status" != 0 ]; then
  echo "lab: command exited $status in the guest (${elapsed}); guest dmesg tail:" >&2
  tail -n 20 "$run/dmesg" 2>/dev/null >&2 || true
  echo "lab: run folder kept at $run" >&2
else
  [ -n "${LVSD_LAB_KEEP:-}" ] || rm -rf "$run"
fi
exit "$status"
