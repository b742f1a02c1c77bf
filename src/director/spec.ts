// The loaded config (src/config/director.ts) turned into what the director manages: IPVS services
// and real servers by identity, and each server's checks.
import { isDeepStrictEqual } from 'node:util';
import { checksOf, type CheckConfig, type DirectorConfig, type ServerConfig, type ServiceConfig } from '../config/director';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../ipvs/flags';
import type { RealServer, ServiceKey, VirtualService } from '../ipvs/types';
import { serverId, serviceId, type DirectorSettings, type LoadedConfig, type ServerSpec, type ServiceSpec } from './model';

const FLAG_BITS: Record<string, number> = {
  'sh-fallback': SVC_F_SCHED1,
  'mh-fallback': SVC_F_SCHED1,
  'flag-1': SVC_F_SCHED1,
  'sh-port': SVC_F_SCHED2,
  'mh-port': SVC_F_SCHED2,
  'flag-2': SVC_F_SCHED2,
  'flag-3': SVC_F_SCHED3,
};

/**
 * `previous`: the running config. A service whose parsed config is the same as the one its running
 * spec came from keeps that spec object (the daemon then skips it without comparing). Services
 * whose checks read files when made (MySQL passwords, HTTP CA files) are always made again, so a
 * changed file is read.
 */
export function loadedConfigOf(config: DirectorConfig, previous?: LoadedConfig): LoadedConfig {
  const g = config.global;
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms / 1000));
  const settings: DirectorSettings = {
    timeouts: g.timeouts.tcpMs === undefined && g.timeouts.tcpfinMs === undefined && g.timeouts.udpMs === undefined ? undefined : { tcp: seconds(g.timeouts.tcpMs), tcpFin: seconds(g.timeouts.tcpfinMs), udp: seconds(g.timeouts.udpMs) },
    ipvsSysctl: g.ipvsSysctl,
    syncDaemon: g.syncDaemon && {
      // following an instance: backup until VRRP says otherwise
      state: g.syncDaemon.state ?? 'backup',
      mcastInterface: g.syncDaemon.interface,
      syncId: g.syncDaemon.syncId,
      maxLength: g.syncDaemon.maxLen,
      mcastGroup: g.syncDaemon.group,
      mcastPort: g.syncDaemon.port,
      mcastTtl: g.syncDaemon.ttl,
    },
    ...(g.syncDaemon?.instance ? { syncDaemonFollows: g.syncDaemon.instance } : {}),
    stateFile: g.stateFile,
    resync: g.resync,
    flushOnExit: g.flushOnExit,
  };
  const prev = previous?.serviceConfigs;
  let byId: Map<string, number> | undefined; // made only when the services moved
  const services = config.services.map((svc, i) => {
    if (!previous || !prev || readsFiles(svc)) return serviceSpecOf(svc);
    let j = i < prev.length && sameServiceKey(prev[i].key, svc.key) ? i : undefined;
    if (j === undefined) {
      byId ??= new Map(previous.services.map((spec, k) => [spec.id, k]));
      j = byId.get(serviceId(svc.key as ServiceKey));
    }
    return j !== undefined && sameServiceConfig(prev[j], svc) ? previous.services[j] : serviceSpecOf(svc);
  });
  return { settings, services, serviceConfigs: config.services, ...(config.vrrp ? { vrrp: config.vrrp } : {}) };
}

function readsFiles(svc: ServiceConfig): boolean {
  if (svc.checks.some(readsFile)) return true;
  for (const s of svc.servers) if (s.checks && s.checks.some(readsFile)) return true;
  return false;
}

function readsFile(c: CheckConfig): boolean {
  return c.type === 'mysql' || (c.type === 'http' && c.caFile !== undefined);
}

function sameServiceKey(a: ServiceConfig['key'], b: ServiceConfig['key']): boolean {
  return a.family === b.family && a.protocol === b.protocol && a.address === b.address && a.port === b.port && a.fwmark === b.fwmark;
}

/**
 * True when two parses of a service are equal. Field by field, for speed at 10,000 services (a
 * generic deep walk costs more than remaking the specs); the rare nested parts go to sameData.
 * A field added to ServiceConfig or ServerConfig must be added here (the unit test changes every
 * field of a full service and expects a difference).
 */
export function sameServiceConfig(a: ServiceConfig, b: ServiceConfig): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.scheduler !== b.scheduler || a.onePacket !== b.onePacket || a.persistenceEngine !== b.persistenceEngine || a.forward !== b.forward) return false;
  if (a.onFailure !== b.onFailure || a.active !== b.active || a.allDown !== b.allDown || a.slowStartMs !== b.slowStartMs || a.drainDeadlineMs !== b.drainDeadlineMs) return false;
  if (!sameServiceKey(a.key, b.key)) return false;
  if (!sameStrings(a.schedulerFlags, b.schedulerFlags)) return false;
  if (a.persistence !== b.persistence && (!a.persistence || !b.persistence || a.persistence.timeoutMs !== b.persistence.timeoutMs || a.persistence.netmask !== b.persistence.netmask)) return false;
  if (a.quorum !== b.quorum && (!a.quorum || !b.quorum || a.quorum.weight !== b.quorum.weight || a.quorum.hysteresis !== b.quorum.hysteresis)) return false;
  if ((a.sorryServer || b.sorryServer) && !sameData(a.sorryServer, b.sorryServer)) return false;
  if ((a.checks.length || b.checks.length) && !sameData(a.checks, b.checks)) return false;
  if ((a.maintenance.length || b.maintenance.length) && !sameData(a.maintenance, b.maintenance)) return false;
  const ta = a.checkDefaults;
  const tb = b.checkDefaults;
  if (ta.intervalMs !== tb.intervalMs || ta.timeoutMs !== tb.timeoutMs || ta.rise !== tb.rise || ta.fall !== tb.fall || ta.initialState !== tb.initialState || ta.jitter !== tb.jitter || ta.backoffMaxMs !== tb.backoffMaxMs) return false;
  if (a.servers.length !== b.servers.length) return false;
  for (let i = 0; i < a.servers.length; i++) {
    const x = a.servers[i];
    const y = b.servers[i];
    if (x.name !== y.name || x.address !== y.address || x.family !== y.family || x.port !== y.port || x.weight !== y.weight || x.forward !== y.forward) return false;
    if (x.thresholds.upper !== y.thresholds.upper || x.thresholds.lower !== y.thresholds.lower) return false;
    if ((x.tunnel || y.tunnel) && !sameData(x.tunnel, y.tunnel)) return false;
    if ((x.checks || y.checks) && !sameData(x.checks, y.checks)) return false;
  }
  return true;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deep equality of parsed config data (plain objects, arrays, strings, numbers, booleans). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.prototype) return isDeepStrictEqual(a, b); // a RegExp, say
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function serviceSpecOf(svc: ServiceConfig): ServiceSpec {
  const key = svc.key as ServiceKey;
  let flags = 0;
  for (const f of svc.schedulerFlags) flags |= FLAG_BITS[f] ?? 0;
  if (svc.persistence) flags |= SVC_F_PERSISTENT;
  if (svc.onePacket) flags |= SVC_F_ONEPACKET;
  const service: VirtualService = {
    key,
    scheduler: svc.scheduler,
    flags,
    timeout: svc.persistence ? Math.round(svc.persistence.timeoutMs / 1000) : 0,
    netmask: svc.persistence?.netmask ?? (key.family === 'inet6' ? 128 : '255.255.255.255'),
    ...(svc.persistenceEngine ? { persistenceEngine: svc.persistenceEngine } : {}),
  };
  const servers: ServerSpec[] = svc.servers.map((s) => {
    const server = realServerOf(s);
    return { id: serverId(server.key), name: s.name, server, checks: checksOf(svc, s) };
  });
  const byName = new Map(servers.map((s) => [s.name, s.id]));
  return {
    id: serviceId(key),
    name: svc.name,
    service,
    servers,
    onFailure: svc.onFailure,
    quorum: svc.quorum?.weight ?? 1,
    hysteresis: svc.quorum?.hysteresis ?? 0,
    sorry: svc.sorryServer && realServerOf({ ...svc.sorryServer, thresholds: { upper: 0, lower: 0 } }),
    active: svc.active,
    allDown: svc.allDown,
    slowStartMs: svc.slowStartMs,
    drainDeadlineMs: svc.drainDeadlineMs,
    maintenance: svc.maintenance.map((m) => ({ servers: m.servers.map((n) => byName.get(n) ?? n), schedule: m.schedule, durationMs: m.durationMs })),
    ...(svc.notify ? { notify: svc.notify } : {}),
  };
}

function realServerOf(s: Omit<ServerConfig, 'checks'>): RealServer {
  const rs: RealServer = {
    key: { family: s.family, address: s.address, port: s.port },
    forward: s.forward,
    weight: s.weight,
    upperThreshold: s.thresholds.upper,
    lowerThreshold: s.thresholds.lower,
  };
  if (s.forward === 'tunnel' && s.tunnel) {
    rs.tunnelType = s.tunnel.type;
    if (s.tunnel.type === 'gue') rs.tunnelPort = s.tunnel.port ?? 0;
    if (s.tunnel.type !== 'ipip') rs.tunnelChecksum = s.tunnel.checksum;
  }
  return rs;
}

/**
 * True when two loads of a service ask for exactly the same (a reload leaves it alone). Field by
 * field: a generic deep comparison of 10,000 services costs more than the rest of a reload.
 */
export function sameServiceSpec(a: ServiceSpec, b: ServiceSpec): boolean {
  if (a === b) return true;
  if (a.id !== b.id || a.name !== b.name || a.onFailure !== b.onFailure || a.quorum !== b.quorum || a.hysteresis !== b.hysteresis) return false;
  if (a.allDown !== b.allDown || a.active !== b.active || a.slowStartMs !== b.slowStartMs || a.drainDeadlineMs !== b.drainDeadlineMs || a.notify !== b.notify) return false;
  const sa = a.service;
  const sb = b.service;
  if (sa.scheduler !== sb.scheduler || sa.flags !== sb.flags || sa.timeout !== sb.timeout || String(sa.netmask) !== String(sb.netmask) || sa.persistenceEngine !== sb.persistenceEngine) return false;
  if (!sameRealServer(a.sorry, b.sorry)) return false;
  if ((a.maintenance.length || b.maintenance.length) && !isDeepStrictEqual(a.maintenance, b.maintenance)) return false;
  if (a.servers.length !== b.servers.length) return false;
  for (let i = 0; i < a.servers.length; i++) {
    const x = a.servers[i];
    const y = b.servers[i];
    if (x.id !== y.id || x.name !== y.name || !sameRealServer(x.server, y.server)) return false;
    if ((x.checks.length || y.checks.length) && !isDeepStrictEqual(x.checks, y.checks)) return false;
  }
  return true;
}

function sameRealServer(a: RealServer | undefined, b: RealServer | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.key.address === b.key.address &&
    a.key.port === b.key.port &&
    a.key.family === b.key.family &&
    a.forward === b.forward &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold &&
    a.tunnelType === b.tunnelType &&
    a.tunnelPort === b.tunnelPort &&
    a.tunnelChecksum === b.tunnelChecksum
  );
}
