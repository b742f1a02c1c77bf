// The kernel settings a real server needs, as one table with the reason for every value.
// Same idea as seesaw's ncc/sysctl.go: each write returns the value it replaced, so `down`
// can put back exactly what was there (the hand-written script wrote zeros instead).
import { readFileSync, writeFileSync } from 'node:fs';

export interface SysctlSetting {
  /** Dotted name, as `sysctl` prints it: net.ipv4.conf.lo.arp_ignore. */
  readonly key: string;
  readonly value: string;
  /** The kernel's default, used only by `down --force` when the saved prior values are lost. */
  readonly kernelDefault: string;
}

/** Settings for DR and TUN mode: the VIP lives on this host, but only the director may answer ARP for it. */
const ARP_SUPPRESSION: readonly SysctlSetting[] = [
  // 1 = answer ARP only for addresses configured on the interface the request came in on.
  // The VIP is on lo (or the tunnel), so eth0 stays silent and the director keeps the VIP's traffic.
  { key: 'net.ipv4.conf.lo.arp_ignore', value: '1', kernelDefault: '0' },
  // 2 = in ARP requests we send, use the best local address for the target, never the VIP on lo;
  // otherwise neighbours would learn "VIP is at this host's MAC" from our own requests.
  { key: 'net.ipv4.conf.lo.arp_announce', value: '2', kernelDefault: '0' },
  // The kernel uses max(all, interface) for arp_ignore, so `all` makes it hold on eth0 as well.
  { key: 'net.ipv4.conf.all.arp_ignore', value: '1', kernelDefault: '0' },
  // Likewise max(all, interface) for arp_announce.
  { key: 'net.ipv4.conf.all.arp_announce', value: '2', kernelDefault: '0' },
];

/** Extra settings for TUN mode: packets arrive IP-in-IP and are decapsulated on `tunnelDevice`. */
function tunnelSettings(tunnelDevice: string): SysctlSetting[] {
  return [
    // 0 = no reverse-path check on the tunnel: the inner source (the client) is not routed via the
    // tunnel, so strict (1) or loose (2) filtering would drop every decapsulated packet.
    { key: `net.ipv4.conf.${tunnelDevice}.rp_filter`, value: '0', kernelDefault: '0' },
    // The kernel applies max(all, interface) for rp_filter, so `all` must be 0 too (distributions set it to 1 or 2).
    { key: 'net.ipv4.conf.all.rp_filter', value: '0', kernelDefault: '0' },
  ];
}

export function realserverSysctls(tunnelDevice?: string): SysctlSetting[] {
  return tunnelDevice ? [...ARP_SUPPRESSION, ...tunnelSettings(tunnelDevice)] : [...ARP_SUPPRESSION];
}

const CONF_PREFIX = 'net.ipv4.conf.';

/** /proc/sys path of a dotted key. /proc/sys/net shows the caller's own network namespace. */
export function sysctlPath(key: string): string {
  if (key.startsWith(CONF_PREFIX)) {
    // net.ipv4.conf.<interface>.<setting>: the interface name may itself contain dots.
    const rest = key.slice(CONF_PREFIX.length);
    const cut = rest.lastIndexOf('.');
    return `/proc/sys/net/ipv4/conf/${rest.slice(0, cut)}/${rest.slice(cut + 1)}`;
  }
  return `/proc/sys/${key.split('.').join('/')}`;
}

export function readSysctl(key: string): string {
  return readFileSync(sysctlPath(key), 'utf8').trim();
}

/** Writes a value and returns the one it replaced. */
export function writeSysctl(key: string, value: string): string {
  const before = readSysctl(key);
  if (before !== value) writeFileSync(sysctlPath(key), `${value}\n`);
  return before;
}
