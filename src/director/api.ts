// What the running director shows and accepts: the contract between the daemon (daemon.ts), its
// status page and metrics (status-http.ts, metrics.ts) and its control socket (control.ts).
// Plain data only, so it crosses JSON unchanged. No secret is ever part of it.

/** The kernel's counters and rates, as numbers (JSON has no bigint). */
export interface CountersView {
  conns: number;
  inPackets: number;
  outPackets: number;
  inBytes: number;
  outBytes: number;
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface CheckView {
  /** "tcp", "mysql", "http", "exec" */
  kind: string;
  /** what it probes, without secrets: "198.18.0.21:3306", "GET http://198.18.0.21/health" */
  target: string;
  state: 'up' | 'down';
  lastReason?: string;
  lastLatencyMs?: number;
  /** ISO time of the last result */
  lastAt?: string;
  /** the last result was the checker's own fault (bad credentials, TLS) */
  configError?: boolean;
}

/**
 * Why a server has the weight it has, most important first:
 * - removed: gone from the config, draining before deletion (weight 0)
 * - drained: drained by an operator (weight 0)
 * - maintenance: inside a maintenance window (weight 0)
 * - down: a check failed (weight 0, or deleted with on_failure: remove)
 * - slow-start: up, weight ramping towards the configured weight
 * - up: up at its weight (configured or set by an operator)
 * - sorry: the sorry server, in the table because the quorum is lost
 */
export type ServerState = 'up' | 'down' | 'slow-start' | 'standby' | 'drained' | 'maintenance' | 'removed' | 'sorry';

export interface ServerView {
  /** "198.18.0.21:3306", "[2001:db8::21]:3306" */
  name: string;
  address: string;
  port: number;
  forward: 'route' | 'masq' | 'tunnel' | 'local';
  state: ServerState;
  health: 'up' | 'down';
  /** weight in the config */
  configuredWeight: number;
  /** weight the director wants in the kernel now (0 when drained, down, ...) */
  weight: number;
  /** weight the kernel reported at the last read; undefined when the server is not in the kernel */
  kernelWeight?: number;
  /** operator override in force, if any */
  override?: { kind: 'drain' } | { kind: 'weight'; weight: number };
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  counters: CountersView;
  checks: CheckView[];
  /** ISO time of the last change of health */
  lastTransitionAt?: string;
}

export interface ServiceView {
  /** the config's name, or the service's address: "198.18.0.10:3306", "fwmark 5" */
  name: string;
  /** "198.18.0.10:3306/tcp", "[2001:db8::10]:80/tcp", "fwmark 5" */
  address: string;
  scheduler: string;
  /** persistence timeout in seconds, when persistent */
  persistence?: number;
  /** sum of the weights of up servers, and the quorum asked for */
  upWeight: number;
  quorum?: { weight: number; hysteresis: number; met: boolean };
  sorryServerActive: boolean;
  /** the kernel refused this service (the others converge); in words */
  error?: string;
  counters: CountersView;
  servers: ServerView[];
}

/** One VRRP instance as the director runs it. */
export interface VrrpInstanceView {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  /** VRRPv2 authentication: 'none' or 'simple-password' (auth_pass_*); the password is never shown */
  authentication: 'none' | 'simple-password';
  /** init, backup, master, fault, stopped */
  state: string;
  /** configured, and after tracking (what the adverts carry) */
  priority: number;
  effectivePriority: number;
  /** "198.18.0.10/24" */
  addresses: string[];
  /** ISO time of the last state change */
  since: string;
  /** why it is in FAULT */
  faults: string[];
  /** trackers' contributions to the priority, by tracker ("script chk_mysql": -20) */
  adjustments: Record<string, number>;
  counters: {
    advertsSent: number;
    advertsReceived: number;
    transitions: number;
    becameMaster: number;
    priorityZeroSent: number;
    priorityZeroReceived: number;
    /** adverts the instance's own checks refused (address count or list, v2 interval); also in invalid */
    advertsRejected: number;
    /** adverts for this instance accepted by the checks */
    received: number;
    /** adverts dropped by the checks, by reason (ttl, checksum, ... and a misconfigured peer: count, addresses, interval) */
    invalid: Record<string, number>;
    sendErrors: number;
  };
}

export interface DirectorStatus {
  version: string;
  pid: number;
  /** ISO times */
  startedAt: string;
  config: { path: string; loadedAt: string };
  lastReload?: { at: string; ok: boolean; errors?: string[] };
  /** reloads since start, by result */
  reloads: { ok: number; failed: number };
  reconcile: {
    lastAt?: string;
    /** IPVS operations sent since start, and by the last pass */
    opsTotal: number;
    lastOps: number;
    failuresTotal: number;
    lastError?: string;
    /** ms from a health verdict to the kernel's answer to the write it caused: the last, and the most */
    transitionToKernelMs?: { last: number; max: number };
  };
  services: ServiceView[];
  /** VRRP instances, when the config has a vrrp section */
  vrrp?: VrrpInstanceView[];
}

/**
 * Picks real servers for drain/enable/weight: "ADDR" (every port), "ADDR:PORT" or "[V6]:PORT",
 * optionally only in one service (its name or address as ServiceView shows them).
 */
export interface ServerSelector {
  server: string;
  service?: string;
}

export interface ControlResult {
  ok: boolean;
  /** in words: "drained 198.18.0.21:3306 in mysql-read", or why nothing was done */
  message: string;
  /** the servers the request matched, as "service/server" */
  matched: string[];
}

export interface ReloadResult {
  ok: boolean;
  /** the config's errors (file:line:column: path: message), when it was rejected */
  errors?: string[];
  /** IPVS operations the reload applied */
  ops: number;
}

/** What the control socket and the status endpoint ask of the running director. */
export interface DirectorControl {
  status(): DirectorStatus;
  drain(sel: ServerSelector): Promise<ControlResult>;
  enable(sel: ServerSelector): Promise<ControlResult>;
  setWeight(sel: ServerSelector, weight: number): Promise<ControlResult>;
  reload(): Promise<ReloadResult>;
}
