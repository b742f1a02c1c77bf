// TUN mode on Debian's kernel (ipip and ip_gre modules available): the whole behaviour must hold.
// Each case gets a namespace of its own inside the lab file's namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { netns } from '../../support/netns';
import { catchAllTunnel, kernelHasTunnel, namedTunnel } from '../../support/realserver/tun-cases';

for (const kind of ['ipip', 'gre'] as const) {
  // First, so the module is not loaded yet and lvsd's own request makes the kernel load it.
  test(`tun mode with ${kind}: catch-all device up with the VIPs, rp_filter 0 on it and on all; down restores`, (t) => {
    catchAllTunnel(netns(t), kind);
  });

  test(`tun mode with ${kind}: a named device is created over rtnetlink and deleted by down`, (t) => {
    const ns = netns(t);
    assert.ok(kernelHasTunnel(ns, kind), `the lab kernel must support ${kind}`);
    namedTunnel(ns, kind);
  });
}

// The other branch of each case: the module already loaded before up, and a kernel that makes no
// catch-all device in new namespaces (net.core.fb_tunnels_only_for_init_net, set in the guest's
// initial namespace and put back after).
for (const kind of ['ipip', 'gre'] as const) {
  test(`tun mode with ${kind}, module already loaded: up uses the catch-all device it finds`, (t) => {
    assert.ok(existsSync(`/sys/module/${kind === 'ipip' ? 'ipip' : 'ip_gre'}`), 'loaded by the cases above');
    catchAllTunnel(netns(t), kind);
  });

  test(`tun mode with ${kind}, no catch-all in new namespaces: a named device without a local address is made`, (t) => {
    const key = 'net.core.fb_tunnels_only_for_init_net';
    const inInitialNs = (...args: string[]) => spawnSync('nsenter', ['-t', '1', '-n', 'sysctl', ...args], { encoding: 'utf8' });
    const before = inInitialNs('-n', key).stdout.trim();
    assert.match(before, /^[0-2]$/);
    const set = inInitialNs('-q', '-w', `${key}=2`);
    assert.equal(set.status, 0, set.stderr);
    t.after(() => void inInitialNs('-q', '-w', `${key}=${before}`));
    const ns = netns(t);
    assert.equal(ns.link(kind === 'ipip' ? 'tunl0' : 'gre0'), undefined, 'no catch-all device in this namespace');
    namedTunnel(ns, kind);
  });
}
