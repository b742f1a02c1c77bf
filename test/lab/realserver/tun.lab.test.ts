// TUN mode on Debian's kernel (ipip and ip_gre modules available): the whole behaviour must hold.
// Each case gets a namespace of its own inside the lab file's namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
