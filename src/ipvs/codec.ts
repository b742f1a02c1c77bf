// lvsd's IPVS types -> request bytes (one writer per object) and reply attributes -> lvsd's types. Pure: no socket, no kernel.
import { InputError, MalformedMessageError } from '../errors';
import { fieldsEncoder, type Decoded } from '../netlink/schema';
import { HOST_LE, Writer } from '../netlink/wire';
import { formatIPv4, formatIPv6, parseAddress, parseIPv4, parseIPv4Into, parseIPv6 } from './address';
import {
  AF_INET,
  AF_INET6,
  Cmd,
  DaemonState,
  FwdMethod,
  IPVS_GENL_VERSION,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IP_VS_CONN_F_FWD_MASK,
  SvcFlag,
  TunnelFlag,
  TunnelTypeNum,
  cmdAttrs,
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
  IpvsOp,
  SyncDaemon,
  SyncDaemonState,
  Timeouts,
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

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first four. */
export function addrBytes(family: Family, text: string, what: string): Buffer {
  const parsed = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (!parsed) throw new InputError(`${what}: "${text}" is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  const out = Buffer.alloc(16);
  out.set(parsed, 0);
  return out;
}

export function addrText(family: Family, b: Buffer): string {
  if (b.length < (family === 'inet' ? 4 : 16)) throw new MalformedMessageError(`${b.length}-byte address for ${family}`);
  // no view of the first bytes: the formatters read only those
  return family === 'inet' ? formatIPv4(b) : formatIPv6(b);
}

// IPVS_SVC_ATTR_NETMASK is a __be32: a network-order mask for IPv4, a prefix length in host order for IPv6.
function netmaskBytes(family: Family, mask: string | number): Buffer {
  const out = Buffer.alloc(4);
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
  return out;
}

function netmaskValue(family: Family, b: Buffer | undefined): string | number {
  if (!b) return family === 'inet' ? '255.255.255.255' : 128;
  if (family !== 'inet') return HOST_LE ? b.readUInt32LE(0) : b.readUInt32BE(0);
  // nearly every service has the default: one string for all of them, not one each
  return b[0] === 255 && b[1] === 255 && b[2] === 255 && b[3] === 255 ? '255.255.255.255' : formatIPv4(b);
}

// Encoders of these attribute sets from values: no attribute object, no Buffer per address.
const serviceFields = fieldsEncoder(serviceAttrs, ['af', 'protocol', 'addr', 'port', 'fwmark', 'schedName', 'flags', 'timeout', 'netmask', 'peName']);
const destFields = fieldsEncoder(destAttrs, ['addr', 'port', 'addrFamily', 'fwdMethod', 'weight', 'uThresh', 'lThresh', 'tunType', 'tunPort', 'tunFlags']);
const daemonFields = fieldsEncoder(daemonAttrs, ['state', 'mcastIfn', 'syncId', 'syncMaxLen', 'mcastGroup', 'mcastGroup6', 'mcastPort', 'mcastTtl']);
const timeoutFields = fieldsEncoder(cmdAttrs, ['timeoutTcp', 'timeoutTcpFin', 'timeoutUdp']);

const CMD_SERVICE = cmdAttrs.attrs.find((a) => a.name === 'service')!;
const CMD_DEST = cmdAttrs.attrs.find((a) => a.name === 'dest')!;
const CMD_DAEMON = cmdAttrs.attrs.find((a) => a.name === 'daemon')!;
// where encode() would name them in errors
const IN_SERVICE = `${cmdAttrs.name} > ${CMD_SERVICE.kernel}`;
const IN_DEST = `${cmdAttrs.name} > ${CMD_DEST.kernel}`;
const IN_DAEMON = `${cmdAttrs.name} > ${CMD_DAEMON.kernel}`;

/**
 * The one encoder of IPVS objects into request attributes. One per batch of messages: it keeps
 * an address buffer and the persistence masks seen, for that batch only.
 */
export class IpvsWriter {
  private readonly addr = Buffer.alloc(16);
  private readonly masks = new Map<string, Buffer>();

  constructor(readonly w: Writer) {}

  /** An IPv4 address's 16 bytes in the writer's own buffer (valid until the next call); IPv6 in a new one. */
  private address(family: Family, text: string, what: string): Buffer {
    if (family !== 'inet') return addrBytes(family, text, what);
    if (!parseIPv4Into(text, this.addr, 0)) throw new InputError(`${what}: "${text}" is not an IPv4 address`);
    return this.addr;
  }

  private netmask(family: Family, mask: string | number): Buffer {
    const id = `${family} ${mask}`;
    let out = this.masks.get(id);
    if (!out) this.masks.set(id, (out = netmaskBytes(family, mask)));
    return out;
  }

  /** IPVS_CMD_ATTR_SERVICE with the key only: (af, fwmark) or (af, protocol, addr, port). */
  serviceKey(key: ServiceKey): void {
    const nest = this.w.beginNest(CMD_SERVICE.type);
    if (key.fwmark !== undefined) serviceFields(this.w, IN_SERVICE, AF[key.family], undefined, undefined, undefined, key.fwmark);
    else serviceFields(this.w, IN_SERVICE, AF[key.family], PROTO[key.protocol], this.address(key.family, key.address, 'virtual service address'), key.port);
    this.w.endNest(nest);
  }

  /** IPVS_CMD_ATTR_SERVICE with every setting (NEW_SERVICE / SET_SERVICE want all four). */
  service(svc: VirtualService): void {
    const key = svc.key;
    const fw = key.fwmark !== undefined;
    const nest = this.w.beginNest(CMD_SERVICE.type);
    const addr = fw ? undefined : this.address(key.family, key.address, 'virtual service address');
    const netmask = this.netmask(key.family, svc.netmask);
    const flags = { flags: svc.flags & ~SvcFlag.HASHED, mask: 0xffffffff };
    const pe = svc.persistenceEngine ? svc.persistenceEngine : undefined;
    const protocol = fw ? undefined : PROTO[key.protocol];
    serviceFields(this.w, IN_SERVICE, AF[key.family], protocol, addr, fw ? undefined : key.port, key.fwmark, svc.scheduler, flags, svc.timeout, netmask, pe);
    this.w.endNest(nest);
  }

  /** IPVS_CMD_ATTR_DEST with every setting (NEW_DEST / SET_DEST), tunnel options included. */
  realServer(rs: RealServer): void {
    const nest = this.w.beginNest(CMD_DEST.type);
    const addr = this.address(rs.key.family, rs.key.address, 'real server address');
    let tunType: number | undefined;
    let tunPort: number | undefined;
    let tunFlags: number | undefined;
    if (rs.forward === 'tunnel') {
      const type = rs.tunnelType ?? 'ipip';
      tunType = TunnelTypeNum[type];
      if (type === 'gue') tunPort = rs.tunnelPort ?? 0;
      if (type !== 'ipip') tunFlags = TunnelFlag[rs.tunnelChecksum ?? 'nocsum'];
    }
    destFields(this.w, IN_DEST, addr, rs.key.port, AF[rs.key.family], FwdMethod[rs.forward], rs.weight, rs.upperThreshold, rs.lowerThreshold, tunType, tunPort, tunFlags);
    this.w.endNest(nest);
  }

  /** IPVS_CMD_ATTR_DEST with the key only (DEL_DEST). */
  realServerKey(key: RealServerKey): void {
    const nest = this.w.beginNest(CMD_DEST.type);
    destFields(this.w, IN_DEST, this.address(key.family, key.address, 'real server address'), key.port, AF[key.family]);
    this.w.endNest(nest);
  }

  /** IPVS_CMD_ATTR_DAEMON: a whole daemon (NEW_DAEMON), or its state only (DEL_DAEMON). */
  daemon(d: SyncDaemon | SyncDaemonState): void {
    const nest = this.w.beginNest(CMD_DAEMON.type);
    if (typeof d === 'string') daemonFields(this.w, IN_DAEMON, DaemonState[d]);
    else {
      let group4: Buffer | undefined;
      let group6: Buffer | undefined;
      if (d.mcastGroup) {
        const g = parseAddress(d.mcastGroup);
        if (!g) throw new InputError(`sync daemon multicast group "${d.mcastGroup}" is not an address`);
        if (g.family === 'inet') group4 = Buffer.from(g.bytes);
        else group6 = Buffer.from(g.bytes);
      }
      daemonFields(this.w, IN_DAEMON, DaemonState[d.state], d.mcastInterface, d.syncId, d.maxLength || undefined, group4, group6, d.mcastPort || undefined, d.mcastTtl || undefined);
    }
    this.w.endNest(nest);
  }

  timeouts(t: Timeouts): void {
    timeoutFields(this.w, cmdAttrs.name, t.tcp, t.tcpFin, t.udp);
  }
}

const OP_CMD: Record<IpvsOp['kind'], number> = {
  'add-service': Cmd.NEW_SERVICE,
  'edit-service': Cmd.SET_SERVICE,
  'delete-service': Cmd.DEL_SERVICE,
  'add-server': Cmd.NEW_DEST,
  'edit-server': Cmd.SET_DEST,
  'delete-server': Cmd.DEL_DEST,
  zero: Cmd.ZERO,
  flush: Cmd.FLUSH,
  'set-timeouts': Cmd.SET_CONFIG,
  'start-daemon': Cmd.NEW_DAEMON,
  'stop-daemon': Cmd.DEL_DAEMON,
};

/** Whether two keys name the same service. */
export function sameService(a: ServiceKey, b: ServiceKey): boolean {
  return a === b || (a.family === b.family && a.fwmark === b.fwmark && a.protocol === b.protocol && a.port === b.port && a.address === b.address);
}

/**
 * The request messages of ops, back to back in one buffer; message i ends at ends[i]. Throws
 * InputError (or MalformedMessageError) for the first op that cannot be encoded: nothing is sent
 * then. A restore names each service on several messages in a row: its key is written once and
 * repeated.
 */
export function writeOps(familyId: number, ops: readonly IpvsOp[]): { buf: Buffer; ends: Uint32Array } {
  // 144 bytes: a little more than an IPv4 NEW_DEST (140), so that a restore's buffer never grows
  const w = new Writer(Math.max(256, ops.length * 144));
  const enc = new IpvsWriter(w);
  const ends = new Uint32Array(ops.length);
  let last: ServiceKey | undefined;
  let lastFrom = 0;
  let lastTo = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const at = w.beginMessage(familyId, 0);
    w.u8(OP_CMD[op.kind]);
    w.u8(IPVS_GENL_VERSION);
    w.u16(0);
    switch (op.kind) {
      case 'add-service':
      case 'edit-service':
        enc.service(op.service);
        break;
      case 'set-timeouts':
        enc.timeouts(op.timeouts);
        break;
      case 'start-daemon':
        enc.daemon(op.daemon);
        break;
      case 'stop-daemon':
        enc.daemon(op.state);
        break;
      case 'flush':
        break;
      default: {
        // IPVS_CMD_ATTR_SERVICE (the key) comes first, then IPVS_CMD_ATTR_DEST
        const key = op.service;
        if (key && last && sameService(key, last)) w.repeat(lastFrom, lastTo);
        else if (key) {
          lastFrom = w.length;
          enc.serviceKey(key);
          lastTo = w.length;
          last = key;
        }
        if (op.kind === 'add-server' || op.kind === 'edit-server') enc.realServer(op.server);
        else if (op.kind === 'delete-server') enc.realServerKey(op.server);
      }
    }
    w.endMessage(at);
    ends[i] = w.length;
  }
  return { buf: w.view(), ends };
}

/** A request naming one service by its key (GET_SERVICE, a GET_DEST dump). */
export function serviceKeyRequest(familyId: number, cmd: number, key: ServiceKey): Buffer {
  const w = new Writer(128);
  const at = w.beginMessage(familyId, 0);
  w.u8(cmd);
  w.u8(IPVS_GENL_VERSION);
  w.u16(0);
  new IpvsWriter(w).serviceKey(key);
  w.endMessage(at);
  return Buffer.from(w.view());
}

const ZERO_STATS: Stats = { conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };

type Stats32 = Decoded<typeof statsAttrs>;
type Stats64 = Decoded<typeof stats64Attrs>;
function statsOf(s64: Stats64 | undefined, s32: Stats32 | undefined): Stats {
  if (s64) {
    // the common case, a listing's every entry: the decoded counters are the Stats as they are (the names match)
    if (
      s64.conns !== undefined && s64.inPackets !== undefined && s64.outPackets !== undefined && s64.inBytes !== undefined && s64.outBytes !== undefined &&
      s64.cps !== undefined && s64.inPps !== undefined && s64.outPps !== undefined && s64.inBps !== undefined && s64.outBps !== undefined &&
      s64.unknown === undefined
    ) {
      return s64 as Stats;
    }
    return {
      conns: s64.conns ?? 0n,
      inPackets: s64.inPackets ?? 0n,
      outPackets: s64.outPackets ?? 0n,
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
    inPackets: n(s.inPackets),
    outPackets: n(s.outPackets),
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


const TUN_TYPE_NAME = Object.fromEntries(Object.entries(TunnelTypeNum).map(([k, v]) => [v, k])) as Record<number, TunnelType>;
const FWD_NAME = Object.fromEntries(Object.entries(FwdMethod).map(([k, v]) => [v, k])) as Record<number, ForwardMethod>;


function checksumOf(flags: number): TunnelChecksum {
  if (flags & TunnelFlag.remcsum) return 'remcsum';
  if (flags & TunnelFlag.csum) return 'csum';
  return 'nocsum';
}

/** A destination as the kernel reports it; its family defaults to the service's (older kernels). */
export function realServerFromAttrs(a: DestAttrs, serviceFamily: Family): ObservedRealServer {
  const rs = realServerSettingsFromAttrs(a, serviceFamily) as ObservedRealServer;
  rs.stats = statsOf(a.stats64, a.stats);
  return rs;
}

/** A real server without counters (for views that decode no stats: the default listing). */
export function realServerSettingsFromAttrs(a: DestAttrs, serviceFamily: Family): Omit<ObservedRealServer, 'stats'> {
  const family = a.addrFamily ? familyOf(a.addrFamily, 'IPVS real server') : serviceFamily;
  if (!a.addr || a.port === undefined) throw new MalformedMessageError('IPVS real server: address or port missing');
  const forward = FWD_NAME[(a.fwdMethod ?? 0) & IP_VS_CONN_F_FWD_MASK];
  if (!forward) throw new MalformedMessageError(`IPVS real server: forwarding method ${a.fwdMethod} unknown`);
  const rs: Omit<ObservedRealServer, 'stats'> = {
    key: { address: addrText(family, a.addr), port: a.port, family },
    forward,
    weight: a.weight ?? 0,
    upperThreshold: a.uThresh ?? 0,
    lowerThreshold: a.lThresh ?? 0,
    activeConns: a.activeConns ?? 0,
    inactiveConns: a.inactConns ?? 0,
    persistentConns: a.persistConns ?? 0,
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
