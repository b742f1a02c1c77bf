// `ipvsadm -L` listings (ipvsadm.c list_all, list_service, print_title, print_service_entry),
// reproduced byte for byte, including the trailing spaces of left-aligned last columns.
import type { IpvsInfo, ObservedRealServer, ObservedService, RealServerSummary, TableEntry, TableSummaryEntry, TableView, VirtualService } from '../types';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../flags';
import { FORWARD_NAME, PROTOCOL_NAME, hasSchedulerFlags, persistenceMask, schedulerFlagsText, tunnelInfo } from './fields';
import type { Namer } from './names';
import { largeNumber } from './numbers';
import { left, right } from './printf';
import { SortScratch, sortRealServers, sortServices } from './sort';

/** A virtual service with its real servers, as one listing shows it. */
export type ServiceEntry = TableEntry;

// The default columns need only a summary (TableSummaryEntry); the others need the counters and
// thresholds of a full entry. Asking for them from a summary is a programming error.
function observedService(svc: VirtualService, mode: ListMode): ObservedService {
  if (!('stats' in svc)) throw new Error(`the ${mode} listing needs a full table (counters), not a summary`);
  return svc as ObservedService;
}

function observedRealServer(rs: RealServerSummary, mode: ListMode): ObservedRealServer {
  if (!('stats' in rs)) throw new Error(`the ${mode} listing needs a full table (counters, thresholds), not a summary`);
  return rs as ObservedRealServer;
}

/** Which columns to show. When several ipvsadm flags are given, the first of this list wins. */
export type ListMode = 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info' | 'default';

export interface ListFormat {
  mode: ListMode;
  exact: boolean;
  sort: boolean;
  namer: Namer;
}

export function listModeOf(flags: {
  stats?: boolean;
  rate?: boolean;
  thresholds?: boolean;
  persistentConn?: boolean;
  tunInfo?: boolean;
}): ListMode {
  if (flags.stats) return 'stats';
  if (flags.rate) return 'rate';
  if (flags.thresholds) return 'thresholds';
  if (flags.persistentConn) return 'persistent-conn';
  if (flags.tunInfo) return 'tun-info';
  return 'default';
}

export function versionText(version: number): string {
  return `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`;
}

export function formatHeader(info: IpvsInfo): string {
  return `IP Virtual Server version ${versionText(info.version)} (size=${info.connectionTableSize})\n`;
}

const REMOTE = '  -> RemoteAddress:Port\n';
const LOCAL = 'Prot LocalAddress:Port';

export function formatTitle(mode: ListMode): string {
  switch (mode) {
    case 'stats':
      return `${left(LOCAL, 33)} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((t) => right(t, 8)).join(' ')}\n${REMOTE}`;
    case 'rate':
      return `${left(LOCAL, 33)} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((t) => right(t, 8)).join(' ')}\n${REMOTE}`;
    case 'thresholds':
      return `${left(LOCAL, 33)} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((t) => left(t, 10)).join(' ')}\n${REMOTE}`;
    case 'persistent-conn':
      return `${left(LOCAL, 33)} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n${REMOTE}`;
    case 'tun-info':
      return `${LOCAL} Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n`;
    case 'default':
      return `${LOCAL} Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
  }
}

/** ipvsadm (Debian's 1.31, as seen in the lab) prints marks above 2^31-1 as negative numbers. */
export function signedMark(fwmark: number): number {
  return fwmark | 0;
}

/** "TCP  198.18.0.1:80" (IPv4 names cut at 33 characters), "FWM  7", "FWM  7 IPv6". */
export function serviceName(svc: VirtualService, namer: Namer): string {
  const k = svc.key;
  if (k.fwmark !== undefined) return k.family === 'inet6' ? `FWM  ${signedMark(k.fwmark)} IPv6` : `FWM  ${signedMark(k.fwmark)}`;
  const name = `${left(PROTOCOL_NAME[k.protocol], 4)} ${namer.addrPort(k.family, k.address, k.port, k.protocol)}`;
  return k.family === 'inet6' ? name : name.slice(0, 33);
}

function serviceLine(svc: VirtualService, fmt: ListFormat): string {
  const name = serviceName(svc, fmt.namer);
  const big = (n: bigint) => largeNumber(n, fmt.exact);
  switch (fmt.mode) {
    case 'stats': {
      const s = observedService(svc, fmt.mode).stats;
      return left(name, 33) + big(s.conns) + big(s.inPackets) + big(s.outPackets) + big(s.inBytes) + big(s.outBytes);
    }
    case 'rate': {
      const s = observedService(svc, fmt.mode).stats;
      return left(name, 33) + big(s.cps) + big(s.inPps) + big(s.outPps) + big(s.inBps) + big(s.outBps);
    }
    default: {
      let line = `${name} ${svc.scheduler}`;
      if (hasSchedulerFlags(svc)) line += ` (${schedulerFlagsText(svc)})`;
      if (svc.flags & SVC_F_PERSISTENT) {
        line += ` persistent ${svc.timeout}`;
        const mask = persistenceMask(svc);
        if (mask !== undefined) line += ` mask ${mask}`;
        if (svc.persistenceEngine) line += ` pe ${svc.persistenceEngine}`;
      }
      if (svc.flags & SVC_F_ONEPACKET) line += ' ops';
      return line;
    }
  }
}

/** The real server's "address:port", IPv4 cut at 28 characters as ipvsadm does. */
function realServerName(svc: VirtualService, rs: RealServerSummary, namer: Namer): string {
  const name = namer.addrPort(rs.key.family, rs.key.address, rs.key.port, svc.key.protocol);
  return rs.key.family === 'inet6' ? name : name.slice(0, 28);
}

function realServerLine(svc: VirtualService, rs: RealServerSummary, fmt: ListFormat): string {
  const name = left(realServerName(svc, rs, fmt.namer), 28);
  if (fmt.mode === 'default') return `  -> ${name} ${left(FORWARD_NAME[rs.forward], 7)} ${left(rs.weight, 6)} ${left(rs.activeConns, 10)} ${left(rs.inactiveConns, 10)}`;
  const d = observedRealServer(rs, fmt.mode);
  const s = d.stats;
  const big = (n: bigint) => largeNumber(n, fmt.exact);
  switch (fmt.mode) {
    case 'stats':
      return `  -> ${name}${big(s.conns)}${big(s.inPackets)}${big(s.outPackets)}${big(s.inBytes)}${big(s.outBytes)}`;
    case 'rate':
      return `  -> ${name} ${right(s.cps, 8)} ${right(s.inPps, 8)} ${right(s.outPps, 8)}${big(s.inBps)}${big(s.outBps)}`;
    case 'thresholds':
      return `  -> ${name} ${left(d.upperThreshold, 10)} ${left(d.lowerThreshold, 10)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`;
    case 'persistent-conn':
      return `  -> ${name} ${left(d.weight, 9)} ${left(d.persistentConns, 11)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`;
    case 'tun-info':
      return `  -> ${name} ${left(FORWARD_NAME[d.forward], 7)} ${left(tunnelInfo(d) ?? 'n/a', 13)} ${left(d.weight, 6)} ${left(d.activeConns, 10)} ${left(d.inactiveConns, 10)}`;
  }
}

/** One service line followed by its real servers (sorted unless fmt.sort is false), into out. */
function writeServiceEntry(out: LineSink, service: VirtualService, realServers: readonly RealServerSummary[], fmt: ListFormat, scratch?: SortScratch): void {
  const servers = fmt.sort ? sortRealServers(realServers, scratch) : realServers;
  out.line(serviceLine(service, fmt));
  for (const rs of servers) out.line(realServerLine(service, rs, fmt));
}

export function orderServices<E extends TableSummaryEntry>(entries: readonly E[], sort: boolean): readonly E[] {
  return sort ? sortServices(entries, (e) => e.service.key) : entries;
}

/** A view of entries already read. */
export function tableView<E extends TableSummaryEntry>(entries: readonly E[]): TableView<E['service'], E['realServers'][number]> {
  return { services: entries.map((e) => e.service), realServers: (i) => entries[i].realServers };
}

/**
 * `ipvsadm -L [-n] [--stats|...]`: header, title, every service, as the bytes to print. Each
 * service's real servers are asked of the view once, when its lines are written.
 */
export function writeTable(info: IpvsInfo, table: TableView<VirtualService, RealServerSummary>, fmt: ListFormat): Buffer {
  const services = table.services;
  const order = Array.from(services.keys());
  // room for a service and four real servers of the widest listing (--stats: 78 bytes a line); it grows when needed
  const out = new LineSink(1024 + services.length * 5 * 80);
  out.text(formatHeader(info) + formatTitle(fmt.mode));
  const scratch = new SortScratch();
  for (const i of fmt.sort ? sortServices(order, (i) => services[i].key) : order) writeServiceEntry(out, services[i], table.realServers(i), fmt, scratch);
  return out.result();
}

/** `ipvsadm -L -t ADDR:PORT`: title and that one service, no version header, as bytes. */
export function writeOneService(entry: TableSummaryEntry, fmt: ListFormat): Buffer {
  const out = new LineSink(1024);
  out.text(formatTitle(fmt.mode));
  writeServiceEntry(out, entry.service, entry.realServers, fmt);
  return out.result();
}

/** writeTable of entries, as text. */
export function formatTable(info: IpvsInfo, entries: readonly TableSummaryEntry[], fmt: ListFormat): string {
  return writeTable(info, tableView(entries), fmt).toString('utf8');
}

/** writeOneService as text. */
export function formatOneService(entry: TableSummaryEntry, fmt: ListFormat): string {
  return writeOneService(entry, fmt).toString('utf8');
}

/**
 * Lines written as bytes into one growing buffer as they are made: 50,000 lines kept as strings
 * until a join cost more in allocation and garbage collection than writing them.
 */
class LineSink {
  private buf: Buffer;
  private length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Text; ASCII byte by byte, anything else as UTF-8. */
  text(s: string): void {
    if (this.length + s.length * 3 > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + s.length * 3));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.length = p + b.write(s.slice(i), p, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.length = p;
  }

  line(s: string): void {
    this.text(s);
    this.text('\n');
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
