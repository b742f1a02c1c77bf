// An Ipvs that keeps its table in memory and answers like the kernel where a caller can tell
// (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_sync.c): the same errno for the same mistake, turned
// into the same words by ipvsError; per-op results in a batch; settings read back as the kernel
// keeps them (canonical addresses, sync daemon defaults). A DR server on one of the host's own
// addresses reads back as written ('route'): kernel 6.1 no longer marks it Local (the lab shows
// it), only a server written as 'local' reads back so. test/support/ipvs-conformance.ts runs one set of cases
// against this and against the kernel to keep the two in step.
import { constants } from 'node:os';
import { netlinkError } from '../netlink/socket';
import { canonicalAddress, formatIPv4, parseAddress, parseIPv4 } from './address';
import { writeOps } from './codec';
import { ipvsError, type IpvsRequest } from './errors';
import { Serial } from './serial';
import { unknownSysctl } from './sysctl';
import { SCHEDULERS } from './types';
import type {
  ApplyOptions,
  ApplyResult,
  Ipvs,
  IpvsInfo,
  IpvsOp,
  RealServer,
  RealServerCounters,
  RealServerKey,
  ServiceEntry,
  ServiceKey,
  Stats,
  SyncDaemon,
  SyncDaemonState,
  Timeouts,
  VirtualService,
} from './types';

const { EEXIST, ESRCH, ENOENT, EINVAL, ENODEV, ERANGE, EBADF } = constants.errno;

export interface FakeIpvsOptions {
  /** schedulers the kernel can load (default: all of SCHEDULERS); others give ENOENT */
  schedulers?: readonly string[];
  /** persistence engines the kernel can load (default: sip) */
  persistenceEngines?: readonly string[];
  /** network interfaces a sync daemon may use (default: any name); others give ENODEV */
  interfaces?: readonly string[];
  info?: IpvsInfo;
}

const ZERO_STATS: Stats = Object.freeze({ conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n });
const ZERO_SERVICE = Object.freeze({ stats: ZERO_STATS });
const ZERO_COUNTERS: RealServerCounters = Object.freeze({ activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: ZERO_STATS });
const DEFAULT_TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
// ip_vs_sync.c: IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT; a dummy or ethernet interface's MTU
const SYNC_GROUP = '224.0.0.81';
const SYNC_PORT = 8848;
const MTU = 1500;

// Stored entries are frozen and replaced on every change, never changed in place: a read hands
// them out as they are (no copy), and what a caller holds stays the snapshot it read.
interface StoredServer {
  readonly server: RealServer;
  readonly observed: RealServerCounters;
}

const DEFAULT_SYSCTLS: Record<string, number> = {
  backup_only: 0,
  conn_reuse_mode: 1,
  conntrack: 0,
  expire_nodest_conn: 0,
  expire_quiescent_template: 0,
  ignore_tunneled: 0,
  schedule_icmp: 0,
  sloppy_sctp: 0,
  sloppy_tcp: 0,
};

interface StoredService {
  service: VirtualService;
  observed: { readonly stats: Stats };
  servers: Map<string, StoredServer>;
}

/** Thrown inside one op: the kernel's errno for it. */
class Refused {
  constructor(readonly errno: number) {}
}

// join(): one flat string per stored entry (a template literal keeps a rope of its parts)
function serviceId(key: ServiceKey): string {
  if (key.fwmark !== undefined) return [key.family, 'fwmark', key.fwmark].join(' ');
  return [key.family, key.protocol, canonicalAddress(key.family, key.address), key.port].join(' ');
}

function serverId(key: RealServerKey): string {
  return [key.family, canonicalAddress(key.family, key.address), key.port].join(' ');
}

function frozen<T extends object>(o: T): T {
  return Object.freeze(o);
}

function storedServer(server: RealServer, observed: RealServerCounters): StoredServer {
  return frozen({ server, observed });
}

function canonicalKey(key: ServiceKey): ServiceKey {
  if (key.fwmark !== undefined) return { family: key.family, fwmark: key.fwmark };
  return { family: key.family, protocol: key.protocol, address: canonicalAddress(key.family, key.address), port: key.port };
}

/** The kernel refuses a destination that is not unicast (inet_addr_type, ipv6_addr_type). */
function unicast(key: RealServerKey): boolean {
  const parsed = parseAddress(key.address);
  if (!parsed) return false;
  const b = parsed.bytes;
  if (parsed.family === 'inet') {
    const zero = b.every((x) => x === 0);
    const broadcast = b.every((x) => x === 255);
    return !zero && !broadcast && (b[0] & 0xf0) !== 0xe0;
  }
  const unspecified = b.every((x) => x === 0);
  const multicast = b[0] === 0xff;
  const linkLocal = b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
  return !unspecified && !multicast && !linkLocal;
}

export class FakeIpvs implements Ipvs {
  /** every op the fake accepted, in order: what the kernel would now carry out */
  readonly applied: IpvsOp[] = [];
  /** apply() calls made, whatever they held */
  applyCalls = 0;

  private readonly services = new Map<string, StoredService>();
  private readonly daemons = new Map<SyncDaemonState, SyncDaemon>();
  private timeouts: Timeouts = { ...DEFAULT_TIMEOUTS };
  /** net.ipv4.vs.* as a new network namespace has them (kernel 6.1) */
  private readonly sysctls = new Map<string, number>(Object.entries(DEFAULT_SYSCTLS));
  /** writeSysctl() calls that changed a value */
  sysctlWrites = 0;
  private readonly schedulers: ReadonlySet<string>;
  private readonly engines: ReadonlySet<string>;
  private readonly interfaces?: ReadonlySet<string>;
  private readonly infoValue: IpvsInfo;
  private readonly writes = new Serial();
  private closed = false;

  constructor(opts: FakeIpvsOptions = {}) {
    this.schedulers = new Set(opts.schedulers ?? SCHEDULERS);
    this.engines = new Set(opts.persistenceEngines ?? ['sip']);
    this.interfaces = opts.interfaces && new Set(opts.interfaces);
    this.infoValue = opts.info ?? { version: 0x010201, connectionTableSize: 4096 };
  }

  async info(): Promise<IpvsInfo> {
    this.check({ kind: 'info' });
    return { ...this.infoValue };
  }

  async readTable(): Promise<ServiceEntry[]> {
    this.check({ kind: 'list-services' });
    // the entries themselves (frozen, replaced on change); the lists are the caller's own
    return [...this.services.values()].map((s) => ({ service: s.service, observed: s.observed, realServers: [...s.servers.values()] }));
  }

  async readTimeouts(): Promise<Timeouts> {
    this.check({ kind: 'get-timeouts' });
    return { ...this.timeouts };
  }

  async readSysctl(name: string): Promise<number> {
    const value = this.sysctls.get(name);
    if (value === undefined) throw unknownSysctl(name);
    return value;
  }

  writeSysctl(name: string, value: number): Promise<void> {
    return this.writes.run(async () => {
      if (!this.sysctls.has(name)) throw unknownSysctl(name);
      this.sysctls.set(name, value);
      this.sysctlWrites++;
    });
  }

  async readSyncDaemons(): Promise<SyncDaemon[]> {
    this.check({ kind: 'list-daemons' });
    // the kernel lists the master's before the backup's
    return (['master', 'backup'] as const).flatMap((s) => {
      const d = this.daemons.get(s);
      return d ? [{ ...d }] : [];
    });
  }

  /**
   * Ops in order, each accepted or refused on its own as the kernel does; with stopOnError
   * nothing after the first refusal is carried out. Every op is encoded first (the netlink
   * client's encoder), so bad input is refused with the same error and applies nothing.
   */
  apply(ops: readonly IpvsOp[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    return this.writes.run(async () => {
      this.applyCalls++;
      writeOps(0, ops);
      const result: ApplyResult = { applied: 0, failed: [], skipped: 0 };
      for (let i = 0; i < ops.length; i++) {
        if (opts.stopOnError && result.failed.length > 0) {
          result.skipped = ops.length - i;
          break;
        }
        const op = ops[i];
        try {
          if (this.closed) throw netlinkError(EBADF, undefined, undefined, 'netlink socket closed');
          this.run(op);
          this.applied.push(structuredClone(op));
          result.applied++;
        } catch (err) {
          const cause = err instanceof Refused ? netlinkError(err.errno) : err;
          result.failed.push({ index: i, op, error: ipvsError(op, cause) });
        }
      }
      return result;
    });
  }

  /** Sets what the kernel would observe of a real server (connections, counters), for tests. */
  setObserved(service: ServiceKey, server: RealServerKey, observed: Partial<Omit<RealServerCounters, 'stats'>> & { stats?: Partial<Stats> }): void {
    const r = this.services.get(serviceId(service))?.servers.get(serverId(server));
    if (!r) throw new Error(`fake IPVS: no real server ${server.address}:${server.port} in service ${serviceId(service)}`);
    const s = this.services.get(serviceId(service))!;
    s.servers.set(serverId(server), storedServer(r.server, frozen({ ...r.observed, ...observed, stats: frozen({ ...r.observed.stats, ...observed.stats }) })));
  }

  /** Sets a service's counters, for tests. */
  setServiceStats(service: ServiceKey, stats: Partial<Stats>): void {
    const s = this.services.get(serviceId(service));
    if (!s) throw new Error(`fake IPVS: no service ${serviceId(service)}`);
    s.observed = frozen({ stats: frozen({ ...s.observed.stats, ...stats }) });
  }

  close(): void {
    this.closed = true;
  }

  private check(req: IpvsRequest): void {
    if (this.closed) throw ipvsError(req, netlinkError(EBADF, undefined, undefined, 'netlink socket closed'));
  }

  private run(op: IpvsOp): void {
    switch (op.kind) {
      case 'add-service': {
        const id = serviceId(op.service.key);
        if (this.services.has(id)) throw new Refused(EEXIST);
        const service = this.serviceSettings(op.service);
        this.services.set(id, { service, observed: ZERO_SERVICE, servers: new Map() });
        return;
      }
      case 'edit-service': {
        const s = this.serviceOf(op.service.key);
        s.service = this.serviceSettings(op.service);
        return;
      }
      case 'delete-service':
        this.serviceOf(op.service);
        this.services.delete(serviceId(op.service));
        return;
      case 'add-server':
      case 'edit-server': {
        const s = this.serviceOf(op.service);
        this.checkFamily(s, op.server);
        const server = this.serverSettings(op.server);
        const id = serverId(op.server.key);
        const existing = s.servers.get(id);
        if (op.kind === 'add-server') {
          if (existing) throw new Refused(EEXIST);
          if (!unicast(op.server.key)) throw new Refused(EINVAL);
          s.servers.set(id, storedServer(server, ZERO_COUNTERS));
        } else {
          if (!existing) throw new Refused(ENOENT);
          s.servers.set(id, storedServer(server, existing.observed));
        }
        return;
      }
      case 'delete-server': {
        const s = this.serviceOf(op.service);
        if (!s.servers.delete(serverId(op.server))) throw new Refused(ENOENT);
        return;
      }
      case 'zero': {
        const targets = op.service ? [this.serviceOf(op.service)] : [...this.services.values()];
        for (const s of targets) {
          s.observed = ZERO_SERVICE;
          for (const [id, r] of s.servers) s.servers.set(id, storedServer(r.server, frozen({ ...r.observed, stats: ZERO_STATS })));
        }
        return;
      }
      case 'flush':
        this.services.clear();
        return;
      case 'set-timeouts': {
        const t = op.timeouts;
        this.timeouts = { tcp: t.tcp || this.timeouts.tcp, tcpFin: t.tcpFin || this.timeouts.tcpFin, udp: t.udp || this.timeouts.udp };
        return;
      }
      case 'start-daemon':
        this.startDaemon(op.daemon);
        return;
      case 'stop-daemon':
        if (!this.daemons.delete(op.state)) throw new Refused(ESRCH);
        return;
    }
  }

  private serviceOf(key: ServiceKey): StoredService {
    const s = this.services.get(serviceId(key));
    if (!s) throw new Refused(ESRCH);
    return s;
  }

  /** What the kernel keeps of a service's settings, after it has found its modules. */
  private serviceSettings(svc: VirtualService): VirtualService {
    if (!this.schedulers.has(svc.scheduler)) throw new Refused(ENOENT);
    if (svc.persistenceEngine && !this.engines.has(svc.persistenceEngine)) throw new Refused(ENOENT);
    const family = svc.key.family;
    const netmask = family === 'inet' ? formatIPv4(parseIPv4(String(svc.netmask))!) : Number(svc.netmask);
    const out: VirtualService = { key: canonicalKey(svc.key), scheduler: svc.scheduler, flags: svc.flags & ~0x2, timeout: svc.timeout, netmask };
    if (svc.persistenceEngine) out.persistenceEngine = svc.persistenceEngine;
    frozen(out.key);
    return frozen(out);
  }

  /** Mixed families only through a tunnel, and never while a sync daemon runs. */
  private checkFamily(s: StoredService, rs: RealServer): void {
    if (rs.key.family === s.service.key.family) return;
    if (this.daemons.size > 0 || rs.forward !== 'tunnel') throw new Refused(EINVAL);
  }

  private serverSettings(rs: RealServer): RealServer {
    if (rs.lowerThreshold > rs.upperThreshold) throw new Refused(ERANGE);
    if (rs.forward === 'tunnel' && rs.tunnelType === 'gue' && !rs.tunnelPort) throw new Refused(EINVAL);
    const key = { address: canonicalAddress(rs.key.family, rs.key.address), port: rs.key.port, family: rs.key.family };
    const forward = rs.forward;
    const out: RealServer = { key, forward, weight: rs.weight, upperThreshold: rs.upperThreshold, lowerThreshold: rs.lowerThreshold };
    if (forward === 'tunnel') {
      const type = rs.tunnelType ?? 'ipip';
      out.tunnelType = type;
      if (type === 'gue') out.tunnelPort = rs.tunnelPort ?? 0;
      if (type !== 'ipip') out.tunnelChecksum = rs.tunnelChecksum ?? 'nocsum';
    }
    frozen(key);
    return frozen(out);
  }

  private startDaemon(d: SyncDaemon): void {
    // the sync protocol cannot carry a real server of another family than its service's
    for (const s of this.services.values()) {
      for (const r of s.servers.values()) if (r.server.key.family !== s.service.key.family) throw new Refused(EINVAL);
    }
    if (this.interfaces && !this.interfaces.has(d.mcastInterface)) throw new Refused(ENODEV);
    if (this.daemons.has(d.state)) throw new Refused(EEXIST);
    const v6 = d.mcastGroup?.includes(':') ?? false;
    const headers = v6 ? 48 : 28; // IP and UDP headers
    const min = d.state === 'backup' ? 1024 : 1;
    const maxLength = d.maxLength ? Math.min(Math.max(d.maxLength, min), 65535 - headers) : MTU - headers;
    const group = d.mcastGroup ? canonicalAddress(v6 ? 'inet6' : 'inet', d.mcastGroup) : SYNC_GROUP;
    this.daemons.set(d.state, {
      state: d.state,
      mcastInterface: d.mcastInterface,
      syncId: d.syncId,
      maxLength,
      mcastGroup: group,
      mcastPort: d.mcastPort || SYNC_PORT,
      mcastTtl: d.mcastTtl || 1,
    });
  }
}
