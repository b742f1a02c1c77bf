// One VRRP instance on a virtual clock: the RFC 5798 6.4 timers (Master_Down_Interval, Skew_Time,
// v2 and v3), preempt / nopreempt / preempt_delay as keepalived 2.2.7 has them, ties, priority 0,
// the address owner, FAULT and stop. Adverts from "the peer" are fed by hand at exact times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VrrpInstance, type InstanceOptions, type VrrpState } from '../../../src/vrrp/instance';
import { authProblem, decodeAdvert, encodeAdvert, simplePasswordKey, type Advert } from '../../../src/vrrp/packet';
import { VirtualClock } from '../../support/vrrp-clock';
import { BASE_OPTIONS } from '../../support/vrrp-lan';

const PEER = '198.18.1.2';

interface Rig {
  clock: VirtualClock;
  vrrp: VrrpInstance;
  sent: Array<{ at: number; priority: number }>;
  transitions: Array<{ at: number; from: VrrpState; to: VrrpState; reason: string }>;
  rejected: string[];
  /** the peer's advert reaches us now */
  peer(priority: number, over?: Partial<Advert>, src?: string): void;
}

function rig(options: Partial<InstanceOptions> = {}): Rig {
  const clock = new VirtualClock();
  const r: Rig = {
    clock,
    sent: [],
    transitions: [],
    rejected: [],
    vrrp: undefined as unknown as VrrpInstance,
    peer(priority, over = {}, src = PEER) {
      const o = { ...BASE_OPTIONS, ...options };
      const advert: Advert = { version: o.version, vrid: o.vrid, priority, intervalMs: o.advertIntervalMs, family: o.family, addresses: o.addresses, ...over };
      r.vrrp.receive(advert, src);
    },
  };
  r.vrrp = new VrrpInstance({ ...BASE_OPTIONS, name: 'VI_1', priority: 100, primaryAddress: '198.18.1.1', ...options }, clock, {
    send: (advert) => r.sent.push({ at: clock.now(), priority: advert.priority }),
    transition: (from, to, reason) => r.transitions.push({ at: clock.now(), from, to, reason }),
    rejected: (problem, detail) => r.rejected.push(`${problem}: ${detail}`),
  });
  return r;
}

/** Times on the virtual clock are sums of µs-exact values; compare them to a nanosecond. */
function assertAt(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what}: at ${actual} ms, expected ${expected} ms`);
}

/** Feeds the peer's adverts every `interval` ms in [from, to). */
function peerEvery(r: Rig, priority: number, from: number, to: number, interval = 1000, over: Partial<Advert> = {}): void {
  for (let t = from; t < to; t += interval) {
    r.clock.advanceTo(t);
    r.peer(priority, over);
  }
}

test('a backup takes over 3 x interval + skew after the last advert (VRRPv3: skew = (256 - 100) x 1000 / 256 ms)', () => {
  const r = rig({ priority: 100 });
  r.vrrp.start();
  assert.equal(r.vrrp.state, 'backup');
  peerEvery(r, 200, 500, 2000); // adverts at 500 and 1500, then the master dies
  const takeover = 1500 + 3 * 1000 + 609.375;
  assertAt(r.vrrp.masterDownIntervalMs, 3609.375, 'Master_Down_Interval');
  r.clock.advanceTo(takeover - 0.001);
  assert.equal(r.vrrp.state, 'backup');
  r.clock.advanceTo(takeover);
  assert.equal(r.vrrp.state, 'master');
  assert.deepEqual(r.transitions.map((t) => [t.from, t.to]), [['init', 'backup'], ['backup', 'master']]);
  assertAt(r.transitions[1].at, takeover, 'takeover');
  // the new master advertises at once, then every interval
  r.clock.advanceTo(takeover + 2000);
  assert.deepEqual(r.sent.map((s) => s.priority), [100, 100, 100]);
  r.sent.forEach((s, i) => assertAt(s.at, takeover + i * 1000, `advert ${i}`));
});

test('the skew time follows the version: v2 (256 - p) / 256 s whatever the interval, v3 scaled by the master interval', () => {
  const v2 = rig({ version: 2, priority: 100, advertIntervalMs: 2000 });
  const v3 = rig({ version: 3, priority: 100, advertIntervalMs: 2000 });
  assertAt(v2.vrrp.skewTimeMs, 609.375, 'v2 skew');
  assertAt(v2.vrrp.masterDownIntervalMs, 6609.375, 'v2 Master_Down_Interval');
  assertAt(v3.vrrp.skewTimeMs, 1218.75, 'v3 skew');
  assertAt(v3.vrrp.masterDownIntervalMs, 7218.75, 'v3 Master_Down_Interval');
  for (const r of [v2, v3]) r.vrrp.start();
  v2.clock.advanceTo(6609.374);
  v3.clock.advanceTo(7218.749);
  assert.deepEqual([v2.vrrp.state, v3.vrrp.state], ['backup', 'backup']);
  v2.clock.advanceTo(6609.375);
  v3.clock.advanceTo(7218.75);
  assert.deepEqual([v2.vrrp.state, v3.vrrp.state], ['master', 'master']);
});

test('a v3 backup learns Master_Adver_Interval from the adverts; a v2 backup refuses an interval other than its own', () => {
  const v3 = rig({ priority: 100, advertIntervalMs: 1000 });
  v3.vrrp.start();
  v3.clock.advanceTo(100);
  v3.peer(200, { intervalMs: 500 });
  assert.equal(v3.vrrp.masterAdvertIntervalMs, 500);
  // 3 x 500 + (256 - 100) x 50 cs x 625 / 16 µs = 1500 + 304.687 ms (keepalived's integer µs)
  assertAt(v3.vrrp.masterDownIntervalMs, 1804.687, 'learned Master_Down_Interval');
  v3.clock.advanceTo(100 + 1804.686);
  assert.equal(v3.vrrp.state, 'backup');
  v3.clock.advanceTo(100 + 1804.687);
  assert.equal(v3.vrrp.state, 'master');
  assert.equal(v3.vrrp.masterAdvertIntervalMs, 1000, 'a master advertises at its own interval');

  const v2 = rig({ version: 2, priority: 100, advertIntervalMs: 1000 });
  v2.vrrp.start();
  peerEvery(v2, 200, 500, 10_000, 1000, { intervalMs: 2000 });
  assert.equal(v2.vrrp.state, 'master', 'the mismatched adverts did not hold it');
  assert.ok(v2.vrrp.counters.advertsRejected >= 3);
  assert.match(v2.rejected[0], /^interval: advert interval 2000 ms, ours is 1000 ms/);
});

test('nopreempt backup with higher priority stays backup while the lower-priority master lives', () => {
  const r = rig({ priority: 200, preempt: false });
  r.vrrp.start();
  peerEvery(r, 100, 500, 60_000);
  assert.equal(r.vrrp.state, 'backup');
  assert.equal(r.sent.length, 0);
  assert.equal(r.vrrp.counters.advertsReceived, 60);
  // the master dies: it takes over after Master_Down_Interval, skew (256 - 200) / 256 s
  r.clock.advanceTo(59_500 + 3000 + 218.75);
  assert.equal(r.vrrp.state, 'master');
  assertAt(r.transitions.at(-1)?.at, 62_718.75, 'takeover');
});

test('preempt: a higher-priority backup ignores a lower-priority master and takes over when its timer runs out', () => {
  const r = rig({ priority: 200, preempt: true });
  r.vrrp.start();
  r.clock.advanceTo(100);
  r.peer(200); // an equal priority resets the timer (RFC 5798 6.4.2: "greater than or equal")
  peerEvery(r, 100, 500, 10_000); // lower priority from now on: ignored
  assert.equal(r.vrrp.state, 'master');
  assertAt(r.transitions.at(-1)?.at, 100 + 3218.75, 'preemption');
  assert.equal(r.transitions.at(-1)?.reason, 'preempting a master of lower priority 100 (ours 200)');
});

test('preempt_delay holds a higher-priority backup for the delay, then it preempts (keepalived: the delay starts at the first lower advert)', () => {
  const r = rig({ priority: 200, preempt: true, preemptDelayMs: 10_000 });
  r.vrrp.start();
  peerEvery(r, 100, 500, 30_000);
  // adverts at 500 .. 10_000 are accepted (the delay runs from 500 to 10_500); the one at 10_500
  // and later are ignored, so the timer set by the advert at 9_500 runs out
  const takeover = 9_500 + 3000 + 218.75;
  const t = r.transitions.find((x) => x.to === 'master');
  assertAt(t?.at, takeover, 'preemption after the delay');
  assert.ok(t!.at > 10_500, 'not before the delay');
});

test('preempt_delay does not hold a backup whose master dies: it takes over after Master_Down_Interval', () => {
  const r = rig({ priority: 200, preempt: true, preemptDelayMs: 60_000 });
  r.vrrp.start();
  peerEvery(r, 100, 500, 2000);
  r.clock.advanceTo(20_000);
  assertAt(r.transitions.find((x) => x.to === 'master')?.at, 1500 + 3218.75, 'takeover');
});

test('equal priority: higher primary address wins, compared as numbers (198.18.1.10 > 198.18.1.9)', () => {
  const loses = rig({ priority: 100, primaryAddress: '198.18.1.9' });
  loses.vrrp.start();
  loses.clock.advanceTo(3609.375);
  assert.equal(loses.vrrp.state, 'master');
  loses.clock.advanceTo(4000);
  loses.peer(100, {}, '198.18.1.8'); // lower address: we stay master and answer at once
  assert.equal(loses.vrrp.state, 'master');
  assertAt(loses.sent.at(-1)?.at, 4000, 'answer to the lower address');
  loses.clock.advanceTo(4100);
  loses.peer(100, {}, '198.18.1.10'); // higher, though "198.18.1.10" < "198.18.1.9" as text
  assert.equal(loses.vrrp.state, 'backup');
  assert.match(loses.transitions.at(-1)!.reason, /equal priority 100 and a higher address/);

  const v6 = rig({ priority: 100, family: 6, addresses: ['2001:db8::10'], primaryAddress: 'fe80::9' });
  v6.vrrp.start();
  v6.clock.advanceTo(3609.375);
  assert.equal(v6.vrrp.state, 'master');
  v6.peer(100, { family: 6, addresses: ['2001:db8::10'] }, 'fe80::10%eth0');
  assert.equal(v6.vrrp.state, 'backup');
});

test('two backups of equal priority that time out together: the higher address keeps MASTER', () => {
  const a = rig({ priority: 100, primaryAddress: '198.18.1.1' });
  const b = rig({ priority: 100, primaryAddress: '198.18.1.2' });
  for (const x of [a, b]) x.vrrp.start();
  a.clock.advanceTo(3609.375);
  b.clock.advanceTo(3609.375);
  a.peer(100, {}, '198.18.1.2');
  b.peer(100, {}, '198.18.1.1');
  assert.deepEqual([a.vrrp.state, b.vrrp.state], ['backup', 'master']);
});

test('stop: a master sends priority 0 and goes to stopped; a backup receiving priority 0 takes over after Skew_Time', () => {
  const m = rig({ priority: 200 });
  m.vrrp.start();
  m.clock.advanceTo(3218.75);
  assert.equal(m.vrrp.state, 'master');
  m.clock.advanceTo(5000);
  m.vrrp.stop();
  assert.equal(m.vrrp.state, 'stopped');
  assert.deepEqual(m.sent.at(-1), { at: 5000, priority: 0 });
  assert.equal(m.vrrp.counters.priorityZeroSent, 1);
  assert.equal(m.clock.pending, 0, 'no timer left behind');

  const b = rig({ priority: 100 });
  b.vrrp.start();
  peerEvery(b, 200, 500, 3000);
  b.clock.advanceTo(2600);
  b.peer(0);
  assert.equal(b.vrrp.counters.priorityZeroReceived, 1);
  b.clock.advanceTo(2600 + 609.374);
  assert.equal(b.vrrp.state, 'backup');
  b.clock.advanceTo(2600 + 609.375);
  assert.equal(b.vrrp.state, 'master');
  assert.equal(b.transitions.at(-1)?.reason, 'the master resigned (priority 0), after skew time 609.375 ms');
});

test('a master that receives a lower-priority advert sends an advert at once and restarts its advert timer (keepalived)', () => {
  const r = rig({ priority: 200 });
  r.vrrp.start();
  r.clock.advanceTo(3218.75);
  r.clock.advanceTo(4000);
  r.peer(100);
  assert.equal(r.vrrp.state, 'master');
  r.clock.advanceTo(6000);
  const times = r.sent.map((s) => s.at);
  [3218.75, 4000, 5000, 6000].forEach((t, i) => assertAt(times[i], t, `advert ${i}`));
  assert.equal(times.length, 4);
});

test('a master that receives priority 0 answers at once so the backups do not take over', () => {
  const r = rig({ priority: 200 });
  r.vrrp.start();
  r.clock.advanceTo(3218.75);
  r.clock.advanceTo(3500);
  r.peer(0);
  assertAt(r.sent.at(-1)?.at, 3500, 'answer');
  assert.equal(r.sent.at(-1)?.priority, 200);
  assert.equal(r.vrrp.state, 'master');
});

test('a higher-priority advert turns a master into backup, with the new master\'s v3 interval', () => {
  const r = rig({ priority: 100 });
  r.vrrp.start();
  r.clock.advanceTo(3609.375);
  r.clock.advanceTo(4000);
  r.peer(150, { intervalMs: 2000 });
  assert.equal(r.vrrp.state, 'backup');
  assert.equal(r.vrrp.masterAdvertIntervalMs, 2000);
  assert.equal(r.sent.filter((s) => s.priority === 0).length, 0, 'no priority 0 when giving way');
  // 3 x 2000 + 156 x 200 cs x 625 / 16 µs
  r.clock.advanceTo(4000 + 7218.749);
  assert.equal(r.vrrp.state, 'backup');
  r.clock.advanceTo(4000 + 7218.75);
  assert.equal(r.vrrp.state, 'master');
});

test('priority 255 (address owner) becomes master at once, even configured nopreempt', () => {
  const r = rig({ priority: 255, preempt: false });
  r.vrrp.start();
  assert.equal(r.vrrp.state, 'master');
  assert.deepEqual(r.sent, [{ at: 0, priority: 255 }]);
  assert.match(r.transitions[0].reason, /address owner/);
});

test('two address owners: the one receiving the other\'s 255 drops to 254 and yields to a higher address (keepalived)', () => {
  const r = rig({ priority: 255, primaryAddress: '198.18.1.1' });
  r.vrrp.start();
  r.clock.advanceTo(500);
  r.peer(255, {}, '198.18.1.2');
  assert.equal(r.vrrp.effectivePriority, 254);
  assert.equal(r.vrrp.state, 'backup');
});

test('effective priority = configured + adjustment clamped to 1..254, 255 stays 255; adverts carry it', () => {
  const r = rig({ priority: 100 });
  r.vrrp.setPriorityAdjustment(-30);
  assert.equal(r.vrrp.effectivePriority, 70);
  r.vrrp.setPriorityAdjustment(-500);
  assert.equal(r.vrrp.effectivePriority, 1);
  r.vrrp.setPriorityAdjustment(500);
  assert.equal(r.vrrp.effectivePriority, 254);
  const owner = rig({ priority: 255 });
  owner.vrrp.setPriorityAdjustment(-100);
  assert.equal(owner.vrrp.effectivePriority, 255);
  r.vrrp.setPriorityAdjustment(-50);
  r.vrrp.start();
  r.clock.advanceTo(10_000);
  assert.ok(r.sent.length > 0 && r.sent.every((s) => s.priority === 50));
});

test('a backup whose priority rises moves its pending master-down time by the change of skew (keepalived)', () => {
  const r = rig({ priority: 100 });
  r.vrrp.start(); // master down at 3609.375
  r.clock.advanceTo(1000);
  r.vrrp.setPriorityAdjustment(100); // 200: skew 218.75, 390.625 ms sooner
  r.clock.advanceTo(3218.749);
  assert.equal(r.vrrp.state, 'backup');
  r.clock.advanceTo(3218.75);
  assert.equal(r.vrrp.state, 'master');
});

test('a tracked priority drop on the master lets a preempting backup take over after its timer (adverts carry the drop)', () => {
  const r = rig({ priority: 150 });
  r.vrrp.start();
  r.clock.advanceTo(3417.96875); // 3000 + (256 - 150) x 1000 / 256
  assert.equal(r.vrrp.state, 'master');
  r.vrrp.setPriorityAdjustment(-100);
  r.clock.advanceTo(4417.96875);
  assert.equal(r.sent.at(-1)?.priority, 50);
  r.peer(100); // the peer, now higher, preempts: we give way
  assert.equal(r.vrrp.state, 'backup');
});

test('a master entering FAULT sends priority 0 first; when the fault clears it comes back as backup', () => {
  const r = rig({ priority: 200 });
  r.vrrp.start();
  r.clock.advanceTo(3218.75);
  r.clock.advanceTo(3500);
  r.vrrp.setFault(['interface eth1 down']);
  assert.equal(r.vrrp.state, 'fault');
  assert.deepEqual(r.sent.at(-1), { at: 3500, priority: 0 });
  assert.deepEqual(r.vrrp.faultReasons, ['interface eth1 down']);
  assert.match(r.transitions.at(-1)!.reason, /eth1 down/);
  r.clock.advanceTo(20_000);
  r.peer(100); // adverts are ignored in FAULT
  assert.equal(r.vrrp.state, 'fault');
  assert.equal(r.sent.length, 2, 'nothing sent in FAULT');
  r.vrrp.setFault([]);
  assert.equal(r.vrrp.state, 'backup');
  r.clock.advanceTo(20_000 + 3218.75);
  assert.equal(r.vrrp.state, 'master');
  assert.deepEqual(
    r.transitions.map((t) => t.to),
    ['backup', 'master', 'fault', 'backup', 'master'],
  );
  assert.equal(r.vrrp.counters.transitions, 5);
  assert.equal(r.vrrp.counters.becameMaster, 2);
});

test('a fault before start starts in FAULT; a backup in FAULT sends nothing', () => {
  const r = rig({ priority: 100 });
  r.vrrp.setFault(['script chk_mysql failed']);
  r.vrrp.start();
  assert.equal(r.vrrp.state, 'fault');
  r.clock.advanceTo(60_000);
  assert.equal(r.sent.length, 0);
  assert.deepEqual(r.transitions.map((t) => [t.from, t.to]), [['init', 'fault']]);
});

test('initial state MASTER starts as backup (keepalived 2.2.7) and preempts even when configured nopreempt', () => {
  const r = rig({ priority: 100, initialState: 'master', preempt: false, preemptDelayMs: 5000 });
  r.vrrp.start();
  assert.equal(r.vrrp.state, 'backup');
  peerEvery(r, 50, 500, 10_000);
  assertAt(r.transitions.find((t) => t.to === 'master')?.at, 3609.375, 'preempts the lower master at once');
});

test('adverts of another vrid, version, family or address list are refused, counted and do not hold the backup', () => {
  const r = rig({ priority: 100 });
  r.vrrp.start();
  r.clock.advanceTo(1000);
  r.peer(200, { addresses: ['198.18.0.99'] });
  r.peer(200, { version: 2, authType: 0 });
  r.peer(200, { addresses: ['198.18.0.10', '198.18.0.11'] });
  r.peer(200, { vrid: 52 });
  assert.equal(r.vrrp.counters.advertsRejected, 4);
  assert.equal(r.vrrp.counters.advertsReceived, 0);
  assert.match(r.rejected[0], /^addresses: addresses \[198\.18\.0\.99\], ours are \[198\.18\.0\.10\]/);
  assert.match(r.rejected[1], /^version: VRRPv2 IPv4, this instance is VRRPv3 IPv4/);
  assert.match(r.rejected[2], /^count: 2 addresses, ours are 1 \[198\.18\.0\.10\]/);
  assert.match(r.rejected[3], /^vrid: vrid 52, this instance is vrid 51/);
  r.clock.advanceTo(3609.375);
  assert.equal(r.vrrp.state, 'master');
});

test('the options are checked with the instance named', () => {
  const make = (o: Partial<InstanceOptions>): string => {
    try {
      rig(o);
      return 'made';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.match(make({ priority: 0 }), /VRRP instance VI_1: priority 0 is not 1\.\.255/);
  assert.match(make({ vrid: 256 }), /vrid 256/);
  assert.match(make({ version: 2, family: 6, addresses: ['2001:db8::10'], primaryAddress: 'fe80::1' }), /IPv4 only/);
  assert.match(make({ addresses: ['2001:db8::10'] }), /2001:db8::10 is not an IPv4 address/);
  assert.match(make({ addresses: [] }), /no addresses/);
});

test('stop from backup sends nothing; start again after stop works', () => {
  const r = rig({ priority: 100 });
  r.vrrp.start();
  r.vrrp.stop();
  assert.equal(r.sent.length, 0);
  assert.equal(r.clock.pending, 0);
  r.vrrp.start();
  assert.equal(r.vrrp.state, 'backup');
  assert.deepEqual(r.transitions.map((t) => [t.from, t.to]), [['init', 'backup'], ['backup', 'stopped'], ['stopped', 'backup']]);
});

test('a VRRPv2 instance with an auth key sends auth type 1 and the key in every advert (priority 0 too); without one, type 0', () => {
  const key = simplePasswordKey('secret').key;
  const adverts: Advert[] = [];
  const clock = new VirtualClock();
  const withKey = new VrrpInstance({ ...BASE_OPTIONS, version: 2, name: 'VI_1', priority: 255, primaryAddress: '198.18.1.1', authKey: key }, clock, {
    send: (a) => adverts.push(a),
    transition: () => {},
  });
  withKey.start();
  clock.advanceTo(3000);
  withKey.stop();
  assert.ok(adverts.length >= 3 && adverts.at(-1)!.priority === 0, `${adverts.length} adverts`);
  for (const a of adverts) {
    assert.equal(a.authType, 1);
    assert.deepEqual(a.authData, key);
    // what the encoder makes of it passes the peer's check with the same password, and only with it
    const decoded = decodeAdvert({ data: encodeAdvert(a, '198.18.1.1', '224.0.0.18'), src: '198.18.1.1', dst: '224.0.0.18', ttl: 255, family: 4, ifindex: 1 });
    assert.ok('advert' in decoded);
    assert.equal(authProblem(decoded.advert, key), undefined);
    assert.match(authProblem(decoded.advert, simplePasswordKey('other').key) ?? '', /password other than/);
  }
  const plain: Advert[] = [];
  const without = new VrrpInstance({ ...BASE_OPTIONS, version: 2, name: 'VI_2', priority: 255, primaryAddress: '198.18.1.1' }, clock, { send: (a) => plain.push(a), transition: () => {} });
  without.start();
  assert.equal(plain[0].authType, 0);
  assert.equal(plain[0].authData, undefined);
  assert.throws(() => new VrrpInstance({ ...BASE_OPTIONS, version: 3, name: 'V3', priority: 100, primaryAddress: '198.18.1.1', authKey: key }, clock, { send: () => {}, transition: () => {} }), /VRRP instance V3: VRRPv3 has no authentication/);
  assert.throws(() => new VrrpInstance({ ...BASE_OPTIONS, version: 2, name: 'V2', priority: 100, primaryAddress: '198.18.1.1', authKey: Buffer.from('secret') }, clock, { send: () => {}, transition: () => {} }), /auth key must be 8 bytes/);
});
