// `down` restores exactly the values found before the first `up` (not the seed script's zeros),
// and removes only what `up` added: a VIP that was already on lo stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netns } from '../../support/netns';

test('down restores non-default prior sysctls and leaves a VIP that was there before up', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  ns.setSysctl('net.ipv4.conf.lo.arp_ignore', '2');
  ns.setSysctl('net.ipv4.conf.all.arp_announce', '1');
  ns.setSysctl('net.ipv4.conf.all.arp_ignore', '8');
  ns.must('ip', ['addr', 'add', '198.18.0.11/32', 'dev', 'lo', 'label', 'lo:7']);
  const before = { sysctls: ns.arpSysctls(), addrs: ns.allAddrs() };

  const up = ns.lvsd(['up', '--vip', '198.18.0.10', '--vip', '198.18.0.11', '--state', state]);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /198\.18\.0\.11 was already on lo/);
  assert.deepEqual(ns.arpSysctls(), {
    'net.ipv4.conf.lo.arp_ignore': '1',
    'net.ipv4.conf.lo.arp_announce': '2',
    'net.ipv4.conf.all.arp_ignore': '1',
    'net.ipv4.conf.all.arp_announce': '2',
  });
  // The new VIP takes the first free label; the one already there keeps its own.
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo 198.18.0.10/32 lo:0', 'lo 198.18.0.11/32 lo:7', 'lo ::1/128']);

  // A second up (e.g. a service restart) must not take the now-set values as the "prior" ones.
  assert.equal(ns.lvsd(['up', '--vip', '198.18.0.10', '--vip', '198.18.0.11', '--state', state]).status, 0);

  const down = ns.lvsd(['down', '--state', state]);
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(ns.arpSysctls(), before.sysctls);
  assert.equal(ns.sysctl('net.ipv4.conf.lo.arp_ignore'), '2');
  assert.deepEqual(ns.allAddrs(), before.addrs);
});
