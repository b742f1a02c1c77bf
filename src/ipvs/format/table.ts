// `ipvsadm -L` listings (ipvsadm.c list_all, list_service, print_title, print_service_entry),
// reproduced byte for byte, including the trailing spaces of left-aligned last columns.
import type { ForwardMethod, IpvsInfo, ObservedRealServer, ObservedService, RealServerSummary, TableEntry, TableSummaryEntry, VirtualService } from '../types';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../flags';
import { FORWARD_NAME, PROTOCOL_NAME, hasSchedulerFlags, persistenceMask, schedulerFlagsText, tunnelInfo } from './fields';
import type { Namer } from './names';
import { largeNumber } from './numbers';
import { left, right } from './printf';
import { sortRealServerRange, sortRealServers, sortServices } from './sort';
import { TextSink, putBytes, putIPv4, putInt, putLeftInt, putSpacesTo } from './sink';
import { summaryOf, type RealServerColumns, type TableBytes, type TableSummary } from '../summary';
import { FwdMethod } from '../spec';
import { LISTING_MODE, nativeText } from '../native-text';
import { DEST_DUMP_TYPES } from '../service-dump';

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

/** "Masq   " by FwdMethod code: the forwarding column of the default view, padded once */
const FORWARD_BYTES: Uint8Array[] = [];
for (const [k, name] of Object.entries(FORWARD_NAME)) FORWARD_BYTES[FwdMethod[k as ForwardMethod]] = Buffer.from(left(name, 7), 'latin1');
const ARROW = Buffer.from('  -> ', 'latin1');

function realServerLine(svc: VirtualService, rs: RealServerSummary, fmt: ListFormat): string {
  const name = left(realServerName(svc, rs, fmt.namer), 28);
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
    case 'default':
      throw new Error('the default columns are written by writeSummary');
  }
}

/** One service line followed by its real servers (sorted unless fmt.sort is false); not the default columns. */
export function formatServiceEntry(entry: TableSummaryEntry, fmt: ListFormat): string {
  const servers = fmt.sort ? sortRealServers(entry.realServers) : entry.realServers;
  let out = serviceLine(entry.service, fmt) + '\n';
  for (const rs of servers) out += realServerLine(entry.service, rs, fmt) + '\n';
  return out;
}

export function orderServices<E extends TableSummaryEntry>(entries: readonly E[], sort: boolean): readonly E[] {
  return sort ? sortServices(entries, (e) => e.service.key) : entries;
}

/**
 * The default columns (`ipvsadm -L [-n]`) of a summary, as bytes: the header when info is
 * given, the title, every service and its real servers. Real server lines are written from the
 * columns straight into the output (numeric IPv4 addresses never become strings); in numeric
 * mode by native-text.ts's C writer unless fmt.native is false.
 */
export function writeSummary(
  info: IpvsInfo | undefined,
  summary: TableSummary,
  fmt: Pick<ListFormat, 'sort' | 'namer'> & { native?: boolean },
): Buffer {
  const { ranges, servers } = summary;
  const n = ranges.length;
  const native = fmt.native !== false ? nativeText() : undefined;
  const keys = summary.keys;
  let listed: ArrayLike<number> | undefined;
  if (!fmt.sort) {
    listed = new Uint32Array(n);
    for (let i = 0; i < n; i++) (listed as Uint32Array)[i] = i;
  } else if (native && keys) listed = native.sortServices(keys.fwmark, keys.af, keys.protocol, keys.words, keys.port);
  else listed = sortServices(Array.from({ length: n }, (_, i) => i), (k) => summary.services[k].key);
  if (native && fmt.namer.numeric === true) {
    // service lines (from the C reader, else written here), then C writes the listing with them
    const head = new TextSink(512);
    if (info) head.text(formatHeader(info));
    head.text(formatTitle('default'));
    let lines = summary.serviceLines;
    if (!lines) {
      const text = new TextSink(4096 + n * 48);
      const ends = new Uint32Array(n);
      const lineFormat: ListFormat = { mode: 'default', exact: false, sort: fmt.sort, namer: fmt.namer };
      for (let i = 0; i < n; i++) {
        text.text(serviceLine(summary.services[i], lineFormat));
        text.byte(10);
        ends[i] = text.length;
      }
      lines = { text: text.result(), ends };
    }
    const { first, count } = ranges;
    const order = listed instanceof Uint32Array ? listed : Uint32Array.from(listed);
    const s = servers;
    const out = native.writeListing(head.result(), lines.text, lines.ends, order, first, count, fmt.sort, s.inet6, s.words, s.port, s.forward, s.weight, s.activeConns, s.inactiveConns);
    if (out) return out;
  }
  const services = summary.services;
  const out = new TextSink(4096 + servers.length * 72 + services.length * 48);
  if (info) out.text(formatHeader(info));
  out.text(formatTitle('default'));
  const order = new Uint32Array(servers.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (fmt.sort) {
    const tmp = new Uint32Array(servers.length);
    for (let i = 0; i < n; i++) sortRealServerRange(servers, order, ranges.first[i], ranges.count[i], tmp);
  }
  const lineFormat: ListFormat = { mode: 'default', exact: false, sort: fmt.sort, namer: fmt.namer };
  const numericIPv4 = fmt.namer.numeric === true;
  const inet6 = servers.inet6;
  for (let k = 0; k < listed.length; k++) {
    const i = listed[k];
    const svc = services[i];
    out.text(serviceLine(svc, lineFormat));
    out.byte(10);
    const first = ranges.first[i];
    const count = ranges.count[i];
    for (let j = first; j < first + count; j++) {
      const k = order[j];
      if (numericIPv4 && inet6[k] === 0) writeRealServerLine(out, servers, k, undefined);
      else {
        const v6 = inet6[k] === 1;
        const name = fmt.namer.addrPort(v6 ? 'inet6' : 'inet', servers.addressText(k), servers.port[k], svc.key.protocol);
        writeRealServerLine(out, servers, k, v6 ? name : name.slice(0, 28));
      }
    }
  }
  return out.result();
}

/**
 * "  -> %-28s %-7s %-6d %-10d %-10d\n" for real server k, in one reserve; without a name, its
 * IPv4 address and port are written as numbers straight from the columns.
 */
function writeRealServerLine(out: TextSink, servers: RealServerColumns, k: number, name: string | undefined): void {
  const b = out.reserve(128 + (name ? name.length * 3 : 0)); // a name is at most 59 characters
  const start = out.length;
  let p = putBytes(b, start, ARROW);
  if (name === undefined) {
    p = putIPv4(b, p, servers.words[k * 4]);
    b[p++] = 58;
    p = putInt(b, p, servers.port[k]);
  } else {
    out.length = p;
    out.text(name);
    p = out.length;
  }
  p = putSpacesTo(b, p, start + ARROW.length + 28);
  b[p++] = 32;
  p = putBytes(b, p, FORWARD_BYTES[servers.forward[k]]);
  b[p++] = 32;
  p = putLeftInt(b, p, servers.weight[k], 6);
  b[p++] = 32;
  p = putLeftInt(b, p, servers.activeConns[k], 10);
  b[p++] = 32;
  p = putLeftInt(b, p, servers.inactiveConns[k], 10);
  b[p++] = 10;
  out.length = p;
}

/**
 * A counters listing (`-n` with --stats, --rate, --thresholds or --persistent-conn), written by
 * native-text.ts's C writer from the kernel's bytes; undefined when it declines (formatTable then
 * writes the listing from a table read in JavaScript).
 */
export function writeCounters(info: IpvsInfo, table: TableBytes, fmt: Pick<ListFormat, 'mode' | 'exact' | 'sort'>): Buffer | undefined {
  const native = nativeText();
  const mode = fmt.mode === 'tun-info' ? undefined : LISTING_MODE[fmt.mode];
  if (!native || !mode) return undefined;
  const s = table.services;
  let order: Uint32Array;
  if (fmt.sort) order = native.sortServices(s.fwmark, s.af, s.protocol, s.words, s.port);
  else order = Uint32Array.from({ length: s.fwmark.length }, (_, i) => i);
  const head = Buffer.from(formatHeader(info) + formatTitle(fmt.mode), 'latin1');
  const { bytes, ends } = table.replies;
  return native.writeCounters(head, s.lines, s.lineEnds, order, s.af, bytes, ends, DEST_DUMP_TYPES, mode, fmt.exact, fmt.sort);
}

/** `ipvsadm -L [-n] [--stats|...]`: header, title, every service. */
export function formatTable(info: IpvsInfo, entries: readonly TableSummaryEntry[], fmt: ListFormat): string {
  if (fmt.mode === 'default') return writeSummary(info, summaryOf(entries), fmt).toString('utf8');
  const parts = [formatHeader(info), formatTitle(fmt.mode)];
  for (const e of orderServices(entries, fmt.sort)) parts.push(formatServiceEntry(e, fmt));
  return parts.join('');
}

/** `ipvsadm -L -t ADDR:PORT`: title and that one service, no version header. */
export function formatOneService(entry: TableSummaryEntry, fmt: ListFormat): string {
  if (fmt.mode === 'default') return writeSummary(undefined, summaryOf([entry]), fmt).toString('utf8');
  return formatTitle(fmt.mode) + formatServiceEntry(entry, fmt);
}
