// The --json shape of every `lvsd ipvs list`. Plain and stable; documented in docs/ipvs-cli.md.
// Addresses are always numeric. 64-bit counters are decimal strings (JSON numbers lose precision
// above 2^53); everything else is a number, a string, a boolean or null.
import type { IpvsInfo, ObservedRealServer, ObservedService, Stats, SyncDaemon, Timeouts } from '../types';
import { canonicalAddress } from '../address';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../flags';
import { checksumOf, hasSchedulerFlags, schedulerFlagsText } from './fields';
import type { Connection } from './connections';
import { orderServices, versionText, type ServiceEntry } from './table';
import { sortRealServers } from './sort';

type StatsJson = Record<keyof Stats, string>;

function statsJson(s: Stats): StatsJson {
  return {
    conns: s.conns.toString(),
    inPackets: s.inPackets.toString(),
    outPackets: s.outPackets.toString(),
    inBytes: s.inBytes.toString(),
    outBytes: s.outBytes.toString(),
    cps: s.cps.toString(),
    inPps: s.inPps.toString(),
    outPps: s.outPps.toString(),
    inBps: s.inBps.toString(),
    outBps: s.outBps.toString(),
  };
}

function realServerJson(rs: ObservedRealServer) {
  return {
    family: rs.key.family,
    address: canonicalAddress(rs.key.family, rs.key.address),
    port: rs.key.port,
    forward: rs.forward,
    weight: rs.weight,
    upperThreshold: rs.upperThreshold,
    lowerThreshold: rs.lowerThreshold,
    activeConns: rs.activeConns,
    inactiveConns: rs.inactiveConns,
    persistentConns: rs.persistentConns,
    tunnel:
      rs.forward === 'tunnel'
        ? { type: rs.tunnelType ?? 'ipip', port: rs.tunnelType === 'gue' ? rs.tunnelPort ?? 0 : null, checksum: rs.tunnelType === 'ipip' || !rs.tunnelType ? null : checksumOf(rs) }
        : null,
    stats: statsJson(rs.stats),
  };
}

export function serviceJson(svc: ObservedService, realServers: readonly ObservedRealServer[]) {
  const k = svc.key;
  const identity =
    k.fwmark !== undefined
      ? { family: k.family, protocol: null, address: null, port: null, fwmark: k.fwmark }
      : { family: k.family, protocol: k.protocol, address: canonicalAddress(k.family, k.address), port: k.port, fwmark: null };
  const persistent = (svc.flags & SVC_F_PERSISTENT) !== 0;
  return {
    ...identity,
    scheduler: svc.scheduler,
    schedulerFlags: hasSchedulerFlags(svc) ? schedulerFlagsText(svc).split(',').filter(Boolean) : [],
    persistent,
    persistenceTimeout: persistent ? svc.timeout : null,
    persistenceNetmask: persistent ? (k.family === 'inet' ? String(svc.netmask) : Number(svc.netmask)) : null,
    persistenceEngine: svc.persistenceEngine || null,
    onePacket: (svc.flags & SVC_F_ONEPACKET) !== 0,
    flags: svc.flags,
    stats: statsJson(svc.stats),
    realServers: realServers.map(realServerJson),
  };
}

function entriesJson(entries: readonly ServiceEntry[], sort: boolean) {
  return orderServices(entries, sort).map((e) => serviceJson(e.service, sort ? sortRealServers(e.realServers) : e.realServers));
}

export function tableJson(info: IpvsInfo, entries: readonly ServiceEntry[], sort: boolean) {
  return { version: versionText(info.version), connectionTableSize: info.connectionTableSize, services: entriesJson(entries, sort) };
}

export function oneServiceJson(entry: ServiceEntry, sort: boolean) {
  return entriesJson([entry], sort)[0];
}

export function timeoutsJson(t: Timeouts) {
  return { tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp };
}

export function syncDaemonsJson(daemons: readonly SyncDaemon[]) {
  return daemons.map((d) => ({
    state: d.state,
    mcastInterface: d.mcastInterface,
    syncId: d.syncId,
    maxLength: d.maxLength ?? null,
    mcastGroup: d.mcastGroup ?? null,
    mcastPort: d.mcastPort ?? null,
    mcastTtl: d.mcastTtl ?? null,
  }));
}

export function connectionsJson(conns: readonly Connection[]) {
  return conns.map((c) => ({
    protocol: c.protocol,
    client: c.client,
    virtual: c.virtual,
    destination: c.destination,
    state: c.state,
    expires: c.expires,
    persistenceEngine: c.persistenceEngine ?? null,
    persistenceData: c.persistenceData ?? null,
  }));
}

/** JSON text as lvsd prints it: two-space indent, trailing newline. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
