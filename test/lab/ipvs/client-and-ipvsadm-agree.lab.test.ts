// With ipvsadm as the judge: a table exercising every scheduler, flag, forwarding method, tunnel
// type, family, protocol and fwmark, programmed by the client is what ipvsadm lists, and the same
// table programmed by ipvsadm is what the client reads. Then every other command, both ways,
// each sent as an op through apply (the one way a change reaches the kernel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { openIpvs, NetlinkIpvsClient } from '../../../src/ipvs/client';
import type { IpvsOp, ObservedRealServer, ObservedService, TableEntry } from '../../../src/ipvs/types';
import { lvsd, setUpNamespace } from '../../support/ipvs-lab';
import { TYPED_TABLE, typedTableListedLines, typedTableSaveLines } from '../../support/ipvs-typed-table';

const ipvsadm = (...args: string[]) => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const ipvsadmIn = (input: string, ...args: string[]) => execFileSync('ipvsadm', args, { encoding: 'utf8', input });
const sorted = (text: string) => text.split('\n').filter(Boolean).sort();

let client: NetlinkIpvsClient;
before(async () => {
  setUpNamespace();
  client = await openIpvs();
});
after(() => client?.close());

/** Applies ops that must all be accepted. */
async function applyAll(...ops: IpvsOp[]): Promise<void> {
  const r = await client.apply(ops);
  assert.deepEqual(r.failed.map((f) => f.error.message), []);
  assert.equal(r.applied, ops.length);
}

function tableOps(): IpvsOp[] {
  return TYPED_TABLE.flatMap((e): IpvsOp[] => [
    { kind: 'add-service', service: e.service },
    ...e.servers.map((s): IpvsOp => ({ kind: 'add-server', service: e.service.key, server: s.server })),
  ]);
}

function settingsOf(entries: TableEntry[]) {
  const strip = (s: ObservedService) => {
    const { stats, ...rest } = s;
    return rest;
  };
  const stripRs = (r: ObservedRealServer) => {
    const { stats, activeConns, inactiveConns, persistentConns, ...rest } = r;
    return rest;
  };
  const key = (o: { key: unknown }) => JSON.stringify(o.key);
  return entries
    .map((e) => ({ service: strip(e.service), realServers: e.realServers.map(stripRs).sort((a, b) => key(a).localeCompare(key(b))) }))
    .sort((a, b) => key(a.service).localeCompare(key(b.service)));
}

function expectedSettings(withThresholds: boolean) {
  return settingsOf(
    TYPED_TABLE.map((e) => ({
      service: { ...e.service, stats: undefined as never },
      realServers: e.servers.map((s) => ({
        ...s.server,
        // ipvsadm's save format carries no thresholds, and writes "local" as -g (route)
        ...(withThresholds ? {} : { upperThreshold: 0, lowerThreshold: 0, forward: s.server.forward === 'local' ? ('route' as const) : s.server.forward }),
        stats: undefined as never,
        activeConns: 0,
        inactiveConns: 0,
        persistentConns: 0,
      })),
    })),
  );
}

test('programmed by the client in one batch: ipvsadm -S -n lists exactly the table', async () => {
  const result = await client.apply(tableOps());
  assert.deepEqual(result.failed.map((f) => f.error.message), []);
  assert.equal(result.applied, tableOps().length);
  assert.deepEqual(sorted(ipvsadm('-S', '-n')), typedTableListedLines().sort());
});

test('thresholds set by the client are what ipvsadm -L -n --thresholds shows', () => {
  const listed = ipvsadm('-L', '-n', '--thresholds');
  for (const e of TYPED_TABLE) {
    for (const { server } of e.servers) {
      if (!server.upperThreshold && !server.lowerThreshold) continue;
      const addr = server.key.family === 'inet6' ? `[${server.key.address}]:${server.key.port}` : `${server.key.address}:${server.key.port}`;
      const line = listed.split('\n').find((l) => l.startsWith(`  -> ${addr} `));
      assert.ok(line, `${addr} in\n${listed}`);
      assert.deepEqual(line.trim().split(/\s+/).slice(2, 4), [String(server.upperThreshold), String(server.lowerThreshold)]);
    }
  }
});

test('read back by the client (listTable, readTable, listService): the same table', async () => {
  const table = await client.listTable();
  assert.deepEqual(settingsOf(table), expectedSettings(true));
  const read = await client.readTable();
  assert.deepEqual(
    settingsOf(read.map((e) => ({ service: { ...e.service, ...e.observed }, realServers: e.realServers.map((r) => ({ ...r.server, ...r.observed })) }))),
    expectedSettings(true),
  );
  for (const e of TYPED_TABLE) {
    const { stats, ...svc } = (await client.listService(e.service.key)).service;
    assert.deepEqual(svc, e.service);
  }
});

test('programmed by ipvsadm -R: the client reads exactly the table', async () => {
  await applyAll({ kind: 'flush' });
  assert.equal(ipvsadm('-S', '-n'), '');
  ipvsadmIn(typedTableSaveLines().join('\n') + '\n', '-R');
  assert.deepEqual(settingsOf(await client.listTable()), expectedSettings(false));
});

test('edits and deletes by the client show in ipvsadm', async () => {
  const e = TYPED_TABLE[0];
  const server = e.servers[1].server;
  await applyAll(
    { kind: 'edit-service', service: { ...e.service, scheduler: 'wrr', flags: 0x1, timeout: 77, netmask: '255.255.0.0' } },
    { kind: 'edit-server', service: e.service.key, server: { ...server, weight: 9, upperThreshold: 5, lowerThreshold: 2 } },
    { kind: 'delete-server', service: e.service.key, server: e.servers[0].server.key },
  );
  const save = ipvsadm('-S', '-n').split('\n').filter((l) => l.includes(' 198.18.0.10:80 '));
  assert.deepEqual(save, ['-A -t 198.18.0.10:80 -s wrr -p 77 -M 255.255.0.0', '-a -t 198.18.0.10:80 -r 198.18.2.10:8080 -m -w 9']);
  assert.match(ipvsadm('-L', '-n', '--thresholds', '-t', '198.18.0.10:80'), /-> 198\.18\.2\.10:8080\s+5\s+2\s/);
  await applyAll({ kind: 'delete-service', service: e.service.key });
  assert.doesNotMatch(ipvsadm('-S', '-n'), /198\.18\.0\.10:80/);
});

test('timeouts both ways; 0 keeps a value', async () => {
  ipvsadm('--set', '800', '100', '250');
  assert.deepEqual(await client.readTimeouts(), { tcp: 800, tcpFin: 100, udp: 250 });
  await applyAll({ kind: 'set-timeouts', timeouts: { tcp: 1000, tcpFin: 0, udp: 200 } });
  assert.equal(ipvsadm('-L', '--timeout'), 'Timeout (tcp tcpfin udp): 1000 100 200\n');
});

/** Conns InPkts OutPkts InBytes OutBytes of a service, as `ipvsadm -L -n --stats --exact` shows them. */
function statsOf(service: string): number[] {
  const line = ipvsadm('-L', '-n', '--stats', '--exact').split('\n').find((l) => l.startsWith(`TCP  ${service} `));
  assert.ok(line, `${service} listed`);
  return line.trim().split(/\s+/).slice(2, 7).map(Number);
}

test('lvsd ipvs zero: counters of real traffic back to 0, one service, then all; flush empties the table', async () => {
  await applyAll({ kind: 'flush' });
  // this namespace's own connections: IPVS schedules locally sent SYNs to the NAT real servers
  // (addresses on the dummy interface, so the SYNs go nowhere and are counted once each)
  const services = ['198.18.0.70:7000', '198.18.0.71:7000'];
  for (const [i, vip] of services.entries()) {
    const key = { family: 'inet' as const, protocol: 'tcp' as const, address: vip.split(':')[0], port: 7000 };
    await applyAll(
      { kind: 'add-service', service: { key, scheduler: 'rr', flags: 0, timeout: 0, netmask: '255.255.255.255' } },
      { kind: 'add-server', service: key, server: { key: { family: 'inet', address: `198.18.9.${30 + i}`, port: 7001 }, forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 } },
    );
  }
  const sockets: Socket[] = [];
  for (const vip of services) {
    for (let i = 0; i < 3; i++) {
      const s = connect({ host: vip.split(':')[0], port: 7000 });
      s.on('error', () => undefined);
      sockets.push(s);
    }
  }
  // bounded wait until the kernel has counted every connection
  for (let i = 0; i < 50 && !services.every((v) => statsOf(v)[0] === 3); i++) await new Promise((r) => setTimeout(r, 100));
  for (const s of sockets) s.destroy(); // no more SYNs: nothing counts after this
  for (const v of services) {
    const [conns, inPkts, , inBytes] = statsOf(v);
    assert.equal(conns, 3, `${v} counted 3 connections`);
    assert.ok(inPkts >= 3 && inBytes > 0, `${v} counted packets and bytes: ${statsOf(v)}`);
  }
  lvsd(['ipvs', 'zero', '-t', services[0]]);
  assert.deepEqual(statsOf(services[0]), [0, 0, 0, 0, 0]);
  assert.equal(statsOf(services[1])[0], 3, 'the other service keeps its counters');
  lvsd(['ipvs', 'zero']);
  assert.deepEqual(statsOf(services[1]), [0, 0, 0, 0, 0]);
  for (const e of await client.readTable()) assert.equal(e.observed.stats.conns, 0n);
  lvsd(['ipvs', 'flush', '--yes']);
  assert.equal(ipvsadm('-S', '-n'), '');
  assert.deepEqual(await client.readTable(), []);
});

test('sync daemons both ways: master and backup with interface, syncid, maxlen, group, port, ttl', async () => {
  await applyAll({ kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'lab0', syncId: 7, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 } });
  ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'lab0', '--syncid', '9');
  assert.match(ipvsadm('-L', '--daemon'), /^master sync daemon \(mcast=lab0, syncid=7, maxlen=1400, group=239\.1\.2\.3, port=8849, ttl=3\)$/m);
  const daemons = await client.readSyncDaemons();
  assert.deepEqual(daemons.find((d) => d.state === 'master'), { state: 'master', mcastInterface: 'lab0', syncId: 7, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 });
  const backup = daemons.find((d) => d.state === 'backup');
  assert.equal(backup?.mcastInterface, 'lab0');
  assert.equal(backup?.syncId, 9);
  assert.match(ipvsadm('-L', '--daemon'), new RegExp(`^backup sync daemon \\(mcast=lab0, syncid=9, maxlen=${backup?.maxLength}, group=${backup?.mcastGroup?.replace(/\./g, '\\.')}, port=${backup?.mcastPort}, ttl=${backup?.mcastTtl}\\)$`, 'm'));
  await applyAll({ kind: 'stop-daemon', state: 'backup' }, { kind: 'stop-daemon', state: 'master' });
  assert.equal(ipvsadm('-L', '--daemon'), '');
  assert.deepEqual(await client.readSyncDaemons(), []);
});

test('an IPv6 multicast group for the sync daemon', async () => {
  await applyAll({ kind: 'start-daemon', daemon: { state: 'backup', mcastInterface: 'lab0', syncId: 3, mcastGroup: 'ff15::1:3', mcastPort: 8850 } });
  assert.match(ipvsadm('-L', '--daemon'), /^backup sync daemon \(mcast=lab0, syncid=3, .*group=ff15::1:3, port=8850/m);
  assert.equal((await client.readSyncDaemons())[0].mcastGroup, 'ff15::1:3');
  await applyAll({ kind: 'stop-daemon', state: 'backup' });
});

test('apply maps each failure to its op, and stopOnError stops sending', async () => {
  const ops = tableOps().slice(0, 12);
  const dup = [...ops, ops[0], ops[3], { kind: 'delete-service', service: { family: 'inet', fwmark: 999 } } as IpvsOp, ops[1]];
  const r = await client.apply(dup);
  assert.equal(r.applied, 12);
  assert.deepEqual(
    r.failed.map((f) => [f.index, f.error.message]),
    [
      [12, 'service 198.18.0.10:80 already exists'],
      [13, 'service 198.18.0.11:80 already exists'],
      [14, 'no such service fwmark 999'],
      [15, 'real server 198.18.1.10:80 already exists in service 198.18.0.10:80'],
    ],
  );
  await applyAll({ kind: 'flush' });
});

test('stopOnError stops sending: with one op per send, nothing after the refused op reaches the kernel', async () => {
  // a receive buffer this small leaves room for one acknowledged message in flight: one op per
  // send, the next sent only once the previous one is answered
  const oneAtATime = await openIpvs({ recvBufferSize: 1024 });
  try {
    const first = tableOps()[0];
    await applyAll(first);
    const rest = tableOps().slice(2).filter((o) => o.kind === 'add-service');
    assert.ok(rest.length >= 10);
    const stopped = await oneAtATime.apply([first, ...rest], { stopOnError: true });
    assert.deepEqual(stopped.failed.map((f) => [f.index, f.error.message]), [[0, 'service 198.18.0.10:80 already exists']]);
    assert.deepEqual([stopped.applied, stopped.skipped], [0, rest.length], 'nothing sent after the refusal');
    assert.deepEqual(ipvsadm('-S', '-n'), '-A -t 198.18.0.10:80 -s rr\n', 'ipvsadm lists none of the ops after it');
    // without stopOnError the same batch carries out every other op
    const all = await oneAtATime.apply([first, ...rest]);
    assert.deepEqual([all.applied, all.failed.length, all.skipped], [rest.length, 1, 0]);
    assert.equal(ipvsadm('-S', '-n').split('\n').filter((l) => l.startsWith('-A')).length, rest.length + 1);
  } finally {
    oneAtATime.close();
  }
  await applyAll({ kind: 'flush' });
});
