// Services and real servers survive lvsd types -> IPVS netlink request -> decode -> lvsd types,
// for random values of every field (property-based), through the same code the client uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { opMessage } from '../../../src/ipvs/client';
import { realServerFromAttrs, serviceFromAttrs } from '../../../src/ipvs/codec';
import { canonicalAddress } from '../../../src/ipvs/address';
import { Cmd, cmdAttrs } from '../../../src/ipvs/spec';
import { parseGenl } from '../../../src/netlink/genl';
import { decode } from '../../../src/netlink/schema';
import { parseMessages } from '../../../src/netlink/wire';
import { SCHEDULERS, type IpvsOp, type RealServer, type ServiceKey, type VirtualService } from '../../../src/ipvs/types';

const FAMILY_ID = 0x1c;

function request(op: IpvsOp) {
  const [m] = parseMessages(opMessage(FAMILY_ID, op));
  assert.equal(m.header.type, FAMILY_ID);
  const g = parseGenl(m);
  return { cmd: g.cmd, version: g.version, attrs: decode(cmdAttrs, g.attrs) };
}

const v4mask = fc.integer({ min: 0, max: 32 }).map((p) => {
  const n = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
});

const keyArb: fc.Arbitrary<ServiceKey> = fc.oneof(
  fc.record({ family: fc.constantFrom('inet' as const, 'inet6' as const), fwmark: fc.integer({ min: 1, max: 0xffffffff }) }, { noNullPrototype: true }),
  fc
    .tuple(fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }))
    .map(([protocol, address, port]) => {
      const family = address.includes(':') ? ('inet6' as const) : ('inet' as const);
      return { family, protocol, address: canonicalAddress(family, address), port };
    }),
);

const serviceArb: fc.Arbitrary<VirtualService> = fc
  .tuple(
    keyArb,
    fc.constantFrom(...SCHEDULERS),
    fc.subarray([0x1, 0x4, 0x8, 0x10, 0x20]),
    fc.nat({ max: 0xffffffff }),
    v4mask,
    fc.integer({ min: 1, max: 128 }),
    fc.option(fc.constant('sip'), { nil: undefined }),
  )
  .map(([key, scheduler, flags, timeout, mask4, prefix6, pe]) => {
    const svc: VirtualService = { key, scheduler, flags: flags.reduce((a, b) => a | b, 0), timeout, netmask: key.family === 'inet' ? mask4 : prefix6 };
    if (pe) svc.persistenceEngine = pe;
    return svc;
  });

const serverArb: fc.Arbitrary<RealServer> = fc
  .tuple(
    fc.oneof(fc.ipV4(), fc.ipV6()),
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom('masq' as const, 'local' as const, 'tunnel' as const, 'route' as const),
    fc.integer({ min: 0, max: 0x7fffffff }),
    fc.nat({ max: 0xffffffff }),
    fc.nat({ max: 0xffffffff }),
    fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const),
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom('nocsum' as const, 'csum' as const, 'remcsum' as const),
  )
  .map(([address, port, forward, weight, u, l, tunnelType, tunnelPort, checksum]) => {
    const family = address.includes(':') ? ('inet6' as const) : ('inet' as const);
    const rs: RealServer = { key: { address: canonicalAddress(family, address), port, family }, forward, weight, upperThreshold: u, lowerThreshold: l };
    if (forward === 'tunnel') {
      rs.tunnelType = tunnelType;
      if (tunnelType === 'gue') rs.tunnelPort = tunnelPort;
      if (tunnelType !== 'ipip') rs.tunnelChecksum = checksum;
    }
    return rs;
  });

test('property: a service round-trips through NEW_SERVICE and SET_SERVICE', () => {
  fc.assert(
    fc.property(serviceArb, fc.constantFrom('add-service' as const, 'edit-service' as const), (svc, kind) => {
      const r = request({ kind, service: svc });
      assert.equal(r.cmd, kind === 'add-service' ? Cmd.NEW_SERVICE : Cmd.SET_SERVICE);
      assert.equal(r.version, 1);
      const { stats, ...back } = serviceFromAttrs(r.attrs.service ?? {});
      assert.deepEqual(back, svc);
      assert.equal(stats.conns, 0n);
    }),
    { numRuns: 1000 },
  );
});

test('property: a real server round-trips through NEW_DEST, with its service identity', () => {
  fc.assert(
    fc.property(keyArb, serverArb, (key, rs) => {
      const r = request({ kind: 'add-server', service: key, server: rs });
      assert.equal(r.cmd, Cmd.NEW_DEST);
      const { stats, activeConns, inactiveConns, persistentConns, ...back } = realServerFromAttrs(r.attrs.dest ?? {}, key.family);
      assert.deepEqual(back, rs);
      assert.deepEqual([activeConns, inactiveConns, persistentConns, stats.inBytes], [0, 0, 0, 0n]);
      // the service part carries identity only
      const svcBack = r.attrs.service ?? {};
      assert.equal(svcBack.schedName, undefined);
      assert.equal(svcBack.fwmark, key.fwmark);
    }),
    { numRuns: 1000 },
  );
});

test('delete and identity-only requests carry identity attributes only', () => {
  const key: ServiceKey = { family: 'inet6', protocol: 'udp', address: '2001:db8::1', port: 53 };
  const del = request({ kind: 'delete-server', service: key, server: { family: 'inet', address: '198.18.1.1', port: 0 } });
  assert.equal(del.cmd, Cmd.DEL_DEST);
  assert.deepEqual(Object.keys(del.attrs.dest ?? {}).sort(), ['addr', 'addrFamily', 'port']);
  assert.deepEqual(Object.keys(del.attrs.service ?? {}).sort(), ['addr', 'af', 'port', 'protocol']);
  const fw = request({ kind: 'delete-service', service: { family: 'inet', fwmark: 9 } });
  assert.deepEqual(fw.attrs.service, { af: 2, fwmark: 9 });
  assert.deepEqual(request({ kind: 'flush' }).attrs, {});
  assert.deepEqual(request({ kind: 'set-timeouts', timeouts: { tcp: 900, tcpFin: 0, udp: 300 } }).attrs, { timeoutTcp: 900, timeoutTcpFin: 0, timeoutUdp: 300 });
});

test('the IPVS byte layout of a NEW_SERVICE request matches libipvs', () => {
  const m = opMessage(FAMILY_ID, {
    kind: 'add-service',
    service: { key: { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 }, scheduler: 'wlc', flags: 0, timeout: 0, netmask: '255.255.255.255' },
  });
  // nlmsghdr(16) + genlmsghdr(cmd 1, version 1) + IPVS_CMD_ATTR_SERVICE nest
  assert.equal(m.readUInt16LE(4), FAMILY_ID);
  assert.deepEqual([m[16], m[17]], [1, 1]);
  const svc = m.subarray(20 + 4);
  const hex = svc.toString('hex');
  assert.ok(hex.startsWith('0600010002000000'), 'IPVS_SVC_ATTR_AF u16 AF_INET');
  assert.ok(hex.includes('06000200' + '0600' + '0000'), 'IPVS_SVC_ATTR_PROTOCOL u16 IPPROTO_TCP');
  assert.ok(hex.includes('14000300' + 'c612000a' + '0'.repeat(24)), 'IPVS_SVC_ATTR_ADDR: 16 bytes, IPv4 first');
  assert.ok(hex.includes('06000400' + '0cea'), 'IPVS_SVC_ATTR_PORT in network order');
  assert.ok(hex.includes('0c000700' + '00000000' + 'ffffffff'), 'IPVS_SVC_ATTR_FLAGS: struct ip_vs_flags with a full mask');
  assert.ok(hex.includes('08000900' + 'ffffffff'), 'IPVS_SVC_ATTR_NETMASK');
});

test('bad addresses are refused before anything is encoded', () => {
  assert.throws(
    () => opMessage(FAMILY_ID, { kind: 'delete-service', service: { family: 'inet', protocol: 'tcp', address: '2001:db8::1', port: 1 } }),
    /virtual service address: "2001:db8::1" is not an IPv4 address/,
  );
  assert.throws(
    () => opMessage(FAMILY_ID, { kind: 'add-service', service: { key: { family: 'inet6', fwmark: 1 }, scheduler: 'rr', flags: 0, timeout: 0, netmask: 129 } }),
    /prefix length "129" is not 1..128/,
  );
  assert.throws(
    () => opMessage(FAMILY_ID, { kind: 'add-service', service: { key: { family: 'inet', fwmark: 1 }, scheduler: 'a-very-long-scheduler', flags: 0, timeout: 0, netmask: '255.255.255.255' } }),
    /IPVS_SVC_ATTR_SCHED_NAME: "a-very-long-scheduler" is longer than 15 bytes/,
  );
});
