// One set of behaviour cases for anything that implements Ipvs. The host tier runs them against
// FakeIpvs, the lab tier against the kernel through NetlinkIpvsClient: both must give the
// outcomes written here (the same table, the same errors in the same words), so a director test
// that passes on the fake means what it would mean on the kernel.
import assert from 'node:assert/strict';
import type { ApplyResult, Ipvs, IpvsOp, RealServer, RealServerKey, ServiceEntry, ServiceKey, VirtualService } from '../../src/ipvs/types';
import { TYPED_TABLE } from './ipvs-typed-table';

export interface ConformanceTarget {
  /** an empty table, default timeouts (900 120 300), no sync daemon */
  ipvs: Ipvs;
  /** one of the host's own IPv4 addresses (a DR real server on it is reported as Local) */
  localAddress: string;
  /** an interface a sync daemon may use (MTU 1500) */
  syncInterface: string;
}

export interface ConformanceCase {
  name: string;
  run(t: ConformanceTarget): Promise<void>;
}

const tcp = (address: string, port: number): ServiceKey => ({ family: 'inet', protocol: 'tcp', address, port });
const svc = (key: ServiceKey, scheduler = 'wlc', more: Partial<VirtualService> = {}): VirtualService => ({
  key,
  scheduler,
  flags: 0,
  timeout: 0,
  netmask: key.family === 'inet' ? '255.255.255.255' : 128,
  ...more,
});
const rs = (address: string, port: number, forward: RealServer['forward'] = 'route', more: Partial<RealServer> = {}): RealServer => ({
  key: { address, port, family: address.includes(':') ? 'inet6' : 'inet' },
  forward,
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...more,
});

const A = tcp('198.18.0.10', 80);
const B = tcp('198.18.0.11', 80);
const C = tcp('198.18.0.12', 80);
const S1 = rs('198.18.1.10', 80);
const S2 = rs('198.18.1.11', 80);

const keyText = (k: ServiceKey | RealServerKey) => JSON.stringify(k);

/** The table's identity and settings, sorted (the kernel's dump order is its hash order). */
export function settingsOf(table: readonly ServiceEntry[]): { service: VirtualService; realServers: RealServer[] }[] {
  return table
    .map((e) => ({ service: e.service, realServers: e.realServers.map((r) => r.server).sort((a, b) => keyText(a.key).localeCompare(keyText(b.key))) }))
    .sort((a, b) => keyText(a.service.key).localeCompare(keyText(b.service.key)));
}

function expected(entries: readonly { service: VirtualService; realServers: readonly RealServer[] }[]) {
  return settingsOf(entries.map((e) => ({ service: e.service, observed: undefined as never, realServers: e.realServers.map((server) => ({ server, observed: undefined as never })) })));
}

const failures = (r: ApplyResult) => r.failed.map((f) => [f.index, f.error.message]);

async function applyAll(ipvs: Ipvs, ops: IpvsOp[]): Promise<void> {
  const r = await ipvs.apply(ops);
  assert.deepEqual(failures(r), [], 'every op accepted');
  assert.equal(r.applied, ops.length);
}

function typedTableOps(): IpvsOp[] {
  return TYPED_TABLE.flatMap((e): IpvsOp[] => [
    { kind: 'add-service', service: e.service },
    ...e.servers.map((s): IpvsOp => ({ kind: 'add-server', service: e.service.key, server: s.server })),
  ]);
}

export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  {
    name: 'a table with every scheduler, flag, forwarding method, tunnel, family, protocol and fwmark reads back as written',
    async run({ ipvs }) {
      await applyAll(ipvs, typedTableOps());
      const table = await ipvs.readTable();
      assert.deepEqual(settingsOf(table), expected(TYPED_TABLE.map((e) => ({ service: e.service, realServers: e.servers.map((s) => s.server) }))));
      for (const e of table) {
        assert.equal(e.observed.stats.conns, 0n);
        for (const r of e.realServers) assert.deepEqual([r.observed.activeConns, r.observed.inactiveConns, r.observed.persistentConns], [0, 0, 0]);
      }
    },
  },
  {
    name: 'an existing service or real server is refused with EEXIST, in words',
    async run({ ipvs }) {
      const r = await ipvs.apply([
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-service', service: svc(A, 'rr') },
        { kind: 'add-server', service: A, server: S1 },
        { kind: 'add-server', service: A, server: { ...S1, weight: 5 } },
      ]);
      assert.deepEqual(failures(r), [
        [1, 'service 198.18.0.10:80 already exists'],
        [3, 'real server 198.18.1.10:80 already exists in service 198.18.0.10:80'],
      ]);
      assert.equal(r.applied, 2);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A), realServers: [S1] }]));
    },
  },
  {
    name: 'a missing service is refused with ESRCH for every op that names it, in words',
    async run({ ipvs }) {
      const r = await ipvs.apply([
        { kind: 'edit-service', service: svc(A) },
        { kind: 'delete-service', service: A },
        { kind: 'add-server', service: A, server: S1 },
        { kind: 'edit-server', service: A, server: S1 },
        { kind: 'delete-server', service: A, server: S1.key },
        { kind: 'zero', service: { family: 'inet', fwmark: 999 } },
      ]);
      const none = 'no such service 198.18.0.10:80';
      assert.deepEqual(failures(r), [[0, none], [1, none], [2, none], [3, none], [4, none], [5, 'no such service fwmark 999']]);
      assert.equal(r.applied, 0);
      assert.deepEqual(await ipvs.readTable(), []);
    },
  },
  {
    name: 'a missing real server is refused with ENOENT when edited or deleted, in words',
    async run({ ipvs }) {
      await applyAll(ipvs, [{ kind: 'add-service', service: svc(A) }]);
      const r = await ipvs.apply([
        { kind: 'edit-server', service: A, server: S1 },
        { kind: 'delete-server', service: A, server: S1.key },
      ]);
      const none = 'no such real server 198.18.1.10:80 in service 198.18.0.10:80';
      assert.deepEqual(failures(r), [[0, none], [1, none]]);
    },
  },
  {
    name: 'a scheduler or persistence engine the kernel cannot load is refused (ENOENT), and the service is left as it was',
    async run({ ipvs }) {
      await applyAll(ipvs, [{ kind: 'add-service', service: svc(A, 'rr') }]);
      const r = await ipvs.apply([
        { kind: 'add-service', service: svc(B, 'nosuch') },
        { kind: 'edit-service', service: svc(A, 'nosuch') },
        { kind: 'add-service', service: svc(C, 'rr', { flags: 1, timeout: 60, persistenceEngine: 'nope' }) },
      ]);
      assert.deepEqual(failures(r), [
        [0, "scheduler 'nosuch' is not available: its kernel module could not be loaded"],
        [1, "scheduler 'nosuch' is not available: its kernel module could not be loaded"],
        [2, "persistence engine 'nope' is not available: its kernel module could not be loaded"],
      ]);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A, 'rr'), realServers: [] }]));
    },
  },
  {
    name: "a DR real server on one of the host's addresses reads back as written (route); one written as local reads back as local",
    async run({ ipvs, localAddress }) {
      const dr = rs(localAddress, 80, 'route');
      const nat = rs(localAddress, 81, 'masq');
      const local = rs(localAddress, 82, 'local');
      await applyAll(ipvs, [
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-server', service: A, server: dr },
        { kind: 'add-server', service: A, server: nat },
        { kind: 'add-server', service: A, server: local },
        { kind: 'add-server', service: A, server: S1 },
      ]);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A), realServers: [dr, nat, local, S1] }]));
      await applyAll(ipvs, [{ kind: 'edit-server', service: A, server: { ...local, forward: 'route', weight: 4 } }]);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A), realServers: [dr, nat, { ...local, forward: 'route', weight: 4 }, S1] }]));
    },
  },
  {
    name: 'a real server whose lower threshold is above its upper one (ERANGE), or a GUE tunnel without a port (EINVAL), is refused',
    async run({ ipvs }) {
      await applyAll(ipvs, [{ kind: 'add-service', service: svc(A) }, { kind: 'add-server', service: A, server: S2 }]);
      const r = await ipvs.apply([
        { kind: 'add-server', service: A, server: { ...S1, upperThreshold: 5, lowerThreshold: 6 } },
        { kind: 'edit-server', service: A, server: { ...S2, upperThreshold: 0, lowerThreshold: 1 } },
        { kind: 'add-server', service: A, server: rs('198.18.1.12', 80, 'tunnel', { tunnelType: 'gue', tunnelPort: 0 }) },
        { kind: 'add-server', service: A, server: { ...S1, upperThreshold: 6, lowerThreshold: 6 } },
      ]);
      assert.deepEqual(
        r.failed.map((f) => [f.index, (f.error as { errno?: number }).errno]),
        [
          [0, 34],
          [1, 34],
          [2, 22],
        ],
      );
      assert.equal(r.failed[0].error.message, 'adding real server failed for real server 198.18.1.10:80 of service 198.18.0.10:80: ERANGE (result too large)');
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A), realServers: [{ ...S1, upperThreshold: 6, lowerThreshold: 6 }, S2] }]));
    },
  },
  {
    name: 'a batch reports each refused op by index and carries out the others',
    async run({ ipvs }) {
      const r = await ipvs.apply([
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-server', service: B, server: S1 },
        { kind: 'add-service', service: svc(B, 'rr') },
        { kind: 'add-server', service: B, server: S1 },
        { kind: 'delete-server', service: B, server: S2.key },
        { kind: 'add-server', service: A, server: S2 },
      ]);
      assert.deepEqual(failures(r), [
        [1, 'service 198.18.0.10:80 already exists'],
        [2, 'no such service 198.18.0.11:80'],
        [5, 'no such real server 198.18.1.11:80 in service 198.18.0.11:80'],
      ]);
      assert.deepEqual([r.applied, r.skipped], [4, 0]);
      assert.deepEqual(r.failed.map((f) => f.op.kind), ['add-service', 'add-server', 'delete-server']);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: svc(A), realServers: [S2] }, { service: svc(B, 'rr'), realServers: [S1] }]));
    },
  },
  {
    name: 'stopOnError: nothing is carried out past what was sent with the refused op, and the counts add up',
    async run({ ipvs }) {
      await applyAll(ipvs, [{ kind: 'add-service', service: svc(A) }]);
      const ops: IpvsOp[] = [
        { kind: 'add-server', service: A, server: S1 },
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-service', service: svc(B) },
        { kind: 'add-service', service: svc(C) },
      ];
      const r = await ipvs.apply(ops, { stopOnError: true });
      assert.deepEqual(failures(r), [[1, 'service 198.18.0.10:80 already exists']]);
      assert.equal(r.applied + r.failed.length + r.skipped, ops.length);
      // the ops sent are a prefix: the table holds exactly the accepted ones among them
      const sent = r.applied + r.failed.length;
      const services = [svc(A), ...(sent > 2 ? [svc(B)] : []), ...(sent > 3 ? [svc(C)] : [])];
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected(services.map((service) => ({ service, realServers: service.key === A ? [S1] : [] }))));
    },
  },
  {
    name: 'a real server of another family only through a tunnel (EINVAL otherwise, in words)',
    async run({ ipvs }) {
      await applyAll(ipvs, [{ kind: 'add-service', service: svc({ family: 'inet6', protocol: 'tcp', address: '2001:db8::10', port: 80 }) }]);
      const v6 = { family: 'inet6' as const, protocol: 'tcp' as const, address: '2001:db8::10', port: 80 };
      const r = await ipvs.apply([
        { kind: 'add-server', service: v6, server: rs('198.18.1.60', 80, 'route') },
        { kind: 'add-server', service: v6, server: rs('198.18.1.60', 80, 'tunnel', { tunnelType: 'ipip' }) },
      ]);
      assert.deepEqual(failures(r), [
        [0, 'real server 198.18.1.60:80 is not of the family of service [2001:db8::10]:80: mixed families need the tunnel forwarding method'],
      ]);
    },
  },
  {
    name: 'edits and deletes: settings replaced, counters kept apart, deleted entries gone',
    async run({ ipvs }) {
      await applyAll(ipvs, [
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-server', service: A, server: S1 },
        { kind: 'add-server', service: A, server: S2 },
        { kind: 'add-service', service: svc(B) },
      ]);
      const editedA = svc(A, 'wrr', { flags: 1, timeout: 77, netmask: '255.255.0.0' });
      const editedS1 = { ...S1, forward: 'masq' as const, weight: 9, upperThreshold: 5, lowerThreshold: 2 };
      await applyAll(ipvs, [
        { kind: 'edit-service', service: editedA },
        { kind: 'edit-server', service: A, server: editedS1 },
        { kind: 'delete-server', service: A, server: S2.key },
        { kind: 'delete-service', service: B },
      ]);
      assert.deepEqual(settingsOf(await ipvs.readTable()), expected([{ service: editedA, realServers: [editedS1] }]));
    },
  },
  {
    name: 'zero (one service, all) is accepted; flush empties the table',
    async run({ ipvs }) {
      await applyAll(ipvs, [
        { kind: 'add-service', service: svc(A) },
        { kind: 'add-server', service: A, server: S1 },
        { kind: 'add-service', service: svc(B) },
        { kind: 'zero', service: A },
        { kind: 'zero' },
      ]);
      for (const e of await ipvs.readTable()) assert.equal(e.observed.stats.conns, 0n);
      await applyAll(ipvs, [{ kind: 'flush' }]);
      assert.deepEqual(await ipvs.readTable(), []);
    },
  },
  {
    name: 'timeouts: 0 keeps a value',
    async run({ ipvs }) {
      assert.deepEqual(await ipvs.readTimeouts(), { tcp: 900, tcpFin: 120, udp: 300 });
      await applyAll(ipvs, [{ kind: 'set-timeouts', timeouts: { tcp: 1000, tcpFin: 0, udp: 200 } }]);
      assert.deepEqual(await ipvs.readTimeouts(), { tcp: 1000, tcpFin: 120, udp: 200 });
    },
  },
  {
    name: "IPVS settings (net.ipv4.vs.*): a new namespace's defaults, a write reads back, an unknown name refused in words",
    async run({ ipvs }) {
      const defaults = { expire_nodest_conn: 0, expire_quiescent_template: 0, conn_reuse_mode: 1, sloppy_tcp: 0, sloppy_sctp: 0, conntrack: 0, backup_only: 0 };
      for (const [name, value] of Object.entries(defaults)) assert.equal(await ipvs.readSysctl(name), value, name);
      try {
        await ipvs.writeSysctl('expire_quiescent_template', 1);
        assert.equal(await ipvs.readSysctl('expire_quiescent_template'), 1);
      } finally {
        await ipvs.writeSysctl('expire_quiescent_template', 0);
      }
      const unknown = /^net\.ipv4\.vs\.no_such_setting: no such IPVS setting in this kernel \(or the ip_vs module is not loaded\)$/;
      await assert.rejects(ipvs.readSysctl('no_such_setting'), { name: 'IpvsError', message: unknown });
      await assert.rejects(ipvs.writeSysctl('no_such_setting', 1), { name: 'IpvsError', message: unknown });
      await assert.rejects(ipvs.readSysctl('../ip_forward'), { name: 'IpvsError' });
    },
  },
  {
    name: 'sync daemons: defaults filled in, EEXIST when running, ESRCH when not, refused beside a mixed-family real server',
    async run({ ipvs, syncInterface }) {
      await applyAll(ipvs, [{ kind: 'start-daemon', daemon: { state: 'master', mcastInterface: syncInterface, syncId: 7 } }]);
      const r = await ipvs.apply([
        { kind: 'start-daemon', daemon: { state: 'master', mcastInterface: syncInterface, syncId: 8 } },
        { kind: 'stop-daemon', state: 'backup' },
        { kind: 'start-daemon', daemon: { state: 'backup', mcastInterface: syncInterface, syncId: 9, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 } },
      ]);
      assert.deepEqual(failures(r), [
        [0, 'a master sync daemon is already running'],
        [1, 'no backup sync daemon is running'],
      ]);
      assert.deepEqual(await ipvs.readSyncDaemons(), [
        { state: 'master', mcastInterface: syncInterface, syncId: 7, maxLength: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 },
        { state: 'backup', mcastInterface: syncInterface, syncId: 9, maxLength: 1400, mcastGroup: '239.1.2.3', mcastPort: 8849, mcastTtl: 3 },
      ]);
      // while a daemon runs, a real server of another family is refused too
      const v6 = { family: 'inet6' as const, protocol: 'tcp' as const, address: '2001:db8::10', port: 80 };
      const mixed = await ipvs.apply([
        { kind: 'add-service', service: svc(v6) },
        { kind: 'add-server', service: v6, server: rs('198.18.1.60', 80, 'tunnel', { tunnelType: 'ipip' }) },
      ]);
      assert.deepEqual(mixed.failed.map((f) => [f.index, (f.error as { errno?: number }).errno]), [[1, 22]]);
      await applyAll(ipvs, [
        { kind: 'stop-daemon', state: 'master' },
        { kind: 'stop-daemon', state: 'backup' },
        { kind: 'add-server', service: v6, server: rs('198.18.1.60', 80, 'tunnel', { tunnelType: 'ipip' }) },
      ]);
      assert.deepEqual(await ipvs.readSyncDaemons(), []);
      const refused = await ipvs.apply([{ kind: 'start-daemon', daemon: { state: 'master', mcastInterface: syncInterface, syncId: 1 } }]);
      assert.equal(refused.failed.length, 1);
      assert.match(refused.failed[0].error.message, /^the kernel refused the master sync daemon: .*mixed-family tunnels/);
    },
  },
  {
    name: 'bad input is refused before anything is carried out',
    async run({ ipvs }) {
      await assert.rejects(
        ipvs.apply([
          { kind: 'add-service', service: svc(A) },
          { kind: 'add-service', service: svc(tcp('198.18.0.300', 80)) },
        ]),
        { name: 'InputError', message: 'virtual service address: "198.18.0.300" is not an IPv4 address' },
      );
      assert.deepEqual(await ipvs.readTable(), []);
    },
  },
];
