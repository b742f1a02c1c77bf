// Domain types for the IPVS table. Identity and desired settings are kept apart from what the
// kernel observes (stats, connection counts), so a reconciler can compare only what it owns.

export type Family = 'inet' | 'inet6';
export type Protocol = 'tcp' | 'udp' | 'sctp';

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export type Scheduler = (typeof SCHEDULERS)[number] | string; // kernel may carry schedulers we do not know

/** Service flags as named by ipvsadm's -b option, plus persistent and one-packet. */
export type ServiceFlag = 'persistent' | 'one-packet' | 'flag-1' | 'flag-2' | 'flag-3';
// sh-fallback/mh-fallback are flag-1, sh-port/mh-port are flag-2 (same bits, named by scheduler).

export type ForwardMethod = 'masq' | 'local' | 'tunnel' | 'route';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** A virtual service is identified by (family, protocol, address, port) or by (family, fwmark). */
export type ServiceKey =
  | { family: Family; protocol: Protocol; address: string; port: number; fwmark?: undefined }
  | { family: Family; fwmark: number; protocol?: undefined; address?: undefined; port?: undefined };

export interface VirtualService {
  key: ServiceKey;
  scheduler: Scheduler;
  /** raw IP_VS_SVC_F_* bits as the kernel reports them, minus HASHED */
  flags: number;
  /** persistence timeout in seconds (meaningful when the persistent flag is set) */
  timeout: number;
  /** persistence netmask: dotted IPv4 mask for inet, prefix length (as a number) for inet6 */
  netmask: string | number;
  /** persistence engine, e.g. "sip" */
  persistenceEngine?: string;
}

export interface RealServerKey {
  address: string;
  port: number;
  /** address family of the real server; differs from the service's only for tunnels */
  family: Family;
}

export interface RealServer {
  key: RealServerKey;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType?: TunnelType; // only with forward 'tunnel'
  tunnelPort?: number; // gue only
  tunnelChecksum?: TunnelChecksum;
}

/** 64-bit counters and rates as the kernel reports them (STATS64 when available). */
export interface Stats {
  conns: bigint;
  inPackets: bigint;
  outPackets: bigint;
  inBytes: bigint;
  outBytes: bigint;
  cps: bigint;
  inPps: bigint;
  outPps: bigint;
  inBps: bigint;
  outBps: bigint;
}

export interface ObservedService extends VirtualService {
  stats: Stats;
}

export interface ObservedRealServer extends RealServer {
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: Stats;
}

export interface IpvsInfo {
  /** e.g. 0x010201 for 1.2.1 */
  version: number;
  /** connection table size */
  connectionTableSize: number;
}

export interface Timeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

export type SyncDaemonState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncDaemonState;
  mcastInterface: string;
  syncId: number;
  maxLength?: number;
  mcastGroup?: string; // IPv4 or IPv6 address
  mcastPort?: number;
  mcastTtl?: number;
}

/** A virtual service with its real servers, as one full-table listing returns it. */
export interface TableEntry {
  service: ObservedService;
  realServers: ObservedRealServer[];
}

/** A real server with only what `ipvsadm -L`'s default columns show (all /proc/net/ip_vs has). */
export interface RealServerSummary {
  key: RealServerKey;
  forward: ForwardMethod;
  weight: number;
  activeConns: number;
  inactiveConns: number;
}

/** A service's settings (no counters) and its real servers' summaries: the default listing. */
export interface TableSummaryEntry {
  service: VirtualService;
  realServers: RealServerSummary[];
}

/**
 * A table as a listing prints it: the services, and service i's real servers when asked. A view
 * read from the kernel decodes them again on each call and keeps none: a 50,000-line listing
 * then prints each service's real servers and drops them (kept, they cost a quarter of the
 * listing's time in garbage collection).
 */
export interface TableView<S extends VirtualService = ObservedService, R extends RealServerSummary = ObservedRealServer> {
  readonly services: readonly S[];
  realServers(i: number): readonly R[];
}


/** One change to the table, for Ipvs.apply: what a CLI command, a restore line and a reconciler step become. */
export type IpvsOp =
  | { kind: 'add-service' | 'edit-service'; service: VirtualService }
  | { kind: 'delete-service'; service: ServiceKey }
  | { kind: 'add-server' | 'edit-server'; service: ServiceKey; server: RealServer }
  | { kind: 'delete-server'; service: ServiceKey; server: RealServerKey }
  | { kind: 'zero'; service?: ServiceKey }
  | { kind: 'flush' }
  | { kind: 'set-timeouts'; timeouts: Timeouts }
  | { kind: 'start-daemon'; daemon: SyncDaemon }
  | { kind: 'stop-daemon'; state: SyncDaemonState };

export interface ApplyOptions {
  /** stop sending once an op has failed (ops already sent still complete); default false */
  stopOnError?: boolean;
}

export interface ApplyResult {
  /** ops the kernel accepted */
  applied: number;
  /** ops the kernel refused, in op order, each with its error in words */
  failed: { index: number; op: IpvsOp; error: Error }[];
  /** ops not sent because of stopOnError */
  skipped: number;
}

// ---- The narrow interface (issue 17): what the director and the CLI ask of the kernel ----

/** What the kernel observes about a service: never compared when reconciling. */
export interface ServiceCounters {
  stats: Stats;
}

/** What the kernel observes about a real server: never compared when reconciling. */
export interface RealServerCounters {
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: Stats;
}

/** One real server as read from the kernel: identity and settings apart from counters. */
export interface RealServerEntry {
  server: RealServer;
  observed: RealServerCounters;
}

/** One virtual service as read from the kernel, with its real servers. */
export interface ServiceEntry {
  service: VirtualService;
  observed: ServiceCounters;
  realServers: RealServerEntry[];
}

/**
 * Everything the director needs of IPVS. Reads are free to run side by side; apply() calls are
 * serialised (one batch reaches the kernel after the previous one has completed), so there is a
 * single writer per process. Implemented over netlink (client.ts) and by a fake that behaves
 * like the kernel where it matters (fake.ts).
 */
export interface Ipvs {
  info(): Promise<IpvsInfo>;
  /** every service with its real servers */
  readTable(): Promise<ServiceEntry[]>;
  readTimeouts(): Promise<Timeouts>;
  readSyncDaemons(): Promise<SyncDaemon[]>;
  /** net.ipv4.vs.NAME (expire_nodest_conn, ...) of the namespace the client talks to */
  readSysctl(name: string): Promise<number>;
  writeSysctl(name: string, value: number): Promise<void>;
  /** applies ops in order, many per send; reports each refused op by index, in words */
  apply(ops: readonly IpvsOp[], opts?: ApplyOptions): Promise<ApplyResult>;
  close(): void;
}
