// The default listing (`ipvsadm -L [-n]`'s columns) of random tables is the line-by-line
// rendering of ipvsadm's printf formats in libipvs's order: counts and weights of every width,
// both families, every forwarding method, sorted or not, numeric or with names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTable } from '../../../src/ipvs/format/table';
import { namerFrom, numericNamer } from '../../../src/ipvs/format/names';
import { sortRealServers, sortServices } from '../../../src/ipvs/format/sort';
import { FORWARD_NAME } from '../../../src/ipvs/format/fields';
import { formatIPv6 } from '../../../src/ipvs/address';
import type { ForwardMethod, RealServerSummary, TableSummaryEntry, VirtualService } from '../../../src/ipvs/types';

const FORWARDS: ForwardMethod[] = ['masq', 'local', 'tunnel', 'route'];

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
// a few groups, so that sorting meets equal prefixes; written as inet_ntop would
const ipv6 = fc.array(fc.constantFrom(0, 1, 0xdb8, 0xffff, 0x2001), { minLength: 8, maxLength: 8 }).map((g) => {
  const bytes = Buffer.alloc(16);
  g.forEach((v, i) => bytes.writeUInt16BE(v, i * 2));
  return bytes;
});
// counts and weights of every width the kernel's %d may print, negative ones included
const count = fc.oneof(fc.nat(9), fc.nat(99999), fc.integer({ min: -5, max: 2 ** 31 - 1 }));

const realServer = fc.record({
  v6: fc.boolean(),
  v4: ipv4,
  v6bytes: ipv6,
  port: fc.nat(65535),
  forward: fc.constantFrom(...FORWARDS),
  weight: count,
  activeConns: count,
  inactiveConns: count,
});
type Generated = typeof realServer extends fc.Arbitrary<infer T> ? T : never;

function summary(rs: Generated): RealServerSummary {
  const address = rs.v6 ? formatIPv6(rs.v6bytes) : rs.v4;
  return { key: { family: rs.v6 ? 'inet6' : 'inet', address, port: rs.port }, forward: rs.forward, weight: rs.weight, activeConns: rs.activeConns, inactiveConns: rs.inactiveConns };
}

/** ipvsadm's print_service_entry for the default columns, one string per line. */
function expectedListing(entries: TableSummaryEntry[], sort: boolean, name: (rs: RealServerSummary) => string, serviceLine: (s: VirtualService) => string): string {
  let out = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  for (const e of sort ? sortServices(entries, (x) => x.service.key) : entries) {
    out += serviceLine(e.service) + '\n';
    for (const rs of sort ? sortRealServers(e.realServers) : e.realServers) {
      out += `  -> ${name(rs).padEnd(28)} ${FORWARD_NAME[rs.forward].padEnd(7)} ${String(rs.weight).padEnd(6)} ${String(rs.activeConns).padEnd(10)} ${String(rs.inactiveConns).padEnd(10)}\n`;
    }
  }
  return out;
}

const service = fc.record({ address: ipv4, port: fc.nat(65535), scheduler: fc.constantFrom('rr', 'wrr', 'lc') }).map(
  (s): VirtualService => ({ key: { family: 'inet', protocol: 'tcp', address: s.address, port: s.port }, scheduler: s.scheduler, flags: 0, timeout: 0, netmask: '255.255.255.255' }),
);
const table = fc.array(fc.record({ service, realServers: fc.array(realServer.map(summary), { maxLength: 6 }) }), { maxLength: 8 });
const INFO = { version: 0x010201, connectionTableSize: 4096 };
const plainServiceLine = (s: VirtualService) => `TCP  ${s.key.address}:${s.key.port} ${s.scheduler}`;

test('the default listing is ipvsadm -Ln line for line, sorted or not', () => {
  fc.assert(
    fc.property(table, fc.boolean(), (entries, sort) => {
      const text = formatTable(INFO, entries, { mode: 'default', exact: false, sort, namer: numericNamer });
      const numeric = (rs: RealServerSummary) => (rs.key.family === 'inet6' ? `[${rs.key.address}]:${rs.key.port}` : `${rs.key.address}:${rs.key.port}`);
      assert.equal(text, expectedListing(entries, sort, numeric, plainServiceLine));
    }),
    { numRuns: 300 },
  );
});

test('with names, an IPv4 real server name is cut at 28 characters and IPv6 ones are not', () => {
  const namer = namerFrom(
    (_family, address) => (address.endsWith('.7') || address.endsWith('1') ? `a-rather-long-host-name-for-${address}` : undefined),
    () => undefined,
  );
  fc.assert(
    fc.property(table, (entries) => {
      const text = formatTable(INFO, entries, { mode: 'default', exact: false, sort: true, namer });
      const named = (rs: RealServerSummary) => {
        const n = namer.addrPort(rs.key.family, rs.key.address, rs.key.port, 'tcp');
        return rs.key.family === 'inet6' ? n : n.slice(0, 28);
      };
      const serviceLine = (s: VirtualService) => `TCP  ${namer.addrPort('inet', s.key.address!, s.key.port!, 'tcp')}`.slice(0, 33) + ` ${s.scheduler}`;
      assert.equal(text, expectedListing(entries, true, named, serviceLine));
    }),
    { numRuns: 100 },
  );
});
