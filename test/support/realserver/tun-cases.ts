// TUN mode, judged by `ip -d -j link`, `ip -j addr` and `sysctl`. Shared by the host test (whose
// kernel may lack ipip/gre: then the clear refusal is what is proven) and the lab test (Debian's
// kernel, which has both: there the whole behaviour must hold).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../netns';

/** IPv4 addresses only: the kernel gives an up tunnel an IPv6 link-local address of its own. */
function ipv4(ns: Netns, device: string) {
  return ns.addrs(device).filter((a) => a.family === 'inet');
}

/** Whether this kernel can make a tunnel device of `kind` (tried in the given scratch namespace). */
export function kernelHasTunnel(ns: Netns, kind: 'ipip' | 'gre'): boolean {
  // With a local address of its own, so it cannot clash with the catch-all tunl0/gre0.
  const r = ns.run('ip', ['link', 'add', 'lvsd-probe', 'type', kind, 'local', '192.0.2.254']);
  if (r.status === 0) ns.must('ip', ['link', 'del', 'lvsd-probe']);
  return r.status === 0;
}

/**
 * up --mode tun with the kernel's catch-all device (tunl0 for ipip, gre0 for gre): the device is up
 * with the VIP, rp_filter is 0 on it and on all, ARP is suppressed; down puts everything back,
 * including rp_filter values a distribution would have set (all=2, default=1).
 */
export function catchAllTunnel(ns: Netns, kind: 'ipip' | 'gre'): void {
  const device = kind === 'ipip' ? 'tunl0' : 'gre0';
  const state = join(ns.dir, `${kind}.json`);
  ns.setSysctl('net.ipv4.conf.all.rp_filter', '2');
  ns.setSysctl('net.ipv4.conf.default.rp_filter', '1');
  const existedBefore = ns.link(device) !== undefined;
  const deviceRpFilterBefore = existedBefore ? ns.sysctl(`net.ipv4.conf.${device}.rp_filter`) : '1';

  // Not loaded yet: creating the device makes the kernel load the module, whose own catch-all
  // device then takes the name (EEXIST). That device is not ours: down must not delete it.
  const module = kind === 'ipip' ? 'ipip' : 'ip_gre';
  const moduleLoaded = existsSync(`/sys/module/${module}`);

  const up = ns.lvsd(['up', '--mode', 'tun', '--tunnel', kind, '--vip', '198.18.0.10', '--vip', '192.0.2.10', '--state', state]);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  if (!moduleLoaded) {
    assert.match(up.stdout, new RegExp(`loaded the ${kind} module, which created ${device}`));
  } else {
    // the module was there: its catch-all device was too (in every namespace, see namedTunnel), so up made none
    assert.equal(existedBefore, true, `${module} is loaded but this namespace has no ${device}`);
    assert.doesNotMatch(up.stdout, /loaded the|created .* tunnel device/, up.stdout);
  }
  assert.match(up.stdout, new RegExp(`added 198\\.18\\.0\\.10/32 to ${device}`));
  const link = ns.link(device);
  assert.equal(link?.linkinfo?.info_kind, kind);
  assert.ok(link?.flags.includes('UP'), `${device} is up: ${JSON.stringify(link?.flags)}`);
  assert.deepEqual(
    ipv4(ns, device).map(({ local, prefixlen, label }) => ({ local, prefixlen, label })),
    [
      { local: '198.18.0.10', prefixlen: 32, label: `${device}:0` },
      { local: '192.0.2.10', prefixlen: 32, label: `${device}:1` },
    ],
  );
  assert.deepEqual(ns.addrs('lo').map((a) => a.local), ['127.0.0.1', '::1'], 'in TUN mode the VIPs are on the tunnel, not on lo');
  assert.equal(ns.sysctl(`net.ipv4.conf.${device}.rp_filter`), '0');
  assert.equal(ns.sysctl('net.ipv4.conf.all.rp_filter'), '0');
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_ignore'), '1');
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_announce'), '2');

  const again = ns.lvsd(['up', '--mode', 'tun', '--tunnel', kind, '--vip', '198.18.0.10', '--vip', '192.0.2.10', '--state', state]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /nothing to do/);
  assert.equal(ns.lvsd(['status', '--state', state]).status, 0);

  const down = ns.lvsd(['down', '--state', state]);
  assert.equal(down.status, 0, down.stdout + down.stderr);
  assert.deepEqual(ipv4(ns, device), []);
  assert.equal(ns.sysctl('net.ipv4.conf.all.rp_filter'), '2');
  assert.equal(ns.sysctl(`net.ipv4.conf.${device}.rp_filter`), deviceRpFilterBefore);
  assert.ok(ns.link(device), `${device} belongs to the kernel module and stays`);
  assert.ok(!ns.link(device)?.flags.includes('UP'), `${device} is down again, as before up`);
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_ignore'), '0');
}

/**
 * A named tunnel device with this host's address as local end is created by up (over rtnetlink,
 * IFLA_INFO_DATA with IFLA_IPTUN_LOCAL / IFLA_GRE_LOCAL) and deleted by down. Without a local
 * address it would clash with the catch-all device: a clear refusal.
 */
export function namedTunnel(ns: Netns, kind: 'ipip' | 'gre'): void {
  const device = `lvsd-${kind}1`;
  const state = join(ns.dir, `named-${kind}.json`);
  assert.equal(ns.link(device), undefined);
  const catchAll = kind === 'ipip' ? 'tunl0' : 'gre0';
  const noLocal = ns.lvsd(['up', '--mode', 'tun', '--tunnel', kind, '--tunnel-device', device, '--vip', '198.18.0.20', '--state', state]);
  if (ns.link(catchAll)) {
    assert.equal(noLocal.status, 1);
    assert.match(noLocal.stderr, new RegExp(`already has a ${kind} device with the same endpoints \\(the catch-all ${catchAll}\\); give ${device} this host's own address`));
    assert.equal(ns.link(device), undefined);
  } else {
    // A kernel with net.core.fb_tunnels_only_for_init_net set makes no catch-all in new
    // namespaces: then there is nothing to clash with, and the "any, any" device is made.
    assert.equal(noLocal.status, 0, noLocal.stdout + noLocal.stderr);
    assert.match(noLocal.stdout, new RegExp(`created ${kind} tunnel device ${device}$`, 'm'));
    assert.equal(ns.link(device)?.linkinfo?.info_kind, kind);
    const down = ns.lvsd(['down', '--state', state]);
    assert.equal(down.status, 0, down.stdout + down.stderr);
    assert.equal(ns.link(device), undefined);
  }
  const up = ns.lvsd(['up', '--mode', 'tun', '--tunnel', kind, '--tunnel-device', device, '--tunnel-local', '192.0.2.1', '--vip', '198.18.0.20', '--state', state]);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  assert.match(up.stdout, new RegExp(`created ${kind} tunnel device ${device} \\(local 192\\.0\\.2\\.1\\)`));
  const link = ns.link(device);
  assert.equal(link?.linkinfo?.info_kind, kind);
  assert.equal(link?.linkinfo?.info_data?.local, '192.0.2.1');
  assert.ok(link?.flags.includes('UP'));
  assert.deepEqual(ipv4(ns, device).map((a) => `${a.local}/${a.prefixlen}`), ['198.18.0.20/32']);
  assert.equal(ns.sysctl(`net.ipv4.conf.${device}.rp_filter`), '0');

  const down = ns.lvsd(['down', '--state', state]);
  assert.equal(down.status, 0, down.stdout + down.stderr);
  assert.equal(ns.link(device), undefined, 'the device up created is gone');
}

/** On a kernel without the tunnel kind: a one-line refusal that names the module, and nothing left behind. */
export function refusedWithoutSupport(ns: Netns, kind: 'ipip' | 'gre'): void {
  const state = join(ns.dir, `unsupported-${kind}.json`);
  const before = { addrs: ns.allAddrs(), sysctls: ns.arpSysctls() };
  const r = ns.lvsd(['up', '--mode', 'tun', '--tunnel', kind, '--vip', '198.18.0.10', '--state', state]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^lvsd: this kernel has no ${kind} tunnel support .*TUN mode needs the ${kind === 'ipip' ? 'ipip' : 'ip_gre'} module`));
  assert.deepEqual(ns.allAddrs(), before.addrs);
  assert.deepEqual(ns.arpSysctls(), before.sysctls);
  assert.equal(existsSync(state), false, 'refused at the first change: no state file');
}
