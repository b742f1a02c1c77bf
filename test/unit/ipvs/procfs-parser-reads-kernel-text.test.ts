// /proc/net/ip_vs as the lab kernel wrote it (test/fixtures/ipvs/proc-net-ip_vs.txt) parses into
// every service's real servers in kernel order, both families, mixed-family tunnels and fwmarks;
// text that is not the kernel's format is refused with an error naming the line, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { joinKey, parseProcTable, realServersOf } from '../../../src/ipvs/procfs';
import { KernelTextError } from '../../../src/errors';

const FIXTURE = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'ipvs', 'proc-net-ip_vs.txt');
const captured = readFileSync(FIXTURE, 'latin1')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n');

const HEADER = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';

test('every service of the captured table, keyed as the netlink side keys it', () => {
  const t = parseProcTable(captured);
  assert.equal(t.services.size, 15); // 16 service lines, FWM 3 twice
  assert.deepEqual([...t.ambiguous], ['FWM 3']);
  assert.ok(t.services.has(joinKey({ family: 'inet', protocol: 'udp', address: '198.18.0.43', port: 5060 })));
  assert.ok(t.services.has(joinKey({ family: 'inet6', protocol: 'sctp', address: '2001:db8::12', port: 9999 })));
  assert.deepEqual(realServersOf(t, joinKey({ family: 'inet', fwmark: 4294967295 })), []);
  const realServers = [...t.services.values()].reduce((n, r) => n + r.count, 0);
  assert.equal(realServers, 23); // 24 real server lines, one of them under the ambiguous FWM 3
});

test('IPv6 service with real servers of both families (tunnels), in kernel order', () => {
  const t = parseProcTable(captured);
  assert.deepEqual(realServersOf(t, 'tcp 2001:db8::10 80'), [
    { key: { family: 'inet6', address: '2001:db8:0:3::20', port: 80 }, forward: 'tunnel', weight: 1, activeConns: 0, inactiveConns: 0 },
    { key: { family: 'inet', address: '198.18.1.60', port: 80 }, forward: 'tunnel', weight: 1, activeConns: 0, inactiveConns: 0 },
    { key: { family: 'inet6', address: '2001:db8:0:2::20', port: 8080 }, forward: 'masq', weight: 6, activeConns: 0, inactiveConns: 0 },
    { key: { family: 'inet6', address: '2001:db8:0:1::20', port: 80 }, forward: 'route', weight: 5, activeConns: 0, inactiveConns: 0 },
  ]);
});

test('port 0, weight 65535, fwmark services and one-packet/persistent flags after the scheduler', () => {
  const t = parseProcTable(captured);
  assert.deepEqual(realServersOf(t, 'tcp 198.18.0.45 0'), [
    { key: { family: 'inet', address: '198.18.1.52', port: 0 }, forward: 'route', weight: 65535, activeConns: 0, inactiveConns: 0 },
  ]);
  assert.equal(realServersOf(t, 'FWM 1')?.length, 2);
  assert.equal(realServersOf(t, 'udp 198.18.0.44 53')?.[0].key.port, 5353);
});

test('connection counts are read', () => {
  const t = parseProcTable(`${HEADER}TCP  C6120001:1B58 rr  \n  -> C6120001:1B58      Local   2      17         4         \n`);
  assert.deepEqual(realServersOf(t, 'tcp 198.18.0.1 7000'), [
    { key: { family: 'inet', address: '198.18.0.1', port: 7000 }, forward: 'local', weight: 2, activeConns: 17, inactiveConns: 4 },
  ]);
});

test('an empty table is no services', () => {
  assert.equal(parseProcTable(HEADER).services.size, 0);
});

const BAD: [string, string, RegExp][] = [
  ['not the file', 'hello\n', /line 1: not the line that starts "IP Virtual Server version "/],
  ['title missing', 'IP Virtual Server version 1.2.1 (size=4096)\n', /line 2: /],
  ['real server first', `${HEADER}  -> C6120001:0050      Route   1      0          0         \n`, /line 4: real server before any service/],
  ['unknown protocol', `${HEADER}ICMP  C6120001:0050 rr  \n`, /line 4: protocol "ICMP"/],
  ['short address', `${HEADER}TCP  C61201:0050 rr  \n`, /line 4: an IPv4 address is not 8 hex digits/],
  ['bad port', `${HEADER}TCP  C6120001:50 rr  \n`, /line 4: a port is not 4 hex digits/],
  ['bad IPv6', `${HEADER}TCP  [2001:db8::zz]:0050 rr \n`, /line 4: not a bracketed IPv6 address/],
  ['short IPv6', `${HEADER}TCP  [2001:0db8:0000:0000:0000:0000:0000]:0050 rr \n`, /line 4: not a bracketed IPv6 address/],
  ['unknown forwarding', `${HEADER}TCP  C6120001:0050 rr  \n  -> C6120002:0050      Bypass  1      0          0         \n`, /line 5: forwarding method unknown/],
  ['not a number', `${HEADER}TCP  C6120001:0050 rr  \n  -> C6120002:0050      Route   x      0          0         \n`, /line 5: weight is not a number/],
  ['extra field', `${HEADER}TCP  C6120001:0050 rr  \n  -> C6120002:0050      Route   1      0          0          9\n`, /line 5: more fields/],
  ['missing field', `${HEADER}TCP  C6120001:0050 rr  \n  -> C6120002:0050      Route   1      0\n`, /line 5: InActConn is not a number/],
  ['no final newline', `${HEADER}TCP  C6120001:0050 rr  `, /line 4: line without an end/],
];

for (const [what, text, message] of BAD) {
  test(`malformed: ${what}, refused naming the line`, () => {
    assert.throws(
      () => parseProcTable(text),
      (err: unknown) => err instanceof KernelTextError && message.test(err.message) && err.message.startsWith('/proc/net/ip_vs line '),
    );
  });
}

test('any cut or changed byte of the captured text parses or is refused cleanly, never a crash', () => {
  fc.assert(
    fc.property(fc.nat(captured.length), fc.nat(255), fc.boolean(), (at, byte, cut) => {
      const text = cut ? captured.slice(0, at) : captured.slice(0, at) + String.fromCharCode(byte) + captured.slice(at + 1);
      try {
        parseProcTable(text);
      } catch (err) {
        assert.ok(err instanceof KernelTextError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});
