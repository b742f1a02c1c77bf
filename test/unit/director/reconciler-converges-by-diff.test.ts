// The reconciler against the fake kernel (src/ipvs/fake.ts): minimal writes, ownership, drains,
// and convergence after the kernel changed under it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceId } from '../../../src/director/model';
import { Reconciler, type DesiredService } from '../../../src/director/reconciler';
import { FakeIpvs } from '../../../src/ipvs/fake';
import type { IpvsOp, RealServer, VirtualService } from '../../../src/ipvs/types';
import { server, service } from '../../support/director-specs';

function desiredOf(specs: ReturnType<typeof service>[], deadlineMs = 60_000): Map<string, DesiredService> {
  return new Map(
    specs.map((s) => [
      s.id,
      {
        service: s.service,
        servers: new Map(s.servers.map((x) => [x.id, x.server])),
        known: new Set(s.servers.map((x) => x.id)),
        drainDeadlineMs: deadlineMs,
      },
    ]),
  );
}

function setup(specs: () => ReturnType<typeof service>[], opts: { owned?: string[]; now?: () => number; ipvs?: FakeIpvs } = {}) {
  const ipvs = opts.ipvs ?? new FakeIpvs();
  const r = new Reconciler({
    ipvs,
    desired: (ids) => {
      const all = desiredOf(specs());
      if (!ids) return all;
      return new Map([...all].filter(([id]) => ids.has(id)));
    },
    configured: () => new Set(specs().map((s) => s.id)),
    owned: opts.owned,
    now: opts.now,
  });
  return { ipvs, r };
}

const kinds = (ops: readonly IpvsOp[]) => ops.map((o) => o.kind);

test('a config is programmed in one pass, and the same desired state again writes nothing', async () => {
  const cfg = [service('198.18.0.10', 3306, [server('198.18.0.21', 3306, 2), server('198.18.0.22', 3306, 1)]), service('198.18.0.11', 80, [server('198.18.0.31', 80)])];
  const { ipvs, r } = setup(() => cfg);
  const first = await r.pass({ observe: true });
  assert.deepEqual(kinds(first.ops), ['add-service', 'add-server', 'add-server', 'add-service', 'add-server']);
  const table = await ipvs.readTable();
  assert.equal(table.length, 2);
  assert.deepEqual(table.find((e) => e.service.key.port === 3306)!.realServers.map((e) => e.server.weight).sort(), [1, 2]);
  const before = ipvs.applied.length;
  assert.equal((await r.pass({ observe: true })).ops.length, 0);
  assert.equal((await r.pass({})).ops.length, 0);
  assert.equal(ipvs.applied.length, before, 'no write at all');
});

test('one changed weight among many services gives exactly one edit', async () => {
  const cfg = Array.from({ length: 200 }, (_, i) => service(`198.18.${1 + (i >> 8)}.${i & 255}`, 3306, [server('198.19.0.1', 3306), server('198.19.0.2', 3306)]));
  const { ipvs, r } = setup(() => cfg);
  await r.pass({ observe: true });
  const n = ipvs.applied.length;
  cfg[117] = service(cfg[117].service.key.address!, 3306, [server('198.19.0.1', 3306, 5), server('198.19.0.2', 3306)]);
  const res = await r.pass({});
  assert.deepEqual(kinds(res.ops), ['edit-server']);
  assert.equal(ipvs.applied.length, n + 1);
  assert.equal((res.ops[0] as { server: RealServer }).server.weight, 5);
});

test('services it does not own are never touched', async () => {
  const ipvs = new FakeIpvs();
  const other: VirtualService = { key: { family: 'inet', protocol: 'tcp', address: '198.18.5.5', port: 22 }, scheduler: 'rr', flags: 0, timeout: 0, netmask: '255.255.255.255' };
  await ipvs.apply([{ kind: 'add-service', service: other }, { kind: 'add-server', service: other.key, server: server('198.18.5.6', 22).server }]);
  const { r } = setup(() => [service('198.18.0.10', 80, [server('198.18.0.21', 80)])], { ipvs });
  await r.pass({ observe: true });
  await r.pass({ observe: true });
  const kept = (await ipvs.readTable()).find((e) => e.service.key.address === '198.18.5.5');
  assert.ok(kept, 'the foreign service is still there');
  assert.equal(kept.realServers.length, 1);
  assert.ok(!r.ownedServices().has(serviceId(other.key)));
});

test('a configured service already in the kernel is adopted without a write', async () => {
  const ipvs = new FakeIpvs();
  const spec = service('198.18.0.10', 80, [server('198.18.0.21', 80)]);
  await ipvs.apply([{ kind: 'add-service', service: spec.service }, { kind: 'add-server', service: spec.service.key, server: spec.servers[0].server }]);
  const n = ipvs.applied.length;
  const { r } = setup(() => [spec], { ipvs });
  const res = await r.pass({ observe: true });
  assert.equal(res.ops.length, 0);
  assert.equal(ipvs.applied.length, n);
  assert.ok(r.ownedServices().has(spec.id));
});

test('manual edits to an owned service are repaired on the next read', async () => {
  const spec = service('198.18.0.10', 80, [server('198.18.0.21', 80, 4)]);
  const { ipvs, r } = setup(() => [spec]);
  await r.pass({ observe: true });
  // an operator with ipvsadm: weight changed, scheduler changed
  await ipvs.apply([
    { kind: 'edit-server', service: spec.service.key, server: { ...spec.servers[0].server, weight: 1 } },
    { kind: 'edit-service', service: { ...spec.service, scheduler: 'rr' } },
  ]);
  const res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops).sort(), ['edit-server', 'edit-service']);
  const e = (await ipvs.readTable())[0];
  assert.equal(e.service.scheduler, 'wrr');
  assert.equal(e.realServers[0].server.weight, 4);
});

test('a server added behind its back is drained to weight 0, then deleted only after two reads show it idle', async () => {
  const spec = service('198.18.0.10', 80, [server('198.18.0.21', 80)]);
  let t = 0;
  const { ipvs, r } = setup(() => [spec], { now: () => t });
  await r.pass({ observe: true });
  const stray = server('198.18.0.66', 80, 5).server;
  await ipvs.apply([{ kind: 'add-server', service: spec.service.key, server: stray }]);
  ipvs.setObserved(spec.service.key, stray.key, { activeConns: 3, inactiveConns: 1 });
  let res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops), ['edit-server'], 'first sighting: weight 0, never a delete');
  assert.equal((await ipvs.readTable())[0].realServers.find((e) => e.server.key.address === '198.18.0.66')!.server.weight, 0);
  t += 1000;
  res = await r.pass({ observe: true });
  assert.equal(res.ops.length, 0, 'connections left: it stays');
  ipvs.setObserved(spec.service.key, stray.key, { activeConns: 0, inactiveConns: 0 });
  res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops), ['delete-server']);
  assert.equal((await ipvs.readTable())[0].realServers.length, 1);
});

test('a server removed from the config drains until its deadline, then goes', async () => {
  const a = server('198.18.0.21', 80);
  const b = server('198.18.0.22', 80);
  let cfg = [service('198.18.0.10', 80, [a, b])];
  let t = 0;
  const { ipvs, r } = setup(() => cfg, { now: () => t });
  await r.pass({ observe: true });
  ipvs.setObserved(cfg[0].service.key, b.server.key, { activeConns: 2 });
  cfg = [service('198.18.0.10', 80, [a])];
  let res = await r.pass({});
  assert.deepEqual(kinds(res.ops), ['edit-server']);
  t += 30_000;
  res = await r.pass({ observe: true });
  assert.equal(res.ops.length, 0, 'still busy, deadline not reached');
  t += 31_000;
  res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops), ['delete-server'], 'deadline passed: deleted with connections left');
});

test('an owned service gone from the config is drained, then deleted', async () => {
  const keep = service('198.18.0.10', 80, [server('198.18.0.21', 80)]);
  const gone = service('198.18.0.11', 80, [server('198.18.0.31', 80)]);
  let cfg = [keep, gone];
  const { ipvs, r } = setup(() => cfg);
  await r.pass({ observe: true });
  cfg = [keep];
  let res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops), ['edit-server'], 'weight 0 first');
  res = await r.pass({ observe: true });
  assert.deepEqual(kinds(res.ops), ['delete-service']);
  assert.deepEqual((await ipvs.readTable()).map((e) => e.service.key.address), ['198.18.0.10']);
  assert.ok(!r.ownedServices().has(gone.id));
});

test('a service deleted behind its back is put back (ESRCH: read again and converge)', async () => {
  const spec = service('198.18.0.10', 80, [server('198.18.0.21', 80)]);
  const { ipvs, r } = setup(() => [spec]);
  await r.pass({ observe: true });
  await ipvs.apply([{ kind: 'delete-service', service: spec.service.key }]);
  spec.servers[0] = server('198.18.0.21', 80, 9); // a weight change the model will try as an edit
  const res = await r.pass({});
  assert.ok(res.observed, 'it read the kernel again after the refusal');
  const e = await ipvs.readTable();
  assert.equal(e.length, 1);
  assert.equal(e[0].realServers[0].server.weight, 9);
  assert.equal(r.errors.size, 0);
});

test('a refused service is reported and the others converge', async () => {
  const ipvs = new FakeIpvs({ schedulers: ['rr', 'wrr'] });
  const bad = service('198.18.0.11', 80, [server('198.18.0.31', 80)]);
  bad.service = { ...bad.service, scheduler: 'mh' };
  const good = service('198.18.0.10', 80, [server('198.18.0.21', 80)]);
  const { r } = setup(() => [bad, good], { ipvs });
  const res = await r.pass({ observe: true });
  assert.ok(res.failed.length >= 1);
  assert.match(r.errors.get(bad.id) ?? '', /scheduler 'mh' is not available/);
  const table = await ipvs.readTable();
  assert.deepEqual(table.map((e) => e.service.key.address), ['198.18.0.10']);
  assert.equal(table[0].realServers.length, 1);
});
