// The default listing takes real servers from /proc/net/ip_vs (one read) instead of one netlink
// dump per service. On a table with IPv4, IPv6, fwmarks, real servers of the other family behind
// tunnels, scheduler flags, persistence with pe sip and live connections, it must still be the
// bytes ipvsadm prints, and it must really come from /proc (not from the netlink fallback).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { FULL_TABLE, asRestoreInput, ipvsadm, lvsdAsync, setUpNamespace } from '../../support/ipvs-lab';
import { openIpvs } from '../../../src/ipvs/client';
import { parseProcTable, realServersOf } from '../../../src/ipvs/procfs';

// A service on the director itself with live connections from here: ActiveConn is not 0.
const LIVE = [
  ['-A', '-t', '198.18.0.1:7000', '-s', 'rr'],
  ['-a', '-t', '198.18.0.1:7000', '-r', '198.18.0.1:7000', '-g', '-w', '2'],
];
// Two services with the same fwmark, IPv4 and IPv6: /proc/net/ip_vs shows both as "FWM 00000003".
const SAME_MARK = [
  ['-A', '-f', '3', '-s', 'rr'],
  ['-a', '-f', '3', '-r', '198.18.1.80', '-g'],
  ['-A', '-f', '3', '-6', '-s', 'wlc'],
  ['-a', '-f', '3', '-6', '-r', '2001:db8:0:6::20', '-g', '-w', '9'],
];
const services = (t: string[][]) => t.filter((a) => a[0] === '-A').length;

let server: Server;
const clients: Socket[] = [];

before(async () => {
  setUpNamespace();
  ipvsadm(['-R'], asRestoreInput([...FULL_TABLE, ...LIVE]));
  server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(7000, '198.18.0.1', resolve));
  for (let i = 0; i < 3; i++) {
    const c = connect(7000, '198.18.0.1');
    c.on('error', () => {});
    await new Promise<void>((resolve) => c.once('connect', resolve));
    clients.push(c);
  }
  // one closed connection: it lingers as an inactive one
  await new Promise<void>((resolve) => clients.shift()!.end(resolve));
  await new Promise((r) => setTimeout(r, 300));
});

after(() => {
  for (const c of clients) c.destroy();
  server?.close();
});

test('the real servers come from /proc/net/ip_vs, one read for every service', async () => {
  const c = await openIpvs();
  try {
    const { services: listed, fromProcfs } = await c.listTableSummary();
    assert.equal(listed.length, services([...FULL_TABLE, ...LIVE]));
    assert.equal(fromProcfs, listed.length);
  } finally {
    c.close();
  }
});

test('/proc/net/ip_vs as the kernel writes it parses, live connection counts included', () => {
  const proc = parseProcTable(readFileSync('/proc/net/ip_vs', 'latin1'));
  assert.equal(proc.services.size, services([...FULL_TABLE, ...LIVE]));
  const live = realServersOf(proc, 'tcp 198.18.0.1 7000');
  assert.equal(live?.length, 1);
  assert.ok(live![0].activeConns + live![0].inactiveConns > 0, `connections counted: ${JSON.stringify(live![0])}`);
});

test('lvsd ipvs list -n (real servers from /proc) is byte-identical to ipvsadm -Ln', async () => {
  const [mine, nosort, named] = await Promise.all([lvsdAsync(['ipvs', 'list', '-n']), lvsdAsync(['ipvs', 'list', '-n', '--nosort']), lvsdAsync(['ipvs', 'list'])]);
  assert.equal(mine, ipvsadm(['-L', '-n']));
  assert.match(mine, /-> 198\.18\.0\.1:7000 +Route +2 +[1-9]\d* +\d+/); // live connections counted
  assert.equal(nosort, ipvsadm(['-L', '-n', '--nosort']));
  assert.equal(named, ipvsadm(['-L']));
});

test('a fwmark used by an IPv4 and an IPv6 service is listed through netlink, still identical', async () => {
  ipvsadm(['-R'], asRestoreInput(SAME_MARK));
  const c = await openIpvs();
  try {
    const { services: listed, fromProcfs } = await c.listTableSummary();
    assert.equal(listed.length, services([...FULL_TABLE, ...LIVE, ...SAME_MARK]));
    assert.equal(fromProcfs, listed.length - 2);
  } finally {
    c.close();
  }
  assert.equal(await lvsdAsync(['ipvs', 'list', '-n']), ipvsadm(['-L', '-n']));
});

test('without a readable /proc listing every service gets a netlink dump, and the listing is the same', async () => {
  const { writeSummary } = await import('../../../src/ipvs/format/table');
  const { numericNamer } = await import('../../../src/ipvs/format/names');
  const fmt = { sort: true, namer: numericNamer };
  const [viaProc, viaNetlink] = [await openIpvs(), await openIpvs({ procPath: '/nonexistent/ip_vs' })];
  try {
    const [info, a, b] = await Promise.all([viaProc.info(), viaProc.listTableSummary(), viaNetlink.listTableSummary()]);
    assert.equal(b.fromProcfs, 0);
    assert.equal(writeSummary(info, b, fmt).toString(), writeSummary(info, a, fmt).toString());
    assert.equal(writeSummary(info, a, fmt).toString(), ipvsadm(['-L', '-n']));
  } finally {
    viaProc.close();
    viaNetlink.close();
  }
});

test('a table whose /proc text passes 64 KiB lists identically, with the C paths and without (worker thread)', async () => {
  // 600 services x 4 real servers: about 150 KiB of /proc/net/ip_vs text
  const lines: string[][] = [];
  for (let i = 0; i < 600; i++) {
    const vip = `198.18.${10 + (i >> 8)}.${i & 0xff}:8080`;
    lines.push(['-A', '-t', vip, '-s', 'wrr']);
    for (let r = 0; r < 4; r++) lines.push(['-a', '-t', vip, '-r', `198.19.${i >> 6}.${((i & 0x3f) << 2) | r}:80`, '-m', '-w', String(r + 1)]);
  }
  ipvsadm(['-R'], asRestoreInput(lines));
  assert.ok(readFileSync('/proc/net/ip_vs').length > 128 << 10);
  const c = await openIpvs();
  try {
    const { fromProcfs, services: listed } = await c.listTableSummary();
    assert.equal(fromProcfs, listed.length - 2); // all but the two sharing fwmark 3
  } finally {
    c.close();
  }
  const sorted = ipvsadm(['-L', '-n']);
  const unsorted = ipvsadm(['-L', '-n', '--nosort']);
  for (const env of [{}, { LVSD_NATIVE: '0' }]) {
    assert.equal(await lvsdAsync(['ipvs', 'list', '-n'], undefined, env), sorted);
    assert.equal(await lvsdAsync(['ipvs', 'list', '-n', '--nosort'], undefined, env), unsorted);
  }
});
