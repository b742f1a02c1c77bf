#!/usr/bin/env bash
# Installs everything lvsd's build, tests and lab need on a fresh Debian machine.
# Idempotent: a second run checks, installs nothing, and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, one line each with why.
PACKAGES=(
  qemu-system-x86     # boots the lab kernel (software emulation)
  linux-image-amd64   # a kernel with every ip_vs module, 9p and overlay
  busybox-static      # the lab initramfs
  ipvsadm             # the reference IPVS client the tests judge against
  iproute2            # ip netns / ip addr / ip link in tests
  kmod                # modprobe in the guest
  util-linux          # unshare, setpriv
  procps              # sysctl
  openssl             # certificates for TLS check tests
  mariadb-server      # real MySQL-protocol server for the MySQL checker tests
  galera-4            # single-node Galera cluster for the galera role tests
  keepalived          # the reference checker in the health benchmark
  curl                # HTTP client used as a judge
  net-tools           # ifconfig: the realserver test runs seed 002's lvs_realserver.sh as the reference
  time                # /usr/bin/time: user/system CPU of each tool in bench/ipvs-bench.ts
  gcc                 # compiles native/*.c (npm run build)
  libc6-dev           # the C library headers for it
  chromium            # a real headless browser: the director status page test opens the page in it (puppeteer-core)
  nftables            # the director benchmark drops packets to failed targets (in a network namespace of its own)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packaged services (mariadb, keepalived) from starting: tests start their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall only when package-lock.json changed.
stamp=node_modules/.lvsd-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
echo "setup: ready"
