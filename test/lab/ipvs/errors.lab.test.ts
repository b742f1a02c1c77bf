// Each way the kernel refuses an IPVS request reaches the caller as words naming the service or
// real server, with the kernel's errno kept; ipvsadm is asked the same to prove the kernel agrees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { IpvsError, PermissionError } from '../../../src/errors';
import { openIpvs, NetlinkIpvsClient } from '../../../src/ipvs/client';
import { applyOne } from '../../../src/ipvs/helpers';
import type { IpvsOp, RealServer, VirtualService } from '../../../src/ipvs/types';
import { setUpNamespace } from '../../support/ipvs-lab';
import { repoForNobody } from '../../support/runtime-copy';

let client: NetlinkIpvsClient;
before(async () => {
  setUpNamespace();
  client = await openIpvs();
});
after(() => client?.close());

/** One change, sent as every change is (apply); rejects with the kernel's refusal in words. */
const one = (op: IpvsOp) => applyOne(client, op);

const svc: VirtualService = { key: { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 }, scheduler: 'wrr', flags: 0, timeout: 0, netmask: '255.255.255.255' };
const rs = (address: string, forward: RealServer['forward'] = 'route'): RealServer => ({
  key: { family: address.includes(':') ? 'inet6' : 'inet', address, port: 3306 },
  forward,
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
});

async function refusal(p: Promise<unknown>): Promise<{ cls: string; message: string; errno?: number }> {
  try {
    await p;
  } catch (e) {
    return { cls: (e as Error).constructor.name, message: (e as Error).message, errno: (e as { errno?: number }).errno };
  }
  assert.fail('the kernel accepted the request');
}

const ipvsadmFails = (...args: string[]) => {
  const r = spawnSync('ipvsadm', args, { encoding: 'utf8' });
  assert.notEqual(r.status, 0, `ipvsadm ${args.join(' ')} succeeded`);
  return r.stderr.trim();
};

test('EEXIST: the service already exists', async () => {
  await one({ kind: 'add-service', service: svc });
  assert.deepEqual(await refusal(one({ kind: 'add-service', service: svc })), { cls: 'IpvsError', message: 'service 198.18.0.10:3306 already exists', errno: 17 });
  assert.match(ipvsadmFails('-A', '-t', '198.18.0.10:3306', '-s', 'wrr'), /Service already exists/);
});

test('ESRCH: no such service (delete, edit, add a real server, zero)', async () => {
  const missing = { family: 'inet' as const, protocol: 'tcp' as const, address: '198.18.0.99', port: 1 };
  const words = { cls: 'IpvsError', message: 'no such service 198.18.0.99:1', errno: 3 };
  assert.deepEqual(await refusal(one({ kind: 'delete-service', service: missing })), words);
  assert.deepEqual(await refusal(one({ kind: 'edit-service', service: { ...svc, key: missing } })), words);
  assert.deepEqual(await refusal(one({ kind: 'add-server', service: missing, server: rs('198.18.1.1') })), words);
  assert.deepEqual(await refusal(one({ kind: 'zero', service: missing })), words);
  assert.deepEqual(await refusal(client.listService(missing)), words);
  assert.match(ipvsadmFails('-D', '-t', '198.18.0.99:1'), /No such service/);
});

test('ENOENT on real server operations: no such real server', async () => {
  const words = { cls: 'IpvsError', message: 'no such real server 198.18.9.9:3306 in service 198.18.0.10:3306', errno: 2 };
  assert.deepEqual(await refusal(one({ kind: 'delete-server', service: svc.key, server: rs('198.18.9.9').key })), words);
  assert.deepEqual(await refusal(one({ kind: 'edit-server', service: svc.key, server: rs('198.18.9.9') })), words);
  assert.match(ipvsadmFails('-d', '-t', '198.18.0.10:3306', '-r', '198.18.9.9:3306'), /No such destination/);
});

test('EEXIST on a real server added twice', async () => {
  await one({ kind: 'add-server', service: svc.key, server: rs('198.18.1.1') });
  assert.deepEqual(await refusal(one({ kind: 'add-server', service: svc.key, server: rs('198.18.1.1') })), {
    cls: 'IpvsError',
    message: 'real server 198.18.1.1:3306 already exists in service 198.18.0.10:3306',
    errno: 17,
  });
});

test('ENOENT on NEW_SERVICE: the scheduler or persistence engine module cannot be loaded', async () => {
  const other = { family: 'inet' as const, protocol: 'tcp' as const, address: '198.18.0.10', port: 3307 };
  assert.deepEqual(await refusal(one({ kind: 'add-service', service: { ...svc, key: other, scheduler: 'xyz' } })), {
    cls: 'IpvsError',
    message: "scheduler 'xyz' is not available: its kernel module could not be loaded",
    errno: 2,
  });
  assert.deepEqual(await refusal(one({ kind: 'add-service', service: { ...svc, key: other, flags: 1, timeout: 60, persistenceEngine: 'nope' } })), {
    cls: 'IpvsError',
    message: "persistence engine 'nope' is not available: its kernel module could not be loaded",
    errno: 2,
  });
  assert.match(ipvsadmFails('-A', '-t', '198.18.0.10:3307', '-s', 'xyz'), /Scheduler or persistence engine not found/);
});

test('EINVAL on adding a real server whose address is not unicast here (DR and tunnel)', async () => {
  // 198.19.255.255 is the broadcast address of the namespace's 198.18.0.1/15
  for (const forward of ['route', 'tunnel'] as const) {
    const r = await refusal(one({ kind: 'add-server', service: svc.key, server: rs('198.19.255.255', forward) }));
    assert.equal(r.errno, 22);
    assert.equal(r.cls, 'IpvsError');
    assert.match(r.message, new RegExp(`^real server 198\\.19\\.255\\.255:3306 is not routable for this forwarding method \\(${forward}\\)`));
  }
  assert.match(ipvsadmFails('-a', '-t', '198.18.0.10:3306', '-r', '198.19.255.255:3306', '-g'), /Invalid operation/);
});

test('EINVAL on a real server of another family without a tunnel', async () => {
  const r = await refusal(one({ kind: 'add-server', service: svc.key, server: rs('2001:db8::20', 'route') }));
  assert.equal(r.errno, 22);
  assert.match(r.message, /^real server \[2001:db8::20\]:3306 is not of the family of service 198\.18\.0\.10:3306: mixed families need the tunnel forwarding method$/);
});

test('sync daemon: already running, and stopping one that is not', async () => {
  await one({ kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'lab0', syncId: 1 } });
  assert.deepEqual(await refusal(one({ kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'lab0', syncId: 1 } })), {
    cls: 'IpvsError',
    message: 'a master sync daemon is already running',
    errno: 17,
  });
  // right after its start: a stop before the kernel thread has run gets no netlink answer at all
  // (-EINTR), which once left this test waiting 120 s; it is stopped all the same
  await one({ kind: 'stop-daemon', state: 'master' });
  assert.deepEqual(await client.readSyncDaemons(), []);
  const r = await refusal(one({ kind: 'stop-daemon', state: 'backup' }));
  assert.equal(r.message, 'no backup sync daemon is running');
});

test('a sync daemon stopped in the same send as its start: every apply ends at once and the daemon is gone', async (t) => {
  // the stop reaches the kernel before the new thread can have run: the kernel stops it and
  // returns -EINTR, for which netlink sends no answer at all (without care: a 120 s wait)
  const before = execFileSync('dmesg', { encoding: 'utf8' }).length;
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const r = await client.apply([
      { kind: 'start-daemon', daemon: { state: 'master', mcastInterface: 'lab0', syncId: 3 } },
      { kind: 'stop-daemon', state: 'master' },
    ]);
    assert.deepEqual(r, { applied: 2, failed: [], skipped: 0 });
    assert.ok(Date.now() - started < 10_000, `apply ${i} took ${Date.now() - started} ms`);
    assert.deepEqual(await client.readSyncDaemons(), []);
  }
  // how many stops came before their thread ran (no "sync thread started" line for its pid)
  const log = execFileSync('dmesg', { encoding: 'utf8' }).slice(before);
  const started = (log.match(/sync thread started: state = MASTER/g) ?? []).length;
  const stopped = (log.match(/stopping master sync thread/g) ?? []).length;
  t.diagnostic(`start and stop in one send, 5 times: ${stopped - started} of ${stopped} stops came before the thread ran (answered by nothing); all applied`);
});

test('EINVAL on starting a sync daemon while a mixed-family tunnel real server exists', async () => {
  const v6 = { family: 'inet6' as const, protocol: 'tcp' as const, address: '2001:db8::10', port: 3306 };
  await one({ kind: 'add-service', service: { ...svc, key: v6, netmask: 128 } });
  try {
    await one({ kind: 'add-server', service: v6, server: { ...rs('198.18.0.40', 'tunnel'), tunnelType: 'ipip' } });
    const r = await refusal(one({ kind: 'start-daemon', daemon: { state: 'backup', mcastInterface: 'lab0', syncId: 2 } }));
    assert.equal(r.errno, 22);
    assert.match(r.message, /^the kernel refused the backup sync daemon: .*address family differs from its service's/);
    assert.match(ipvsadmFails('--start-daemon', 'backup', '--mcast-interface', 'lab0'), /Invalid/i);
  } finally {
    await one({ kind: 'delete-service', service: v6 });
  }
});

test('EPERM without CAP_NET_ADMIN: permission denied in words', () => {
  // a child that is not root: its netlink requests are refused by GENL_ADMIN_PERM; it loads the
  // client from a copy it can read wherever the checkout sits
  const script = `require(${JSON.stringify(join(repoForNobody(), 'dist', 'src', 'ipvs', 'client.js'))}).openIpvs()
    .then(c => c.apply([{ kind: 'flush' }])).then((r) => { if (r.failed.length) throw r.failed[0].error; }).then(() => console.log('accepted'), e => console.log(JSON.stringify([e.constructor.name, e.message, e.errno])))`;
  const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), ['PermissionError', 'permission denied: needs CAP_NET_ADMIN', 1]);
  assert.ok(new PermissionError('x', { errno: 1 }) instanceof Error && !(new PermissionError('x') instanceof IpvsError));
});
