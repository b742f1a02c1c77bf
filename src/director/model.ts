// The director's view of what it manages: services and real servers as the config asks for them,
// keyed by identity. Built once per config load (spec.ts); the rest of the director reads it.
import { describeRealServer, describeService } from '../ipvs/errors';
import type { CheckSpec } from '../health/spec';
import type { WatchOptions } from '../health/core';
import type { RealServer, RealServerKey, ServiceKey, SyncDaemon, Timeouts, VirtualService } from '../ipvs/types';
import type { ServiceConfig, VrrpConfig } from '../config/director';

export type FailurePolicy = 'weight-0' | 'remove';
export type AllDownPolicy = 'keep-last' | 'sorry' | 'empty';

export interface CheckDef {
  kind: CheckSpec['kind'];
  spec: CheckSpec;
  watch: Partial<WatchOptions>;
  /** secret-free, for status and logs */
  describe: string;
}

export interface ServerSpec {
  id: string;
  /** "198.18.0.21:3306" */
  name: string;
  /** the server as the config asks for it, at its configured weight */
  server: RealServer;
  checks: CheckDef[];
}

export interface MaintenanceWindow {
  /** server ids of this service */
  servers: string[];
  schedule: string;
  durationMs: number;
}

export interface ServiceSpec {
  id: string;
  /** config name, or the address */
  name: string;
  service: VirtualService;
  servers: ServerSpec[];
  onFailure: FailurePolicy;
  /** sum of the weights of up servers needed; keepalived's default is 1 */
  quorum: number;
  hysteresis: number;
  sorry?: RealServer;
  /** one: a single server serves at a time, the other up ones wait at weight 0 (standby) */
  active: 'all' | 'one';
  allDown: AllDownPolicy;
  slowStartMs: number;
  drainDeadlineMs: number;
  maintenance: MaintenanceWindow[];
  /** program run on server and quorum changes (notify.ts) */
  notify?: string;
}

// Ids and names kept for every server are made with join(): one flat string. A template literal
// makes a rope of its parts that V8 keeps as it is (a 30-character id then costs ~150 bytes).

/** "tcp|198.18.0.10|3306" ("fwmark|inet|5"): one string per ServiceKey, for maps. */
export function serviceId(key: ServiceKey): string {
  return key.fwmark !== undefined ? ['fwmark', key.family, key.fwmark].join('|') : [key.protocol, key.address, key.port].join('|');
}

export function serverId(key: RealServerKey): string {
  return [key.address, key.port].join('|');
}

export const serviceName = describeService;
export const serverName = describeRealServer;

/** Global settings of a loaded config. */
export interface DirectorSettings {
  timeouts?: Partial<Timeouts>;
  /** net.ipv4.vs.NAME -> value to set where the kernel differs */
  ipvsSysctl: Readonly<Record<string, number>>;
  syncDaemon?: SyncDaemon;
  /** a VRRP instance the sync daemon's state follows (master while it is MASTER, else backup) */
  syncDaemonFollows?: string;
  stateFile: string;
  /** node-cron expression of the full resync */
  resync: string;
  flushOnExit: boolean;
}

export interface LoadedConfig {
  settings: DirectorSettings;
  services: ServiceSpec[];
  /** the parsed config each service's spec was made from, in the same order (when made from a file) */
  serviceConfigs?: readonly ServiceConfig[];
  /** director failover; absent: no VRRP */
  vrrp?: VrrpConfig;
}
