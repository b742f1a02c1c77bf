// What the router does with each packet for one instance (AdvertIntake with a real VrrpInstance on
// a virtual clock): adverts a misconfigured peer sends - another address list, another address
// count, another VRRPv2 interval - and adverts from outside unicast_peers are counted as invalid by
// reason, logged (a warning the first time per reason), not counted as received, and take no part
// in the election, as keepalived 2.2.7 treats them. A good advert is received.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { AdvertIntake, type IntakeOptions } from '../../../src/vrrp/intake';
import { VrrpInstance, type InstanceOptions } from '../../../src/vrrp/instance';
import { encodeAdvert, type Advert, type Received } from '../../../src/vrrp/packet';
import { VirtualClock } from '../../support/vrrp-clock';
import { BASE_OPTIONS } from '../../support/vrrp-lan';

const PEER = '198.18.1.2';
const GROUP = '224.0.0.18';

interface Logged {
  level: number;
  msg: string;
  problem?: string;
}

function rig(options: Partial<InstanceOptions> = {}, unicastPeers: string[] = []) {
  const clock = new VirtualClock();
  const logged: Logged[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as Logged) });
  const o = { ...BASE_OPTIONS, name: 'VI_1', priority: 100, primaryAddress: '198.18.1.1', ...options };
  const intakeOptions: IntakeOptions = { name: o.name, vrid: o.vrid, version: o.version, unicastPeers };
  const intake = new AdvertIntake(intakeOptions, log);
  const vrrp = new VrrpInstance(o, clock, {
    send: () => {},
    transition: () => {},
    rejected: (problem, detail, src) => intake.refuse(src, problem, detail),
  });
  /** the peer's advert (as `over` changes it) arrives on the socket now */
  const peer = (priority: number, over: Partial<Advert> = {}, src = PEER): void => {
    const advert: Advert = { version: o.version, vrid: o.vrid, priority, intervalMs: o.advertIntervalMs, family: 4, addresses: o.addresses, ...over };
    if (advert.version === 2) advert.authType = 0;
    const dst = unicastPeers.length ? o.primaryAddress : GROUP;
    const r: Received = { data: encodeAdvert(advert, src, dst), src, dst, ttl: 255, family: 4, ifindex: 2 };
    intake.take(vrrp, r, () => true);
  };
  return { clock, logged, intake, vrrp, peer };
}

test("a peer with another address list, address count or VRRPv2 interval: counted invalid by reason, warned once per reason, not received, and the backup takes over as if it were silent", () => {
  const r = rig({ version: 2, advertIntervalMs: 1000, addresses: ['198.18.0.10', '198.18.0.11'] });
  r.vrrp.start();
  for (let t = 500; t < 10_000; t += 1000) {
    r.clock.advanceTo(t);
    r.peer(200, { addresses: ['198.18.0.10', '198.18.0.99'] });
    r.peer(200, { addresses: ['198.18.0.10'] });
    r.peer(200, { intervalMs: 2000 });
  }
  assert.deepEqual(r.intake.invalid, { addresses: 10, count: 10, interval: 10 });
  assert.equal(r.intake.received, 0);
  // v2 skew (256 - 100) / 256 s: master 3 s + 609.375 ms after start, the priority-200 peer notwithstanding
  assert.equal(r.vrrp.state, 'master');
  const warnings = r.logged.filter((l) => l.level === 40);
  assert.deepEqual(warnings.map((l) => l.problem), ['addresses', 'count', 'interval']);
  assert.match(warnings[0].msg, /^vrrp VI_1: advert from 198\.18\.1\.2 ignored \(addresses\): addresses \[198\.18\.0\.10, 198\.18\.0\.99\], ours are \[198\.18\.0\.10, 198\.18\.0\.11\]; counted in status$/);
  assert.match(warnings[1].msg, /ignored \(count\): 1 addresses, ours are 2/);
  assert.match(warnings[2].msg, /ignored \(interval\): advert interval 2000 ms, ours is 1000 ms/);
  assert.equal(r.logged.filter((l) => l.level === 20 && l.problem).length, 27, 'the repeats go to debug');
});

test('adverts that pass every check are received and hold the backup', () => {
  const r = rig();
  r.vrrp.start();
  for (let t = 500; t < 10_000; t += 1000) {
    r.clock.advanceTo(t);
    r.peer(200);
  }
  assert.equal(r.intake.received, 10);
  assert.deepEqual(r.intake.invalid, {});
  assert.equal(r.vrrp.state, 'backup');
  assert.equal(r.logged.filter((l) => l.level >= 40).length, 0);
});

test('with unicast_peers, an advert from another source is invalid "source" (not received, warned) and one from a peer is received', () => {
  const r = rig({}, [PEER]);
  r.vrrp.start();
  for (let t = 500; t < 10_000; t += 1000) {
    r.clock.advanceTo(t);
    r.peer(200, {}, '198.18.1.66');
  }
  assert.deepEqual(r.intake.invalid, { source: 10 });
  assert.equal(r.intake.received, 0);
  assert.equal(r.vrrp.state, 'master', 'the stranger did not hold the backup');
  const warnings = r.logged.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].msg, /^vrrp VI_1: advert from 198\.18\.1\.66 ignored \(source\): from 198\.18\.1\.66, not one of unicast_peers; counted in status$/);
  r.peer(200);
  assert.equal(r.intake.received, 1);
  assert.equal(r.vrrp.state, 'backup', "the peer's higher priority took over");
});
