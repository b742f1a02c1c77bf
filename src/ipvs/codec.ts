// lvsd's IPVS types <-> the attribute objects of spec.ts (and, for many ops, straight to bytes). Pure: no socket, no kernel.
import { InputError, MalformedMessageError } from '../errors';
import { fieldsEncoder, type Decoded } from '../netlink/schema';
import { HOST_LE, type Writer } from '../netlink/wire';
import { formatIPv4, formatIPv6, parseAddress, parseIPv4, parseIPv4Into, parseIPv6 } from './address';
import {
  AF_INET,
  AF_INET6,
  DaemonState,
  FwdMethod,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IP_VS_CONN_F_FWD_MASK,
  SvcFlag,
  TunnelFlag,
  TunnelTypeNum,
  daemonAttrs,
  destAttrs,
  serviceAttrs,
  stats64Attrs,
  statsAttrs,
} from './spec';
import type {
  Family,
  ForwardMethod,
  ObservedRealServer,
  ObservedService,
  Protocol,
  RealServer,
  RealServerKey,
  ServiceKey,
  Stats,
  SyncDaemon,
  TunnelChecksum,
  TunnelType,
  VirtualService,
} from './types';

export type ServiceAttrs = Decoded<typeof serviceAttrs>;
export type DestAttrs = Decoded<typeof destAttrs>;
export type DaemonAttrs = Decoded<typeof daemonAttrs>;

const AF: Record<Family, number> = { inet: AF_INET, inet6: AF_INET6 };
const PROTO: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

function familyOf(af: number | undefined, where: string): Family {
  if (af === AF_INET) return 'inet';
  if (af === AF_INET6) return 'inet6';
  throw new MalformedMessageError(`${where}: address family ${af ?? '(missing)'} is neither AF_INET nor AF_INET6`);
}

function protocolOf(p: number | undefined): Protocol {
  if (p === IPPROTO_TCP) return 'tcp';
  if (p === IPPROTO_UDP) return 'udp';
  if (p === IPPROTO_SCTP) return 'sctp';
  throw new MalformedMessageError(`IPVS service: protocol ${p ?? '(missing)'} is not TCP, UDP or SCTP`);
}

// Persistence masks are few and repeated on every service of a restore: parse each once.
const maskCache = { inet: new Map<string | number, Buffer>(), inet6: new Map<string | number, Buffer>() };

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first four. */
export function addrBytes(family: Family, text: string, what: string): Buffer {
  const parsed = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (!parsed) throw new InputError(`${what}: "${text}" is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  const out = Buffer.alloc(16);
  out.set(parsed, 0);
  return out;
}

// For the writers below: an IPv4 address's 16 bytes, its first 4 filled again for each value
// written (only IPv4 goes here, so the other 12 stay zero).
const scratchAddr = Buffer.alloc(16);

/** addrBytes, for IPv4 into a buffer reused for every call: valid until the next call. */
function scratchAddrBytes(family: Family, text: string, what: string): Buffer {
  if (family !== 'inet') return addrBytes(family, text, what);
  if (!parseIPv4Into(text, scratchAddr, 0)) throw new InputError(`${what}: "${text}" is not an IPv4 address`);
  return scratchAddr;
}

/** The address in the first 4 (IPv4) or 16 bytes of b (a union nf_inet_addr). */
export function addrText(family: Family, b: Buffer): string {
  if (b.length < (family === 'inet' ? 4 : 16)) throw new MalformedMessageError(`${b.length}-byte address for ${family}`);
  // no view of the first bytes: the formatters read only those
  return family === 'inet' ? formatIPv4(b) : formatIPv6(b);
}

// IPVS_SVC_ATTR_NETMASK is a __be32: a network-order mask for IPv4, a prefix length in host order for IPv6.
function netmaskBytes(family: Family, mask: string | number): Buffer {
  let out = maskCache[family].get(mask);
  if (out) return out;
  out = Buffer.alloc(4);
  if (family === 'inet') {
    const bytes = parseIPv4(String(mask));
    if (!bytes) throw new InputError(`persistence netmask "${mask}" is not a dotted IPv4 mask`);
    out.set(bytes);
  } else {
    const n = Number(mask);
    if (!Number.isInteger(n) || n < 1 || n > 128) throw new InputError(`persistence prefix length "${mask}" is not 1..128`);
    if (HOST_LE) out.writeUInt32LE(n);
    else out.writeUInt32BE(n);
  }
  if (maskCache[family].size < 1024) maskCache[family].set(mask, out);
  return out;
}

function netmaskValue(family: Family, b: Buffer | undefined): string | number {
  if (!b) return family === 'inet' ? '255.255.255.255' : 128;
  return family === 'inet' ? formatIPv4(b) : HOST_LE ? b.readUInt32LE(0) : b.readUInt32BE(0);
}

/** Identity attributes: (af, fwmark) or (af, protocol, addr, port). */
export function serviceKeyAttrs(key: ServiceKey): ServiceAttrs {
  if (key.fwmark !== undefined) return { af: AF[key.family], fwmark: key.fwmark };
  return { af: AF[key.family], protocol: PROTO[key.protocol], addr: addrBytes(key.family, key.address, 'virtual service address'), port: key.port };
}

// Encoders of these attribute sets from values, for writing many ops (a restore) without an
// attribute object, a Buffer per address and a struct object per op.
const serviceFields = fieldsEncoder(serviceAttrs, ['af', 'protocol', 'addr', 'port', 'fwmark', 'schedName', 'flags', 'timeout', 'netmask', 'peName']);
const destFields = fieldsEncoder(destAttrs, ['addr', 'port', 'addrFamily', 'fwdMethod', 'weight', 'uThresh', 'lThresh']);

/** Writes serviceKeyAttrs(key) (the same bytes) into an open nest; `where` names it in errors. */
export function writeServiceKey(w: Writer, key: ServiceKey, where: string): void {
  if (key.fwmark !== undefined) serviceFields(w, where, AF[key.family], undefined, undefined, undefined, key.fwmark);
  else serviceFields(w, where, AF[key.family], PROTO[key.protocol], scratchAddrBytes(key.family, key.address, 'virtual service address'), key.port);
}

/** Writes serviceAttrsOf(svc) (the same bytes) into an open nest. */
export function writeService(w: Writer, svc: VirtualService, where: string): void {
  const key = svc.key;
  const fw = key.fwmark !== undefined;
  // in serviceAttrsOf's order, so that a bad value gets the same error
  const addr = fw ? undefined : scratchAddrBytes(key.family, key.address, 'virtual service address');
  const netmask = netmaskBytes(key.family, svc.netmask);
  const flags = { flags: svc.flags & ~SvcFlag.HASHED, mask: 0xffffffff };
  const pe = svc.persistenceEngine ? svc.persistenceEngine : undefined;
  const protocol = fw ? undefined : PROTO[key.protocol];
  serviceFields(w, where, AF[key.family], protocol, addr, fw ? undefined : key.port, key.fwmark, svc.scheduler, flags, svc.timeout, netmask, pe);
}

/** Writes realServerAttrsOf(rs) (the same bytes) into an open nest, for a server that is no tunnel. */
export function writeRealServer(w: Writer, rs: RealServer, where: string): void {
  const addr = scratchAddrBytes(rs.key.family, rs.key.address, 'real server address');
  destFields(w, where, addr, rs.key.port, AF[rs.key.family], FwdMethod[rs.forward], rs.weight, rs.upperThreshold, rs.lowerThreshold);
}

/** Full attributes for NEW_SERVICE / SET_SERVICE (the kernel wants all four settings). */
export function serviceAttrsOf(svc: VirtualService): ServiceAttrs {
  const a = serviceKeyAttrs(svc.key);
  a.schedName = svc.scheduler;
  a.flags = { flags: svc.flags & ~SvcFlag.HASHED, mask: 0xffffffff };
  a.timeout = svc.timeout;
  a.netmask = netmaskBytes(svc.key.family, svc.netmask);
  if (svc.persistenceEngine) a.peName = svc.persistenceEngine;
  return a;
}

const ZERO_STATS: Stats = { conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };

type Stats32 = Decoded<typeof statsAttrs>;
type Stats64 = Decoded<typeof stats64Attrs>;
function statsOf(s64: Stats64 | undefined, s32: Stats32 | undefined): Stats {
  if (s64) {
    // the common case, a listing's every entry: the decoded values as they are
    return {
      conns: s64.conns ?? 0n,
      inPackets: s64.inPkts ?? 0n,
      outPackets: s64.outPkts ?? 0n,
      inBytes: s64.inBytes ?? 0n,
      outBytes: s64.outBytes ?? 0n,
      cps: s64.cps ?? 0n,
      inPps: s64.inPps ?? 0n,
      outPps: s64.outPps ?? 0n,
      inBps: s64.inBps ?? 0n,
      outBps: s64.outBps ?? 0n,
    };
  }
  const s = s32;
  if (!s) return { ...ZERO_STATS };
  const n = (v: number | bigint | undefined) => BigInt(v ?? 0);
  return {
    conns: n(s.conns),
    inPackets: n(s.inPkts),
    outPackets: n(s.outPkts),
    inBytes: n(s.inBytes),
    outBytes: n(s.outBytes),
    cps: n(s.cps),
    inPps: n(s.inPps),
    outPps: n(s.outPps),
    inBps: n(s.inBps),
    outBps: n(s.outBps),
  };
}

export function serviceFromAttrs(a: ServiceAttrs): ObservedService {
  const svc = virtualServiceFromAttrs(a) as ObservedService;
  svc.stats = statsOf(a.stats64, a.stats);
  return svc;
}

/** A service's identity and settings, without counters (for views that decode no stats). */
export function virtualServiceFromAttrs(a: ServiceAttrs): VirtualService {
  const family = familyOf(a.af, 'IPVS service');
  let key: ServiceKey;
  if (a.fwmark) key = { family, fwmark: a.fwmark };
  else {
    if (!a.addr || a.port === undefined) throw new MalformedMessageError('IPVS service: neither fwmark nor address and port');
    key = { family, protocol: protocolOf(a.protocol), address: addrText(family, a.addr), port: a.port };
  }
  const svc: VirtualService = {
    key,
    scheduler: a.schedName ?? '',
    flags: (a.flags?.flags ?? 0) & ~SvcFlag.HASHED,
    timeout: a.timeout ?? 0,
    netmask: netmaskValue(family, a.netmask),
  };
  if (a.peName) svc.persistenceEngine = a.peName;
  return svc;
}

export function realServerKeyAttrs(rs: RealServerKey): DestAttrs {
  return { addr: addrBytes(rs.family, rs.address, 'real server address'), port: rs.port, addrFamily: AF[rs.family] };
}

const TUN_TYPE_NAME = Object.fromEntries(Object.entries(TunnelTypeNum).map(([k, v]) => [v, k])) as Record<number, TunnelType>;
const FWD_NAME = Object.fromEntries(Object.entries(FwdMethod).map(([k, v]) => [v, k])) as Record<number, ForwardMethod>;

/** Full attributes for NEW_DEST / SET_DEST. */
export function realServerAttrsOf(rs: RealServer): DestAttrs {
  const a = realServerKeyAttrs(rs.key);
  a.fwdMethod = FwdMethod[rs.forward];
  a.weight = rs.weight;
  a.uThresh = rs.upperThreshold;
  a.lThresh = rs.lowerThreshold;
  if (rs.forward === 'tunnel') {
    const type = rs.tunnelType ?? 'ipip';
    a.tunType = TunnelTypeNum[type];
    if (type === 'gue') a.tunPort = rs.tunnelPort ?? 0;
    if (type !== 'ipip') a.tunFlags = TunnelFlag[rs.tunnelChecksum ?? 'nocsum'];
  }
  return a;
}

function checksumOf(flags: number): TunnelChecksum {
  if (flags & TunnelFlag.remcsum) return 'remcsum';
  if (flags & TunnelFlag.csum) return 'csum';
  return 'nocsum';
}

/** A destination as the kernel reports it; its family defaults to the service's (older kernels). */
export function realServerFromAttrs(a: DestAttrs, serviceFamily: Family): ObservedRealServer {
  const family = a.addrFamily ? familyOf(a.addrFamily, 'IPVS real server') : serviceFamily;
  if (!a.addr || a.port === undefined) throw new MalformedMessageError('IPVS real server: address or port missing');
  const forward = FWD_NAME[(a.fwdMethod ?? 0) & IP_VS_CONN_F_FWD_MASK];
  if (!forward) throw new MalformedMessageError(`IPVS real server: forwarding method ${a.fwdMethod} unknown`);
  const rs: ObservedRealServer = {
    key: { address: addrText(family, a.addr), port: a.port, family },
    forward,
    weight: a.weight ?? 0,
    upperThreshold: a.uThresh ?? 0,
    lowerThreshold: a.lThresh ?? 0,
    activeConns: a.activeConns ?? 0,
    inactiveConns: a.inactConns ?? 0,
    persistentConns: a.persistConns ?? 0,
    stats: statsOf(a.stats64, a.stats),
  };
  if (forward === 'tunnel') {
    const type = TUN_TYPE_NAME[a.tunType ?? 0];
    if (!type) throw new MalformedMessageError(`IPVS real server: tunnel type ${a.tunType} unknown`);
    rs.tunnelType = type;
    if (type === 'gue') rs.tunnelPort = a.tunPort ?? 0;
    if (type !== 'ipip') rs.tunnelChecksum = checksumOf(a.tunFlags ?? 0);
  }
  return rs;
}

export function daemonAttrsOf(d: SyncDaemon): DaemonAttrs {
  const a: DaemonAttrs = { state: DaemonState[d.state], mcastIfn: d.mcastInterface, syncId: d.syncId };
  if (d.maxLength) a.syncMaxLen = d.maxLength;
  if (d.mcastGroup) {
    const g = parseAddress(d.mcastGroup);
    if (!g) throw new InputError(`sync daemon multicast group "${d.mcastGroup}" is not an address`);
    if (g.family === 'inet') a.mcastGroup = Buffer.from(g.bytes);
    else a.mcastGroup6 = Buffer.from(g.bytes);
  }
  if (d.mcastPort) a.mcastPort = d.mcastPort;
  if (d.mcastTtl) a.mcastTtl = d.mcastTtl;
  return a;
}

export function daemonFromAttrs(a: DaemonAttrs): SyncDaemon {
  const state = a.state === DaemonState.master ? 'master' : a.state === DaemonState.backup ? 'backup' : undefined;
  if (!state) throw new MalformedMessageError(`IPVS sync daemon: state ${a.state} is neither master nor backup`);
  const d: SyncDaemon = { state, mcastInterface: a.mcastIfn ?? '', syncId: a.syncId ?? 0 };
  if (a.syncMaxLen) d.maxLength = a.syncMaxLen;
  if (a.mcastGroup) d.mcastGroup = formatIPv4(a.mcastGroup);
  else if (a.mcastGroup6) d.mcastGroup = formatIPv6(a.mcastGroup6);
  if (a.mcastPort) d.mcastPort = a.mcastPort;
  if (a.mcastTtl) d.mcastTtl = a.mcastTtl;
  return d;
}
