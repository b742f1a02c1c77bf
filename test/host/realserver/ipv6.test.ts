// IPv6 VIPs go on lo as /128 with IFA_F_NODAD, next to IPv4 ones with lo:N labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netns } from '../../support/netns';

test('an IPv6 VIP is added to lo as /128 nodad (the kernel keeps labels for IPv4 only) and removed by down', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  const up = ns.lvsd(['up', '--vip', '2001:DB8:0::10', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(up.status, 0, up.stderr);

  const v6 = ns.addrs('lo').filter((a) => a.local === '2001:db8::10');
  assert.deepEqual(v6.map(({ family, prefixlen, scope, nodad }) => ({ family, prefixlen, scope, nodad })), [
    { family: 'inet6', prefixlen: 128, scope: 'global', nodad: true },
  ]);
  const v4 = ns.addrs('lo').filter((a) => a.local === '198.18.0.10');
  assert.deepEqual(v4.map(({ prefixlen, label }) => ({ prefixlen, label })), [{ prefixlen: 32, label: 'lo:0' }]);

  const status = ns.lvsd(['status', '--state', state]);
  assert.equal(status.status, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /2001:db8::10\/128 on lo: ok/);

  assert.equal(ns.lvsd(['down', '--state', state]).status, 0);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
});
