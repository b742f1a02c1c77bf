// The default listing (one service dump, then a destination dump per service, written by
// format/table.ts): on a table with IPv4, IPv6, fwmarks, real servers of the other family behind
// tunnels, scheduler flags, persistence with pe sip and live connections, it is the bytes
// ipvsadm prints, sorted, unsorted and with names, with the C dump transport and without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FULL_TABLE, asRestoreInput, ipvsadm, lvsdAsync, setUpNamespace } from '../../support/ipvs-lab';

// A service on the director itself with live connections from here: ActiveConn is not 0.
const LIVE = [
  ['-A', '-t', '198.18.0.1:7000', '-s', 'rr'],
  ['-a', '-t', '198.18.0.1:7000', '-r', '198.18.0.1:7000', '-g', '-w', '2'],
];
// Two services with the same fwmark, IPv4 and IPv6: told apart by family only.
const SAME_MARK = [
  ['-A', '-f', '3', '-s', 'rr'],
  ['-a', '-f', '3', '-r', '198.18.1.80', '-g'],
  ['-A', '-f', '3', '-6', '-s', 'wlc'],
  ['-a', '-f', '3', '-6', '-r', '2001:db8:0:6::20', '-g', '-w', '9'],
];
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

for (const env of [{}, { LVSD_NATIVE: '0' }]) {
  const how = env.LVSD_NATIVE ? 'on sockets of its own' : 'through the C transport';
  test(`lvsd ipvs list -n is byte-identical to ipvsadm -Ln, live connections counted (destination dumps ${how})`, async () => {
    const [mine, nosort, named] = await Promise.all([
      lvsdAsync(['ipvs', 'list', '-n'], undefined, env),
      lvsdAsync(['ipvs', 'list', '-n', '--nosort'], undefined, env),
      lvsdAsync(['ipvs', 'list'], undefined, env),
    ]);
    assert.equal(mine, ipvsadm(['-L', '-n']));
    assert.match(mine, /-> 198\.18\.0\.1:7000 +Route +2 +[1-9]\d* +\d+/); // live connections counted
    assert.equal(nosort, ipvsadm(['-L', '-n', '--nosort']));
    assert.equal(named, ipvsadm(['-L']));
  });
}

test('a fwmark used by an IPv4 and an IPv6 service: both listed, identical', async () => {
  ipvsadm(['-R'], asRestoreInput(SAME_MARK));
  const mine = await lvsdAsync(['ipvs', 'list', '-n']);
  assert.match(mine, /^FWM  3 rr\n[^]*^FWM  3 IPv6 wlc$/m);
  assert.equal(mine, ipvsadm(['-L', '-n']));
});

test('600 services x 4 real servers list identically, with the C transport and without', async () => {
  const lines: string[][] = [];
  for (let i = 0; i < 600; i++) {
    const vip = `198.18.${10 + (i >> 8)}.${i & 0xff}:8080`;
    lines.push(['-A', '-t', vip, '-s', 'wrr']);
    for (let r = 0; r < 4; r++) lines.push(['-a', '-t', vip, '-r', `198.19.${i >> 6}.${((i & 0x3f) << 2) | r}:80`, '-m', '-w', String(r + 1)]);
  }
  ipvsadm(['-R'], asRestoreInput(lines));
  const sorted = ipvsadm(['-L', '-n']);
  const unsorted = ipvsadm(['-L', '-n', '--nosort']);
  for (const env of [{}, { LVSD_NATIVE: '0' }]) {
    assert.equal(await lvsdAsync(['ipvs', 'list', '-n'], undefined, env), sorted);
    assert.equal(await lvsdAsync(['ipvs', 'list', '-n', '--nosort'], undefined, env), unsorted);
  }
});
