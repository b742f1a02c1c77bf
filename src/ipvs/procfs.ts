// /proc/net/ip_vs: the kernel's own text listing of the table (ip_vs_info_seq_show in
// net/netfilter/ipvs/ip_vs_ctl.c). One read gives every real server's address, port, forwarding
// method, weight and connection counts, which would otherwise take one netlink dump per service.
// The kernel writes IPv4 addresses as 8 hex digits, IPv6 in full colon form in brackets (per
// real server: a tunnel's real server may differ in family from its service), ports as 4 hex
// digits, fwmark services as "FWM  <8 hex digits>" without their family.
import { closeSync, openSync, readSync } from 'node:fs';
import { KernelTextError } from '../errors';
import { formatIPv6, parseIPv6 } from './address';
import type { Family, ForwardMethod, Protocol, RealServerSummary, ServiceKey } from './types';

export const IPVS_PROC_PATH = '/proc/net/ip_vs';

export interface ProcTable {
  /** real servers in kernel order, by joinKey of their service */
  realServers: Map<string, RealServerSummary[]>;
  /** keys seen more than once: an IPv4 and an IPv6 service with the same fwmark look alike here */
  ambiguous: Set<string>;
}

const PROTOCOL: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
const FORWARD: Record<string, ForwardMethod> = { Masq: 'masq', Local: 'local', Tunnel: 'tunnel', Route: 'route' };

/** The key a service from netlink and the same service in /proc/net/ip_vs share. */
export function joinKey(key: ServiceKey): string {
  return key.fwmark !== undefined ? `FWM ${key.fwmark}` : `${key.protocol} ${key.address} ${key.port}`;
}

// A scanner over the text, field by field, without splitting it into lines and tokens first:
// a 10,000-service table is 50,000 lines, and under emulation every string made costs.
class Scanner {
  pos = 0;
  lineNo = 1;
  lineStart = 0;
  constructor(
    readonly text: string,
    private readonly what: string,
  ) {}

  error(problem: string): KernelTextError {
    const end = this.text.indexOf('\n', this.lineStart);
    const line = this.text.slice(this.lineStart, end === -1 ? undefined : end);
    const shown = line.length > 80 ? `${line.slice(0, 80)}...` : line;
    return new KernelTextError(`${this.what} line ${this.lineNo}: ${problem}: "${shown}"`);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  skipSpaces(): void {
    while (this.text.charCodeAt(this.pos) === 32) this.pos++;
  }
  /** the rest of the line is skipped; the next one starts */
  nextLine(): void {
    const end = this.text.indexOf('\n', this.pos);
    if (end === -1) throw this.error('line without an end');
    this.pos = this.lineStart = end + 1;
    this.lineNo++;
  }
  /** the next space-separated field (not past the end of the line) */
  field(): string {
    this.skipSpaces();
    const start = this.pos;
    let c = this.text.charCodeAt(this.pos);
    while (c !== 32 && c !== 10 && this.pos < this.text.length) c = this.text.charCodeAt(++this.pos);
    if (this.pos === start) throw this.error('a field is missing');
    return this.text.slice(start, this.pos);
  }
  /** exactly `digits` upper-case hex digits */
  hex(digits: number, what: string): number {
    let n = 0;
    for (let i = 0; i < digits; i++) {
      const c = this.text.charCodeAt(this.pos++);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) throw this.error(`${what} is not ${digits} hex digits`);
      n = n * 16 + d;
    }
    return n;
  }
  /** a decimal integer (the kernel prints weights and counters with %d) */
  int(what: string): number {
    this.skipSpaces();
    let neg = false;
    if (this.text.charCodeAt(this.pos) === 45) {
      neg = true;
      this.pos++;
    }
    const start = this.pos;
    let n = 0;
    for (let c = this.text.charCodeAt(this.pos); c >= 48 && c <= 57; c = this.text.charCodeAt(++this.pos)) n = n * 10 + (c - 48);
    const c = this.text.charCodeAt(this.pos);
    if (this.pos === start || (c !== 32 && c !== 10)) throw this.error(`${what} is not a number`);
    return neg ? -n : n;
  }
  expect(c: string, what: string): void {
    if (this.text[this.pos] !== c) throw this.error(`${what}: "${c}" expected`);
    this.pos++;
  }
  /** "C6120001:0050" or "[2001:0db8:...:0001]:0050" -> family, canonical address text, port */
  endpoint(): { family: Family; address: string; port: number } {
    this.skipSpaces();
    let family: Family;
    let address: string;
    if (this.text.charCodeAt(this.pos) === 91) {
      const close = this.text.indexOf(']', this.pos);
      const eol = this.text.indexOf('\n', this.pos);
      const v6 = close !== -1 && (eol === -1 || close < eol) ? parseIPv6(this.text.slice(this.pos + 1, close)) : undefined;
      if (!v6) throw this.error('not a bracketed IPv6 address');
      this.pos = close + 1;
      family = 'inet6';
      address = formatIPv6(v6);
    } else {
      const n = this.hex(8, 'an IPv4 address');
      family = 'inet';
      address = `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
    }
    this.expect(':', 'address and port');
    return { family, address, port: this.hex(4, 'a port') };
  }
}

const TITLES = ['IP Virtual Server version ', 'Prot LocalAddress:Port', '  -> RemoteAddress:Port'];

/** Parses the text of /proc/net/ip_vs; throws KernelTextError naming the line it cannot read. */
export function parseProcTable(text: string, what = IPVS_PROC_PATH): ProcTable {
  const s = new Scanner(text, what);
  for (const title of TITLES) {
    if (!s.startsWith(title)) throw s.error(`not the line that starts "${title}"`);
    s.nextLine();
  }
  const realServers = new Map<string, RealServerSummary[]>();
  const ambiguous = new Set<string>();
  let current: RealServerSummary[] | undefined;
  while (!s.atEnd()) {
    if (s.startsWith('  -> ')) {
      if (!current) throw s.error('real server before any service');
      s.pos += 5;
      const key = s.endpoint();
      const forward = FORWARD[s.field()];
      if (!forward) throw s.error('forwarding method unknown');
      const weight = s.int('weight');
      const activeConns = s.int('ActiveConn');
      const inactiveConns = s.int('InActConn');
      current.push({ key, forward, weight, activeConns, inactiveConns });
      s.skipSpaces();
      if (!s.startsWith('\n')) throw s.error('more fields than a real server line has');
    } else {
      const kind = s.field();
      let key: string;
      if (kind === 'FWM') {
        s.skipSpaces();
        key = `FWM ${s.hex(8, 'a fwmark')}`;
      } else {
        const protocol = PROTOCOL[kind];
        if (!protocol) throw s.error(`protocol "${kind}" is not TCP, UDP, SCTP or FWM`);
        const ep = s.endpoint();
        key = `${protocol} ${ep.address} ${ep.port}`;
      }
      s.field(); // the scheduler
      current = [];
      if (realServers.has(key)) ambiguous.add(key);
      else realServers.set(key, current);
    }
    s.nextLine();
  }
  return { realServers, ambiguous };
}

/**
 * Reads and parses /proc/net/ip_vs of this process's network namespace; undefined if it cannot
 * be read. Synchronous: the kernel hands out about a page per read(2), and a promise per page
 * costs more than the read itself.
 */
export function readProcTable(path: string = IPVS_PROC_PATH): ProcTable | undefined {
  let text: string;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let used = 0;
    for (;;) {
      if (buf.length - used < 1 << 16) buf = Buffer.concat([buf.subarray(0, used)], buf.length * 2);
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
    }
    text = buf.toString('latin1', 0, used);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  return parseProcTable(text, path);
}
