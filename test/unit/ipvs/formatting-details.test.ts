// Corners of ipvsadm's text: inet_ntop's IPv6 forms, the 33/28-character cuts of resolved names,
// brackets, libipvs's wrapping comparators, -c from /proc/net/ip_vs_conn, --daemon, --timeout.
// Expected strings were computed from ipvsadm.c's format strings with Python's % operator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressWords, canonicalAddress, formatIPv6, parseIPv6 } from '../../../src/ipvs/address';
import { formatTable, tableView, writeTable } from '../../../src/ipvs/format/table';
import { formatSave } from '../../../src/ipvs/format/save';
import { namerFrom, numericNamer } from '../../../src/ipvs/format/names';
import { sortRealServers, sortServices, glibcSort } from '../../../src/ipvs/format/sort';
import { formatConnections, parseConnections } from '../../../src/ipvs/format/connections';
import { formatSyncDaemons } from '../../../src/ipvs/format/daemons';
import { formatTimeouts } from '../../../src/ipvs/format/timeouts';
import { tableJson } from '../../../src/ipvs/format/json';
import type { ObservedRealServer, ObservedService, ServiceKey, TableEntry } from '../../../src/ipvs/types';
import { zeroStats } from '../../support/ipvs-table';

function svc(key: ServiceKey, extra: Partial<ObservedService> = {}): ObservedService {
  return { key, scheduler: 'wlc', flags: 0, timeout: 0, netmask: key.family === 'inet' ? '255.255.255.255' : 128, stats: zeroStats(), ...extra };
}
function rs(family: 'inet' | 'inet6', address: string, port: number, extra: Partial<ObservedRealServer> = {}): ObservedRealServer {
  return { key: { family, address, port }, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: zeroStats(), ...extra };
}
const INFO = { version: 0x010201, connectionTableSize: 4096 };

test('IPv6 text is written as glibc inet_ntop writes it', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:1:2:3:4:5:0', '2001:db8:1:2:3:4:5:0'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['::ffff:198.18.0.1', '::ffff:198.18.0.1'],
    ['::198.18.0.1', '::198.18.0.1'],
    ['2001:db8::', '2001:db8::'],
    ['FE80::ABCD', 'fe80::abcd'],
  ];
  for (const [input, want] of cases) assert.equal(formatIPv6(parseIPv6(input)!), want, input);
  assert.equal(parseIPv6('2001:db8::1::2'), undefined);
  assert.equal(parseIPv6('2001:db8:1:2:3:4:5:6:7'), undefined);
  assert.deepEqual(addressWords('198.18.0.1'), [0xc6120001, 0, 0, 0]);
  assert.deepEqual(addressWords('2001:db8::1'), [0x20010db8, 0, 0, 1]);
});

test('services sort by fwmark, family, protocol, address, port; the C subtraction wraps past 2^31', () => {
  const keys: ServiceKey[] = [
    { family: 'inet', fwmark: 2 },
    { family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 },
    { family: 'inet', protocol: 'udp', address: '198.18.0.1', port: 53 },
    { family: 'inet', protocol: 'tcp', address: '198.18.0.1', port: 443 },
    { family: 'inet', protocol: 'tcp', address: '198.18.0.1', port: 80 },
    { family: 'inet', protocol: 'sctp', address: '198.18.0.1', port: 80 },
    { family: 'inet6', fwmark: 1 },
    { family: 'inet', fwmark: 1 },
  ];
  const sorted = sortServices(keys, (k) => k);
  assert.deepEqual(sorted.map((k) => (k.fwmark !== undefined ? `fwm ${k.fwmark} ${k.family}` : `${k.family} ${k.protocol} ${k.address}:${k.port}`)), [
    'inet tcp 198.18.0.1:80',
    'inet tcp 198.18.0.1:443',
    'inet udp 198.18.0.1:53',
    'inet sctp 198.18.0.1:80',
    'inet6 tcp 2001:db8::1:80',
    'fwm 1 inet',
    'fwm 1 inet6',
    'fwm 2 inet',
  ]);
  // 203.0.113.1 - 10.0.0.1 exceeds 2^31: libipvs's int result is negative, so it sorts first
  const wrapped = sortRealServers([rs('inet', '198.18.0.1', 80), rs('inet', '203.0.113.1', 80), rs('inet', '1.0.0.1', 80)]);
  assert.deepEqual(wrapped.map((r) => r.key.address), ['198.18.0.1', '203.0.113.1', '1.0.0.1']);
});

test('glibcSort is the top-down merge sort, stable', () => {
  const items = [3, 1, 2, 1, 0].map((v, i) => ({ v, i }));
  assert.deepEqual(glibcSort(items, (a, b) => a.v - b.v).map((x) => x.i), [4, 1, 3, 2, 0]);
});

test('resolved names: IPv4 service names cut at 33 characters, real servers at 28, IPv6 never; brackets stay', () => {
  const names = new Map([
    ['198.18.0.10', 'a-very-long-virtual-host-name.example.test'],
    ['198.18.1.1', 'a-very-long-real-server-name.example.test'],
    ['2001:db8::1', 'v6-virtual.example.test'],
    ['2001:db8::21', 'v6-real-server-with-long-name.example.test'],
  ]);
  const namer = namerFrom((_f, a) => names.get(a), (port, proto) => (port === 80 && proto === 'tcp' ? 'http' : undefined));
  const entries: TableEntry[] = [
    { service: svc({ family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 80 }), realServers: [rs('inet', '198.18.1.1', 80)] },
    { service: svc({ family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 8080 }), realServers: [rs('inet6', '2001:db8::21', 8080)] },
  ];
  const text = formatTable(INFO, entries, { mode: 'default', exact: false, sort: true, namer });
  assert.equal(
    text,
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  a-very-long-virtual-host-nam wlc\n' +
      '  -> a-very-long-real-server-name Route   1      0          0         \n' +
      'TCP  [v6-virtual.example.test]:8080 wlc\n' +
      '  -> [v6-real-server-with-long-name.example.test]:8080 Route   1      0          0         \n',
  );
  assert.equal(
    formatSave(entries, namer),
    '-A -t a-very-long-virtual-host-name.example.test:http -s wlc\n' +
      '-a -t a-very-long-virtual-host-name.example.test:http -r a-very-long-real-server-name.example.test:http -g -w 1\n' +
      '-A -t [v6-virtual.example.test]:8080 -s wlc\n' +
      '-a -t [v6-virtual.example.test]:8080 -r [v6-real-server-with-long-name.example.test]:8080 -g -w 1\n',
  );
});

test('a name outside ASCII is written as UTF-8, and the lines after it are whole', () => {
  const namer = namerFrom((_f, a) => (a === '198.18.1.1' ? 'bücher.example' : undefined), () => undefined);
  const entries: TableEntry[] = [
    { service: svc({ family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 80 }), realServers: [rs('inet', '198.18.1.1', 80), rs('inet', '198.18.1.2', 80)] },
  ];
  const bytes = writeTable(INFO, tableView(entries), { mode: 'default', exact: false, sort: true, namer });
  assert.deepEqual(
    bytes,
    Buffer.from(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  198.18.0.10:80 wlc\n' +
        '  -> bücher.example:80            Route   1      0          0         \n' +
        '  -> 198.18.1.2:80                Route   1      0          0         \n',
      'utf8',
    ),
  );
});

const PROC =
  'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n' +
  'TCP C6120064 D431 C612000A 0050 C6120101 0050 ESTABLISHED     899\n' +
  'TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D431 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 2001:0db8:0000:0000:0000:0000:0000:0021 01BB SYN_RECV         61\n' +
  'UDP C6120064 13C4 C612000A 13C4 C6120101 13C4 UDP            3600 sip call-id-1\n';

test('-c reprints /proc/net/ip_vs_conn as ipvsadm does', () => {
  const conns = parseConnections(PROC);
  assert.equal(conns.length, 3);
  assert.deepEqual(conns[0].client, { family: 'inet', address: '198.18.0.100', port: 54321 });
  assert.equal(
    formatConnections(conns, numericNamer, false),
    'IPVS connection entries\npro expire state       source             virtual            destination\nTCP 14:59  ESTABLISHED 198.18.0.100:54321 198.18.0.10:80     198.18.1.1:80\nTCP 01:01  SYN_RECV    [2001:db8::64]:54321 [2001:db8::1]:443  [2001:db8::21]:443\nUDP 60:00  UDP         198.18.0.100:5060  198.18.0.10:5060   198.18.1.1:5060\n',
  );
  assert.equal(
    formatConnections(conns, numericNamer, true),
    'IPVS connection entries\npro expire state       source             virtual            destination        pe name          pe_data\nTCP 14:59  ESTABLISHED 198.18.0.100:54321 198.18.0.10:80     198.18.1.1:80\nTCP 01:01  SYN_RECV    [2001:db8::64]:54321 [2001:db8::1]:443  [2001:db8::21]:443\nUDP 60:00  UDP         198.18.0.100:5060  198.18.0.10:5060   198.18.1.1:5060  sip                call-id-1\n',
  );
});

test('--daemon and --timeout lines', () => {
  assert.equal(
    formatSyncDaemons([
      { state: 'master', mcastInterface: 'eth0', syncId: 0, maxLength: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
      { state: 'backup', mcastInterface: 'lo', syncId: 9 },
    ]),
    'master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\nbackup sync daemon (mcast=lo, syncid=9)\n',
  );
  assert.equal(formatTimeouts({ tcp: 900, tcpFin: 120, udp: 300 }), 'Timeout (tcp tcpfin udp): 900 120 300\n');
});

test('--json: services with their real servers, 64-bit counters as decimal strings', () => {
  const big = { ...zeroStats(), inBytes: 18_446_744_073_709_551_615n };
  const entries: TableEntry[] = [
    {
      service: svc({ family: 'inet6', fwmark: 3 }, { scheduler: 'mh', flags: 0x1 | 0x8, timeout: 300, netmask: 64, persistenceEngine: 'sip', stats: big }),
      realServers: [rs('inet6', '2001:db8:0:0::21', 0, { forward: 'tunnel', tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'remcsum' })],
    },
  ];
  const json = JSON.parse(JSON.stringify(tableJson(INFO, entries, true)));
  assert.equal(json.version, '1.2.1');
  const s = json.services[0];
  assert.deepEqual(
    [s.family, s.fwmark, s.protocol, s.scheduler, s.schedulerFlags, s.persistent, s.persistenceTimeout, s.persistenceNetmask, s.persistenceEngine, s.onePacket],
    ['inet6', 3, null, 'mh', ['mh-fallback'], true, 300, 64, 'sip', false],
  );
  assert.equal(s.stats.inBytes, '18446744073709551615');
  assert.deepEqual(s.realServers[0].tunnel, { type: 'gue', port: 6080, checksum: 'remcsum' });
  assert.equal(s.realServers[0].address, '2001:db8::21');
  assert.equal(canonicalAddress('inet6', '2001:DB8::0:21'), '2001:db8::21');
});
