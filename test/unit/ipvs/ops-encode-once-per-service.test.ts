// writeOps (what Ipvs.apply sends) writes all ops into one buffer and encodes a service named by
// several ops in a row once: the bytes are exactly those of each op's message encoded on its own
// by the generic schema encoder from attribute objects written out here, a judge independent of
// codec.ts's writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError, MalformedMessageError } from '../../../src/errors';
import { addrBytes, writeOps } from '../../../src/ipvs/codec';
import { AF_INET, AF_INET6, Cmd, DaemonState, FwdMethod, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SvcFlag, TunnelFlag, TunnelTypeNum, cmdAttrs } from '../../../src/ipvs/spec';
import { parseAddress, parseIPv4 } from '../../../src/ipvs/address';
import { HOST_LE } from '../../../src/netlink/wire';
import type { IpvsOp, RealServer, RealServerKey, ServiceKey, SyncDaemon, VirtualService } from '../../../src/ipvs/types';
import { genlMessage } from '../../../src/netlink/genl';
import { encodeToBuffer } from '../../../src/netlink/schema';

// ---- the reference: each op's attributes as objects, for the generic encoder ----
const AF = { inet: AF_INET, inet6: AF_INET6 };
const PROTO = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };
function serviceKeyAttrs(k: ServiceKey) {
  if (k.fwmark !== undefined) return { af: AF[k.family], fwmark: k.fwmark };
  return { af: AF[k.family], protocol: PROTO[k.protocol], addr: addrBytes(k.family, k.address, 'virtual service address'), port: k.port };
}
function netmaskOf(family: 'inet' | 'inet6', mask: string | number): Buffer {
  const out = Buffer.alloc(4);
  if (family === 'inet') {
    const b = parseIPv4(String(mask));
    if (!b) throw new InputError(`persistence netmask "${mask}" is not a dotted IPv4 mask`);
    out.set(b);
  } else {
    const n = Number(mask);
    if (!Number.isInteger(n) || n < 1 || n > 128) throw new InputError(`persistence prefix length "${mask}" is not 1..128`);
    if (HOST_LE) out.writeUInt32LE(n);
    else out.writeUInt32BE(n);
  }
  return out;
}
function serviceAttrsOf(s: VirtualService) {
  const a: Record<string, unknown> = serviceKeyAttrs(s.key);
  a.schedName = s.scheduler;
  a.flags = { flags: s.flags & ~SvcFlag.HASHED, mask: 0xffffffff };
  a.timeout = s.timeout;
  a.netmask = netmaskOf(s.key.family, s.netmask);
  if (s.persistenceEngine) a.peName = s.persistenceEngine;
  return a;
}
function realServerKeyAttrs(k: RealServerKey): Record<string, unknown> {
  return { addr: addrBytes(k.family, k.address, 'real server address'), port: k.port, addrFamily: AF[k.family] };
}
function realServerAttrsOf(r: RealServer) {
  const a = realServerKeyAttrs(r.key);
  a.fwdMethod = FwdMethod[r.forward];
  a.weight = r.weight;
  a.uThresh = r.upperThreshold;
  a.lThresh = r.lowerThreshold;
  if (r.forward === 'tunnel') {
    const type = r.tunnelType ?? 'ipip';
    a.tunType = TunnelTypeNum[type];
    if (type === 'gue') a.tunPort = r.tunnelPort ?? 0;
    if (type !== 'ipip') a.tunFlags = TunnelFlag[r.tunnelChecksum ?? 'nocsum'];
  }
  return a;
}
function daemonAttrsOf(d: SyncDaemon) {
  const a: Record<string, unknown> = { state: DaemonState[d.state], mcastIfn: d.mcastInterface, syncId: d.syncId };
  if (d.maxLength) a.syncMaxLen = d.maxLength;
  if (d.mcastGroup) {
    const g = parseAddress(d.mcastGroup)!;
    if (g.family === 'inet') a.mcastGroup = Buffer.from(g.bytes);
    else a.mcastGroup6 = Buffer.from(g.bytes);
  }
  if (d.mcastPort) a.mcastPort = d.mcastPort;
  if (d.mcastTtl) a.mcastTtl = d.mcastTtl;
  return a;
}

const key = (address: string, port: number): ServiceKey => ({ family: 'inet', protocol: 'tcp', address, port });
const svc = (k: ServiceKey): VirtualService => ({ key: k, scheduler: 'wrr', flags: 0, timeout: 0, netmask: '255.255.255.255' });
const rs = (address: string, weight: number): RealServer => ({
  key: { family: 'inet', address, port: 80 },
  forward: 'route',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});

test('ops in one buffer: each message is the op encoded on its own, the repeated service included', () => {
  const a = key('198.18.0.1', 80);
  const b = key('198.18.0.2', 80);
  const ops: IpvsOp[] = [
    { kind: 'add-service', service: svc(a) },
    { kind: 'add-server', service: a, server: rs('198.19.0.1', 1) },
    { kind: 'add-server', service: { ...a }, server: rs('198.19.0.2', 2) }, // equal, not the same object
    { kind: 'add-server', service: b, server: rs('198.19.0.3', 3) },
    { kind: 'delete-server', service: b, server: rs('198.19.0.3', 3).key },
    { kind: 'zero', service: { family: 'inet6', fwmark: 7 } },
    { kind: 'zero' },
    { kind: 'edit-server', service: a, server: rs('198.19.0.1', 5) },
  ];
  const expected = [
    genlMessage(0x30, Cmd.NEW_SERVICE, 1, cmdAttrs, { service: serviceAttrsOf(svc(a)) }),
    genlMessage(0x30, Cmd.NEW_DEST, 1, cmdAttrs, { service: serviceKeyAttrs(a), dest: realServerAttrsOf(rs('198.19.0.1', 1)) }),
    genlMessage(0x30, Cmd.NEW_DEST, 1, cmdAttrs, { service: serviceKeyAttrs(a), dest: realServerAttrsOf(rs('198.19.0.2', 2)) }),
    genlMessage(0x30, Cmd.NEW_DEST, 1, cmdAttrs, { service: serviceKeyAttrs(b), dest: realServerAttrsOf(rs('198.19.0.3', 3)) }),
    genlMessage(0x30, Cmd.DEL_DEST, 1, cmdAttrs, { service: serviceKeyAttrs(b), dest: realServerKeyAttrs(rs('198.19.0.3', 3).key) }),
    genlMessage(0x30, Cmd.ZERO, 1, cmdAttrs, { service: serviceKeyAttrs({ family: 'inet6', fwmark: 7 }) }),
    genlMessage(0x30, Cmd.ZERO, 1, cmdAttrs, {}),
    genlMessage(0x30, Cmd.SET_DEST, 1, cmdAttrs, { service: serviceKeyAttrs(a), dest: realServerAttrsOf(rs('198.19.0.1', 5)) }),
  ];
  const { buf, ends } = writeOps(0x30, ops);
  assert.equal(ends.length, ops.length);
  expected.forEach((m, i) => assert.deepEqual(buf.subarray(i ? ends[i - 1] : 0, ends[i]), m, `message ${i}`));
  assert.equal(buf.length, ends[ends.length - 1]);
});

// Each op encoded on its own from attribute objects: what writeOps must give, message by message.
const CMD: Record<IpvsOp['kind'], number> = {
  'add-service': Cmd.NEW_SERVICE,
  'edit-service': Cmd.SET_SERVICE,
  'delete-service': Cmd.DEL_SERVICE,
  'add-server': Cmd.NEW_DEST,
  'edit-server': Cmd.SET_DEST,
  'delete-server': Cmd.DEL_DEST,
  'start-daemon': Cmd.NEW_DAEMON,
  'stop-daemon': Cmd.DEL_DAEMON,
  zero: Cmd.ZERO,
  flush: Cmd.FLUSH,
  'set-timeouts': Cmd.SET_CONFIG,
};
function ownMessage(op: IpvsOp): Buffer {
  // the service key is written first, and so refused first
  if (op.kind === 'delete-service' || op.kind === 'add-server' || op.kind === 'edit-server' || op.kind === 'delete-server' || (op.kind === 'zero' && op.service)) {
    encodeToBuffer(cmdAttrs, { service: serviceKeyAttrs(op.service!) });
  }
  const attrs = (() => {
    switch (op.kind) {
      case 'add-service':
      case 'edit-service':
        return { service: serviceAttrsOf(op.service) };
      case 'delete-service':
        return { service: serviceKeyAttrs(op.service) };
      case 'add-server':
      case 'edit-server':
        return { service: serviceKeyAttrs(op.service), dest: realServerAttrsOf(op.server) };
      case 'delete-server':
        return { service: serviceKeyAttrs(op.service), dest: realServerKeyAttrs(op.server) };
      case 'zero':
        return op.service ? { service: serviceKeyAttrs(op.service) } : {};
      case 'flush':
        return {};
      case 'set-timeouts':
        return { timeoutTcp: op.timeouts.tcp, timeoutTcpFin: op.timeouts.tcpFin, timeoutUdp: op.timeouts.udp };
      case 'start-daemon':
        return { daemon: daemonAttrsOf(op.daemon) };
      case 'stop-daemon':
        return { daemon: { state: DaemonState[op.state] } };
    }
  })();
  return genlMessage(0x30, CMD[op.kind], 1, cmdAttrs, attrs);
}

function failure(f: () => unknown): { error: string } | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof InputError || err instanceof MalformedMessageError, String(err));
    return { error: `${err.constructor.name}: ${err.message}` };
  }
}

// mostly what a restore sends, with every other field and some values the encoders refuse
const sometimes = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ weight: 40, arbitrary: usual }, { weight: 1, arbitrary: odd });
const v4 = sometimes(fc.constantFrom('198.18.0.1', '198.18.0.2', '10.0.0.255', '0.0.0.0'), fc.constantFrom('198.18.0', '2001:db8::1', '198.18.0.01', ''));
const v6 = sometimes(fc.constantFrom('2001:db8::1', '::ffff:198.18.0.1', 'fe80::1'), fc.constantFrom('198.18.0.1', ':::', 'x'));
const port = sometimes(fc.nat(65535), fc.constantFrom(-1, 65536, 1.5));
const u32 = sometimes(fc.nat(5), fc.constantFrom(0xffffffff, 0x100000000, -1, 2.5));
const serviceKey: fc.Arbitrary<ServiceKey> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ family: fc.constant('inet' as const), protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), address: v4, port }) },
  { weight: 1, arbitrary: fc.record({ family: fc.constant('inet6' as const), protocol: fc.constantFrom('tcp' as const, 'udp' as const), address: v6, port }) },
  { weight: 1, arbitrary: fc.record({ family: fc.constantFrom('inet' as const, 'inet6' as const), fwmark: sometimes(fc.integer({ min: 1, max: 0xffffffff }), fc.constantFrom(0x100000000, -1)) }) },
);
const service: fc.Arbitrary<VirtualService> = fc
  .record({
    key: serviceKey,
    scheduler: sometimes(fc.constantFrom('wrr', 'rr', 'sh', 'lblcr'), fc.constantFrom('', 'a-very-long-scheduler', 'é')),
    flags: sometimes(fc.constantFrom(0, 1, 2, 0x3f), fc.constantFrom(-1, 0x100000000)),
    timeout: u32,
    netmask: sometimes(fc.constantFrom('255.255.255.255', '255.255.255.0'), fc.constantFrom(64, 128, 129, 'x', '255.255.0')),
    persistenceEngine: fc.constantFrom(undefined, undefined, 'sip', '', 'a-very-long-engine-name'),
  })
  .map((s) => {
    // the family's own netmask kind, mostly
    if (s.key.family === 'inet6' && typeof s.netmask === 'string' && s.netmask.startsWith('255')) s.netmask = 128;
    if (s.persistenceEngine === undefined) delete s.persistenceEngine;
    return s;
  });
const serverKey = fc.oneof({ weight: 6, arbitrary: fc.record({ family: fc.constant('inet' as const), address: v4, port }) }, { weight: 1, arbitrary: fc.record({ family: fc.constant('inet6' as const), address: v6, port }) });
const server: fc.Arbitrary<RealServer> = fc
  .record({
    key: serverKey,
    forward: fc.constantFrom('route' as const, 'masq' as const, 'local' as const, 'tunnel' as const),
    weight: sometimes(fc.nat(65535), fc.constantFrom(-1, 0x100000000, 1.5)),
    upperThreshold: u32,
    lowerThreshold: u32,
    tunnelType: fc.constantFrom(undefined, 'ipip' as const, 'gue' as const, 'gre' as const),
    tunnelPort: fc.constantFrom(undefined, 6080),
    tunnelChecksum: fc.constantFrom(undefined, 'csum' as const, 'remcsum' as const),
  })
  .map((r) => {
    for (const k of ['tunnelType', 'tunnelPort', 'tunnelChecksum'] as const) if (r[k] === undefined || r.forward !== 'tunnel') delete r[k];
    return r;
  });
const op: fc.Arbitrary<IpvsOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('add-service' as const, 'edit-service' as const), service }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('add-server' as const, 'edit-server' as const), service: serviceKey, server }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-server' as const), service: serviceKey, server: serverKey }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-service' as const), service: serviceKey }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<IpvsOp>(
      { kind: 'zero' },
      { kind: 'flush' },
      { kind: 'set-timeouts', timeouts: { tcp: 900, tcpFin: 0, udp: 300 } },
      { kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'lab0', syncId: 7 } },
      { kind: 'start-daemon', daemon: { state: 'backup', mcastInterface: 'lab0', syncId: 9, maxLength: 1400, mcastGroup: 'ff15::1:3', mcastPort: 8849, mcastTtl: 3 } },
      { kind: 'start-daemon', daemon: { state: 'backup', mcastInterface: 'a-name-too-long-for-the-kernel', syncId: 1 } },
      { kind: 'stop-daemon', state: 'backup' },
    ),
  },
);

test('random ops in one buffer: each message is the op encoded on its own, or writeOps refuses with the same error', () => {
  let refused = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
      // services named by several ops in a row, as in a restore
      for (let i = 1; i < ops.length; i++) {
        const o = ops[i];
        const prev = ops[i - 1];
        if ('service' in o && o.kind !== 'add-service' && o.kind !== 'edit-service' && 'service' in prev && prev.service && i % 3) {
          (o as { service: ServiceKey }).service = 'key' in prev.service ? prev.service.key : prev.service;
        }
      }
      const expectedError = failure(() => ops.forEach(ownMessage));
      if (expectedError) {
        refused++;
        assert.deepEqual(failure(() => writeOps(0x30, ops)), expectedError);
        return;
      }
      const { buf, ends } = writeOps(0x30, ops);
      ops.forEach((o, i) => assert.deepEqual(buf.subarray(i ? ends[i - 1] : 0, ends[i]), ownMessage(o), `message ${i}: ${JSON.stringify(o)}`));
      assert.equal(buf.length, ends[ends.length - 1]);
    }),
    { numRuns: 5000 },
  );
  assert.ok(refused > 200 && refused < 4000, `${refused} of 5000 runs refused`);
});
