// What FakeIpvs offers tests beyond the kernel's behaviour: the ops it carried out, how many
// apply calls it had, counters set by the test, and the kernel's modules and interfaces narrowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIpvs } from '../../../src/ipvs/fake';
import type { IpvsOp, RealServer, ServiceKey, VirtualService } from '../../../src/ipvs/types';

const A: ServiceKey = { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 80 };
const svc = (scheduler: string): VirtualService => ({ key: A, scheduler, flags: 0, timeout: 0, netmask: '255.255.255.255' });
const S1: RealServer = { key: { family: 'inet', address: '198.18.1.10', port: 80 }, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 };

test('applied holds exactly the accepted ops, applyCalls every call; reads write nothing', async () => {
  const ipvs = new FakeIpvs();
  const ops: IpvsOp[] = [
    { kind: 'add-service', service: svc('rr') },
    { kind: 'add-service', service: svc('rr') },
    { kind: 'add-server', service: A, server: S1 },
  ];
  const r = await ipvs.apply(ops);
  assert.equal(r.failed.length, 1);
  assert.deepEqual(ipvs.applied, [ops[0], ops[2]]);
  await ipvs.readTable();
  await ipvs.readTimeouts();
  await ipvs.readSyncDaemons();
  await ipvs.apply([]);
  assert.equal(ipvs.applyCalls, 2);
  assert.equal(ipvs.applied.length, 2);
});

test('counters set by the test are read back apart from identity, and zero clears the stats only', async () => {
  const ipvs = new FakeIpvs();
  await ipvs.apply([{ kind: 'add-service', service: svc('wlc') }, { kind: 'add-server', service: A, server: S1 }]);
  ipvs.setObserved(A, S1.key, { activeConns: 3, inactiveConns: 7, stats: { conns: 10n, inBytes: 999n } });
  ipvs.setServiceStats(A, { conns: 10n });
  let [e] = await ipvs.readTable();
  assert.deepEqual(e.realServers[0].server, S1);
  assert.deepEqual([e.realServers[0].observed.activeConns, e.realServers[0].observed.inactiveConns, e.realServers[0].observed.stats.conns, e.realServers[0].observed.stats.inBytes], [3, 7, 10n, 999n]);
  assert.equal(e.observed.stats.conns, 10n);
  await ipvs.apply([{ kind: 'zero' }]);
  [e] = await ipvs.readTable();
  assert.deepEqual([e.observed.stats.conns, e.realServers[0].observed.stats.conns, e.realServers[0].observed.activeConns], [0n, 0n, 3]);
  assert.throws(() => ipvs.setObserved(A, { ...S1.key, port: 81 }, { activeConns: 1 }), /no real server 198\.18\.1\.10:81/);
});

test('a read cannot change the table: its entries are frozen snapshots, and its lists are its own', async () => {
  const ipvs = new FakeIpvs();
  await ipvs.apply([{ kind: 'add-service', service: svc('wlc') }, { kind: 'add-server', service: A, server: S1 }]);
  const [e] = await ipvs.readTable();
  assert.throws(() => {
    e.realServers[0].server.weight = 50;
  }, TypeError);
  assert.throws(() => {
    e.service.scheduler = 'rr';
  }, TypeError);
  const first = e.realServers.pop()!;
  // a later change replaces the stored entry: what was read stays as it was read
  await ipvs.apply([{ kind: 'edit-server', service: A, server: { ...S1, weight: 7 } }]);
  assert.equal(first.server.weight, 1);
  const [again] = await ipvs.readTable();
  assert.equal(again.realServers.length, 1);
  assert.equal(again.realServers[0].server.weight, 7);
  assert.equal(again.service.scheduler, 'wlc');
});

test('only the schedulers given can be loaded; a sync daemon needs an interface that exists', async () => {
  const ipvs = new FakeIpvs({ schedulers: ['rr'], interfaces: ['lab0'] });
  const r = await ipvs.apply([
    { kind: 'add-service', service: svc('wlc') },
    { kind: 'add-service', service: svc('rr') },
    { kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'eth9', syncId: 1 } },
  ]);
  assert.deepEqual(
    r.failed.map((f) => [f.index, f.error.message]),
    [
      [0, "scheduler 'wlc' is not available: its kernel module could not be loaded"],
      [2, "no network interface 'eth9' for the master sync daemon"],
    ],
  );
});

test('after close every read and write fails as on a closed socket', async () => {
  const ipvs = new FakeIpvs();
  ipvs.close();
  await assert.rejects(ipvs.readTable(), /EBADF/);
  const r = await ipvs.apply([{ kind: 'flush' }]);
  assert.equal(r.failed.length, 1);
  assert.match(r.failed[0].error.message, /EBADF/);
});
