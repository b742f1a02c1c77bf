// Each kernel errno of an IPVS request becomes words that name the service or real server,
// keeping the errno. (The lab test ipvs/errors.lab.test.ts proves the kernel sends these errnos.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpvsError, IpvsUnavailableError, NetlinkError, PermissionError } from '../../../src/errors';
import { describeService, ipvsError, openError } from '../../../src/ipvs/errors';
import type { RealServer, ServiceKey, VirtualService } from '../../../src/ipvs/types';

const nl = (errno: number) => new NetlinkError(`netlink request failed: errno ${errno}`, errno);
const key: ServiceKey = { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 };
const svc: VirtualService = { key, scheduler: 'wrr', flags: 0, timeout: 0, netmask: '255.255.255.255' };
const rs: RealServer = { key: { family: 'inet', address: '198.18.1.1', port: 3306 }, forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 };

function words(err: Error): [string, string, number | undefined] {
  return [err.constructor.name, err.message, (err as { errno?: number }).errno];
}

test('services are named as ipvsadm writes addresses, protocol and fwmark family included', () => {
  assert.equal(describeService(key), '198.18.0.10:3306');
  assert.equal(describeService({ family: 'inet6', protocol: 'udp', address: '2001:db8::1', port: 53 }), '[2001:db8::1]:53/udp');
  assert.equal(describeService({ family: 'inet', fwmark: 5 }), 'fwmark 5');
  assert.equal(describeService({ family: 'inet6', fwmark: 5 }), 'fwmark 5 (IPv6)');
});

test('service errors', () => {
  assert.deepEqual(words(ipvsError({ kind: 'add-service', service: svc }, nl(17))), ['IpvsError', 'service 198.18.0.10:3306 already exists', 17]);
  assert.deepEqual(words(ipvsError({ kind: 'delete-service', service: key }, nl(3))), ['IpvsError', 'no such service 198.18.0.10:3306', 3]);
  assert.deepEqual(words(ipvsError({ kind: 'edit-service', service: svc }, nl(3))), ['IpvsError', 'no such service 198.18.0.10:3306', 3]);
  assert.deepEqual(words(ipvsError({ kind: 'add-service', service: { ...svc, scheduler: 'xyz' } }, nl(2))), [
    'IpvsError',
    "scheduler 'xyz' is not available: its kernel module could not be loaded",
    2,
  ]);
  assert.deepEqual(words(ipvsError({ kind: 'add-service', service: { ...svc, persistenceEngine: 'nope' } }, nl(2))), [
    'IpvsError',
    "persistence engine 'nope' is not available: its kernel module could not be loaded",
    2,
  ]);
});

test('real server errors', () => {
  const add = { kind: 'add-server' as const, service: key, server: rs };
  assert.deepEqual(words(ipvsError(add, nl(3))), ['IpvsError', 'no such service 198.18.0.10:3306', 3]);
  assert.deepEqual(words(ipvsError(add, nl(17))), ['IpvsError', 'real server 198.18.1.1:3306 already exists in service 198.18.0.10:3306', 17]);
  assert.deepEqual(words(ipvsError({ kind: 'delete-server', service: key, server: rs.key }, nl(2))), [
    'IpvsError',
    'no such real server 198.18.1.1:3306 in service 198.18.0.10:3306',
    2,
  ]);
  assert.match(ipvsError(add, nl(22)).message, /^real server 198\.18\.1\.1:3306 is not routable for this forwarding method \(route\)/);
  const mixed = { ...add, server: { ...rs, key: { family: 'inet6' as const, address: '2001:db8::1', port: 1 } } };
  assert.match(ipvsError(mixed, nl(22)).message, /mixed families need the tunnel forwarding method/);
});

test('permission and availability', () => {
  const e = ipvsError({ kind: 'flush' }, nl(1));
  assert.ok(e instanceof PermissionError);
  assert.deepEqual(words(e), ['PermissionError', 'permission denied: needs CAP_NET_ADMIN', 1]);
  const u = openError(new NetlinkError('generic netlink family "IPVS" not found', 2));
  assert.ok(u instanceof IpvsUnavailableError);
  assert.equal(u.message, 'IPVS is not available in this kernel: load the ip_vs module');
});

test('other errnos keep the kernel text, the operation and the subject', () => {
  const e = ipvsError({ kind: 'zero', service: key }, nl(16));
  assert.ok(e instanceof IpvsError);
  assert.equal(e.message, 'zeroing counters failed for service 198.18.0.10:3306: EBUSY (resource busy or locked)');
  assert.ok((e as IpvsError).cause instanceof NetlinkError);
});
