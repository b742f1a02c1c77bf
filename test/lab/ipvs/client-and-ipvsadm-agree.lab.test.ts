// With ipvsadm as the judge: a table exercising every scheduler, flag, forwarding method, tunnel
// type, family, protocol and fwmark, programmed by the client is what ipvsadm lists, and the same
// table programmed by ipvsadm is what the client reads. Then every other command, both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openIpvs, NetlinkIpvsClient } from '../../../src/ipvs/client';
import type { IpvsOp, ObservedRealServer, ObservedService, TableEntry } from '../../../src/ipvs/types';
import { setUpNamespace } from '../../support/ipvs-lab';
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

test('read back by the client (listTable, listServices, getService): the same table', async () => {
  const table = await client.listTable();
  assert.deepEqual(settingsOf(table), expectedSettings(true));
  assert.equal((await client.listServices()).length, TYPED_TABLE.length);
  for (const e of TYPED_TABLE) {
    const { stats, ...svc } = await client.getService(e.service.key);
    assert.deepEqual(svc, e.service);
  }
});

test('programmed by ipvsadm -R: the client reads exactly the table', async () => {
  await client.flush();
  assert.equal(ipvsadm('-S', '-n'), '');
  ipvsadmIn(typedTableSaveLines().join('\n') + '\n', '-R');
  assert.deepEqual(settingsOf(await client.listTable()), expectedSettings(false));
});

test('edits and deletes by the client show in ipvsadm', async () => {
  const e = TYPED_TABLE[0];
  await client.editService({ ...e.service, scheduler: 'wrr', flags: 0x1, timeout: 77, netmask: '255.255.0.0' });
  const server = e.servers[1].server;
  await client.editRealServer(e.service.key, { ...server, weight: 9, upperThreshold: 5, lowerThreshold: 2 });
  await client.deleteRealServer(e.service.key, e.servers[0].server.key);
  const save = ipvsadm('-S', '-n').split('\n').filter((l) => l.includes(' 198.18.0.10:80 '));
  assert.deepEqual(save, ['-A -t 198.18.0.10:80 -s wrr -p 77 -M 255.255.0.0', '-a -t 198.18.0.10:80 -r 198.18.2.10:8080 -m -w 9']);
  assert.match(ipvsadm('-L', '-n', '--thresholds', '-t', '198.18.0.10:80'), /-> 198\.18\.2\.10:8080\s+5\s+2\s/);
  await client.deleteService(e.service.key);
  assert.doesNotMatch(ipvsadm('-S', '-n'), /198\.18\.0\.10:80/);
});

test('timeouts both ways; 0 keeps a value', async () => {
  ipvsadm('--set', '800', '100', '250');
  assert.deepEqual(await client.getTimeouts(), { tcp: 800, tcpFin: 100, udp: 250 });
  await client.setTimeouts({ tcp: 1000, tcpFin: 0, udp: 200 });
  assert.equal(ipvsadm('-L', '--timeout'), 'Timeout (tcp tcpfin udp): 1000 100 200\n');
});

test('zero (one service and all) and flush', async () => {
  await client.zero(TYPED_TABLE[1].service.key);
  await client.zero();
  assert.match(ipvsadm('-L', '-n', '--stats'), /198\.18\.0\.11:80\s+0\s+0\s+0\s+0\s+0/);
  await client.flush();
  assert.equal(ipvsadm('-S', '-n'), '');
  assert.deepEqual(await client.listTable(), []);
});

test('sync daemons both ways: master and backup with interface, syncid, maxlen, group, port, ttl', async () => {
  await client.startSyncDaemon({ state: 'master', mcastInterface: 'lab0', syncId: 7, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 });
  ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'lab0', '--syncid', '9');
  assert.match(ipvsadm('-L', '--daemon'), /^master sync daemon \(mcast=lab0, syncid=7, maxlen=1400, group=239\.1\.2\.3, port=8849, ttl=3\)$/m);
  const daemons = await client.listSyncDaemons();
  assert.deepEqual(daemons.find((d) => d.state === 'master'), { state: 'master', mcastInterface: 'lab0', syncId: 7, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 });
  const backup = daemons.find((d) => d.state === 'backup');
  assert.equal(backup?.mcastInterface, 'lab0');
  assert.equal(backup?.syncId, 9);
  assert.match(ipvsadm('-L', '--daemon'), new RegExp(`^backup sync daemon \\(mcast=lab0, syncid=9, maxlen=${backup?.maxLength}, group=${backup?.mcastGroup?.replace(/\./g, '\\.')}, port=${backup?.mcastPort}, ttl=${backup?.mcastTtl}\\)$`, 'm'));
  await client.stopSyncDaemon('backup');
  await client.stopSyncDaemon('master');
  assert.equal(ipvsadm('-L', '--daemon'), '');
  assert.deepEqual(await client.listSyncDaemons(), []);
});

test('an IPv6 multicast group for the sync daemon', async () => {
  await client.startSyncDaemon({ state: 'backup', mcastInterface: 'lab0', syncId: 3, mcastGroup: 'ff15::1:3', mcastPort: 8850 });
  assert.match(ipvsadm('-L', '--daemon'), /^backup sync daemon \(mcast=lab0, syncid=3, .*group=ff15::1:3, port=8850/m);
  assert.equal((await client.listSyncDaemons())[0].mcastGroup, 'ff15::1:3');
  await client.stopSyncDaemon('backup');
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
  const stopped = await client.apply([ops[0], ...tableOps().slice(12)], { stopOnError: true });
  assert.equal(stopped.failed[0].index, 0);
  assert.equal(stopped.applied + stopped.failed.length + stopped.skipped, tableOps().slice(12).length + 1);
  await client.flush();
});
