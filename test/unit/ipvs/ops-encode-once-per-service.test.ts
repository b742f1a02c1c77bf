// IpvsClient.apply writes all ops into one buffer and encodes a service named by several ops in a
// row once: the bytes are exactly those of each op's message encoded on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeOps } from '../../../src/ipvs/client';
import { realServerAttrsOf, realServerKeyAttrs, serviceAttrsOf, serviceKeyAttrs } from '../../../src/ipvs/codec';
import { Cmd, cmdAttrs } from '../../../src/ipvs/spec';
import type { IpvsOp, RealServer, ServiceKey, VirtualService } from '../../../src/ipvs/types';
import { genlMessage } from '../../../src/netlink/genl';

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
