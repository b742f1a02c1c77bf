// Sync groups on a fake LAN: two hosts, each with VI_1 (vrid 51) and VI_2 (vrid 52) in one group,
// as keepalived's vrrp_sync_group: FAULT spreads to the whole group, MASTER and BACKUP move
// together, and a member only becomes MASTER once every member wants to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncGroup } from '../../../src/vrrp/group';
import type { VrrpState } from '../../../src/vrrp/instance';
import { VirtualClock } from '../../support/vrrp-clock';
import { FakeLan, type Router } from '../../support/vrrp-lan';

interface Host {
  vi1: Router;
  vi2: Router;
  group: SyncGroup;
  groupTransitions: Array<{ at: number; from: VrrpState; to: VrrpState; reason: string }>;
}

function twoHosts(): { clock: VirtualClock; lan: FakeLan; h1: Host; h2: Host } {
  const clock = new VirtualClock();
  const lan = new FakeLan(clock, 1);
  const host = (name: string, address: string, priority: number): Host => {
    const vi1 = lan.add({ name: 'VI_1', vrid: 51, priority, primaryAddress: address, addresses: ['198.18.0.10'] });
    const vi2 = lan.add({ name: 'VI_2', vrid: 52, priority, primaryAddress: address, addresses: ['198.18.0.20'] });
    const groupTransitions: Host['groupTransitions'] = [];
    const group = new SyncGroup(name, [vi1.instance, vi2.instance], {
      transition: (from, to, reason) => groupTransitions.push({ at: clock.now(), from, to, reason }),
    });
    return { vi1, vi2, group, groupTransitions };
  };
  const h1 = host('G1', '198.18.1.1', 200);
  const h2 = host('G2', '198.18.1.2', 100);
  for (const h of [h1, h2]) for (const r of [h.vi1, h.vi2]) r.instance.start();
  clock.advanceTo(10_000);
  return { clock, lan, h1, h2 };
}

const states = (h: Host): VrrpState[] => [h.vi1.instance.state, h.vi2.instance.state];

test('sync group: the two groups start as one MASTER group and one BACKUP group', () => {
  const { h1, h2 } = twoHosts();
  assert.deepEqual(states(h1), ['master', 'master']);
  assert.deepEqual(states(h2), ['backup', 'backup']);
  assert.equal(h1.group.state, 'master');
  assert.equal(h2.group.state, 'backup');
});

test('sync group: a fault in one member moves all to FAULT, and the other host takes both over', () => {
  const { clock, h1, h2 } = twoHosts();
  clock.advanceTo(10_500);
  h1.vi1.instance.setFault(['interface eth1 down']);
  assert.deepEqual(states(h1), ['fault', 'fault']);
  assert.equal(h1.group.state, 'fault');
  // both members said priority 0 before leaving MASTER
  assert.equal(h1.vi1.sent.at(-1)?.advert.priority, 0);
  assert.equal(h1.vi2.sent.at(-1)?.advert.priority, 0);
  assert.match(h1.vi2.transitions.at(-1)!.reason, /sync group G1: VI_1 is in fault \(interface eth1 down\)/);
  assert.deepEqual(h1.vi2.instance.faultReasons, [], 'VI_2 has no fault of its own');
  clock.advanceTo(10_500 + 1 + 609.375);
  assert.deepEqual(states(h2), ['master', 'master']);
  assert.equal(h2.group.state, 'master');
});

test('sync group: when the fault clears, the whole group leaves FAULT and takes MASTER back by preemption', () => {
  const { clock, h1, h2 } = twoHosts();
  clock.advanceTo(10_500);
  h1.vi1.instance.setFault(['interface eth1 down']);
  clock.advanceTo(20_000);
  h1.vi1.instance.setFault([]);
  assert.deepEqual(states(h1), ['backup', 'backup']);
  clock.advanceTo(40_000);
  assert.deepEqual(states(h1), ['master', 'master']);
  assert.deepEqual(states(h2), ['backup', 'backup']);
  assert.deepEqual(
    h1.groupTransitions.map((t) => t.to),
    ['backup', 'master', 'fault', 'backup', 'master'],
  );
});

test('sync group: the group stays in FAULT until every member with a fault of its own has recovered', () => {
  const { clock, h1 } = twoHosts();
  h1.vi1.instance.setFault(['interface eth1 down']);
  h1.vi2.instance.setFault(['script chk_web failed']);
  clock.advanceTo(11_000);
  h1.vi1.instance.setFault([]);
  assert.deepEqual(states(h1), ['fault', 'fault'], 'VI_2 still has its own fault');
  h1.vi2.instance.setFault([]);
  assert.deepEqual(states(h1), ['backup', 'backup']);
});

test('sync group: one member giving MASTER way to a higher peer takes the other member to BACKUP at once', () => {
  const { clock, h1, h2 } = twoHosts();
  // host 2's members get a higher priority and preempt, ignoring host 1's lower adverts
  h2.vi1.instance.setPriorityAdjustment(120);
  h2.vi2.instance.setPriorityAdjustment(120);
  clock.advanceTo(20_000);
  assert.deepEqual(states(h2), ['master', 'master']);
  assert.deepEqual(states(h1), ['backup', 'backup']);
  const h1Down = h1.vi1.transitions.concat(h1.vi2.transitions).filter((t) => t.from === 'master' && t.to === 'backup');
  assert.equal(h1Down.length, 2);
  // the member that heard the higher advert first moved; the other followed in the same instant
  assert.equal(h1Down[0].at, h1Down[1].at);
  assert.ok(h1Down.some((t) => /sync group moved to BACKUP/.test(t.reason)));
});

test('sync group: a member whose master-down timer fires is held in BACKUP until every member wants MASTER (keepalived)', () => {
  const { clock, h1, h2 } = twoHosts();
  // only VI_1 of host 2 outranks host 1: it wants MASTER, but VI_2 still hears its master
  h2.vi1.instance.setPriorityAdjustment(120);
  clock.advanceTo(30_000);
  assert.deepEqual(states(h2), ['backup', 'backup']);
  assert.equal(h2.vi1.instance.wantsMaster, true);
  assert.equal(h2.vi2.instance.wantsMaster, false);
  assert.deepEqual(states(h1), ['master', 'master']);
  // once VI_2 wants MASTER too, the group goes over together
  h2.vi2.instance.setPriorityAdjustment(120);
  clock.advanceTo(40_000);
  assert.deepEqual(states(h2), ['master', 'master']);
  assert.deepEqual(states(h1), ['backup', 'backup']);
});

test('sync group: stopping the master host hands both instances over after skew time', () => {
  const { clock, h1, h2 } = twoHosts();
  clock.advanceTo(10_250);
  h1.vi1.instance.stop();
  h1.vi2.instance.stop();
  assert.equal(h1.group.state, 'stopped');
  clock.advanceTo(10_250 + 1 + 609.375);
  assert.deepEqual(states(h2), ['master', 'master']);
});

test('a sync group refuses no members or one instance twice', () => {
  const clock = new VirtualClock();
  const lan = new FakeLan(clock, 1);
  const vi = lan.add({ name: 'VI_1', priority: 100, primaryAddress: '198.18.1.1' });
  assert.throws(() => new SyncGroup('G', []), /VRRP sync group G: no instances/);
  assert.throws(() => new SyncGroup('G', [vi.instance, vi.instance]), /listed twice/);
});
