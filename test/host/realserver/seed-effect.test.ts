// `lvsd realserver up` has the effect of seed 002's lvs_realserver.sh start (VIP on lo:0 as /32,
// ARP suppression on lo and all), judged by `ip -j addr` and `sysctl` in two fresh namespaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, netns, type IpAddr } from '../../support/netns';

const SEED = join(REPO, 'test/support/realserver/lvs_realserver.sh');
const VIP = '198.18.0.10';

/** What matters about the VIP on lo; ifconfig also sets "broadcast VIP", which means nothing for a /32. */
function vipOnLo(addrs: IpAddr[]) {
  return addrs.filter((a) => a.local === VIP).map(({ family, local, prefixlen, scope, label }) => ({ family, local, prefixlen, scope, label }));
}

test('up does what the seed script start does, and down leaves what its stop leaves on a default host', (t) => {
  const seed = netns(t);
  const ours = netns(t);
  const state = join(ours.dir, 'state.json');

  const seedStart = seed.run('bash', [SEED, VIP, 'start']);
  assert.equal(seedStart.status, 0, seedStart.stderr);
  const up = ours.lvsd(['up', '--vip', VIP, '--state', state]);
  assert.equal(up.status, 0, up.stderr);

  assert.deepEqual(vipOnLo(ours.addrs('lo')), vipOnLo(seed.addrs('lo')));
  assert.deepEqual(vipOnLo(ours.addrs('lo')), [{ family: 'inet', local: VIP, prefixlen: 32, scope: 'global', label: 'lo:0' }]);
  assert.deepEqual(ours.arpSysctls(), seed.arpSysctls());
  assert.deepEqual(ours.arpSysctls(), {
    'net.ipv4.conf.lo.arp_ignore': '1',
    'net.ipv4.conf.lo.arp_announce': '2',
    'net.ipv4.conf.all.arp_ignore': '1',
    'net.ipv4.conf.all.arp_announce': '2',
  });

  // On a host with kernel defaults the seed's zeros happen to be the prior values.
  assert.equal(seed.run('bash', [SEED, VIP, 'stop']).status, 0);
  const down = ours.lvsd(['down', '--state', state]);
  assert.equal(down.status, 0, down.stderr);
  assert.deepEqual(vipOnLo(ours.addrs('lo')), []);
  assert.deepEqual(vipOnLo(seed.addrs('lo')), []);
  assert.deepEqual(ours.arpSysctls(), seed.arpSysctls());
  assert.deepEqual(ours.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
});
