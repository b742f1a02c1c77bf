// /proc/net/ip_vs: the kernel's own text listing of the table (ip_vs_info_seq_show in
// net/netfilter/ipvs/ip_vs_ctl.c). One read gives every real server's address, port, forwarding
// method, weight and connection counts, which would otherwise take one netlink dump per service.
// The kernel writes IPv4 addresses as 8 hex digits, IPv6 in full colon form in brackets (per
// real server: a tunnel's real server may differ in family from its service), ports as 4 hex
// digits, fwmark services as "FWM  <8 hex digits>" without their family.
import { closeSync, openSync, readSync } from 'node:fs';
import { KernelTextError } from '../errors';
import { FwdMethod } from './spec';
import { RealServerColumns, addressText, type ServiceKeyColumns, type ServerRange } from './summary';
import { SERVICE_FIELDS, SERVICE_KINDS, ServiceField, nativeText } from './native-text';
import type { Protocol, RealServerSummary, ServiceKey, VirtualService } from './types';

export const IPVS_PROC_PATH = '/proc/net/ip_vs';

/**
 * The table as /proc/net/ip_vs shows it: every real server, and every service line as numbers
 * (SERVICE_FIELDS each, laid out as native-text.ts's ServiceField says).
 */
export class ProcTable {
  private index?: Index;

  constructor(
    /** every real server, in kernel order; a service's are consecutive */
    readonly servers: RealServerColumns,
    /** the service lines, in kernel order */
    readonly fields: Uint32Array,
  ) {}

  /** by joinKey of their service: where its real servers are in `servers` */
  get services(): Map<string, ServerRange> {
    return (this.index ??= indexOf(this.fields)).services;
  }

  /** keys seen more than once: an IPv4 and an IPv6 service with the same fwmark look alike here */
  get ambiguous(): Set<string> {
    return (this.index ??= indexOf(this.fields)).ambiguous;
  }

  /** by joinKey of their service: the entry (service line) number */
  get entries(): Map<string, number> {
    return (this.index ??= indexOf(this.fields)).entries;
  }

  /** Entry e's real servers: where they start in `servers`, and how many. */
  first(e: number): number {
    return this.fields[e * SERVICE_FIELDS + ServiceField.first];
  }
  count(e: number): number {
    return this.fields[e * SERVICE_FIELDS + ServiceField.count];
  }
}

interface Index {
  services: Map<string, ServerRange>;
  entries: Map<string, number>;
  ambiguous: Set<string>;
}

/** A service's real servers as objects (tests; the listing reads the columns). */
export function realServersOf(t: ProcTable, key: string): RealServerSummary[] | undefined {
  const r = t.services.get(key);
  if (!r) return undefined;
  const out: RealServerSummary[] = [];
  for (let i = r.first; i < r.first + r.count; i++) out.push(t.servers.summaryAt(i));
  return out;
}

const PROTOCOL: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
const KINDS = ['TCP', 'UDP', 'SCTP', 'FWM'].map((k) => [k, Buffer.from(k + ' ', 'latin1')] as const);
// ip_vs_fwd_name's words; a real server line is matched against each (no string made per line)
const FORWARD: readonly [string, number][] = [
  ['Route', FwdMethod.route],
  ['Masq', FwdMethod.masq],
  ['Tunnel', FwdMethod.tunnel],
  ['Local', FwdMethod.local],
];

/** The key a service from netlink and the same service in /proc/net/ip_vs share. */
export function joinKey(key: ServiceKey): string {
  return key.fwmark !== undefined ? `FWM ${key.fwmark}` : `${key.protocol} ${key.address} ${key.port}`;
}

const SPACE = 32;

function hexValue(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
}
const NL = 10;

// A scanner over the bytes, field by field, without making lines, tokens or a string of the
// text: a 10,000-service table is 50,000 lines, and under emulation every object made costs.
class Scanner {
  pos = 0;
  lineNo = 1;
  lineStart = 0;
  /** the four words of the last endpoint() (IPv4: word 0) */
  readonly w = new Uint32Array(4);
  inet6 = false;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}

  error(problem: string): KernelTextError {
    const end = this.buf.indexOf(NL, this.lineStart);
    const line = this.buf.toString('latin1', this.lineStart, end === -1 ? this.buf.length : end);
    const shown = line.length > 80 ? `${line.slice(0, 80)}...` : line;
    return new KernelTextError(`${this.what} line ${this.lineNo}: ${problem}: "${shown}"`);
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  startsWith(s: string): boolean {
    return this.startsWithAt(this.pos, s);
  }
  skipSpaces(): void {
    while (this.buf[this.pos] === SPACE) this.pos++;
  }
  /** the rest of the line is skipped; the next one starts */
  nextLine(): void {
    const end = this.buf.indexOf(NL, this.pos);
    if (end === -1) throw this.error('line without an end');
    this.pos = this.lineStart = end + 1;
    this.lineNo++;
  }
  /** passes over the next space-separated field (not past the end of the line); returns its start */
  skipField(): number {
    this.skipSpaces();
    const start = this.pos;
    const b = this.buf;
    while (this.pos < b.length && b[this.pos] !== SPACE && b[this.pos] !== NL) this.pos++;
    if (this.pos === start) throw this.error('a field is missing');
    return start;
  }
  /** the next space-separated field */
  field(): string {
    const start = this.skipField();
    return this.buf.toString('latin1', start, this.pos);
  }
  /** a service line's first field: TCP, UDP, SCTP or FWM (no string made for the usual ones) */
  protocol(): string {
    for (const [kind, bytes] of KINDS) {
      if (bytesAt(this.buf, this.pos, bytes)) {
        this.pos += kind.length;
        return kind;
      }
    }
    const kind = this.field();
    throw this.error(`protocol "${kind}" is not TCP, UDP, SCTP or FWM`);
  }
  /** the forwarding method's FwdMethod code, or -1 */
  forward(): number {
    const start = this.skipField();
    const n = this.pos - start;
    for (const [word, code] of FORWARD) if (n === word.length && this.startsWithAt(start, word)) return code;
    return -1;
  }
  startsWithAt(at: number, s: string): boolean {
    const b = this.buf;
    if (at + s.length > b.length) return false;
    for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
    return true;
  }
  /** exactly `digits` hex digits (the kernel writes upper case; IPv6 in lower case) */
  hex(digits: number, what: string): number {
    let n = 0;
    const b = this.buf;
    for (let i = 0; i < digits; i++) {
      const d = hexValue(b[this.pos++]);
      if (d < 0) throw this.error(`${what} is not ${digits} hex digits`);
      n = n * 16 + d;
    }
    return n;
  }
  /** a decimal integer (the kernel prints weights and counters with %d) */
  int(what: string): number {
    this.skipSpaces();
    const b = this.buf;
    let neg = false;
    if (b[this.pos] === 45) {
      neg = true;
      this.pos++;
    }
    const start = this.pos;
    let n = 0;
    for (let c = b[this.pos]; c >= 48 && c <= 57; c = b[++this.pos]) n = n * 10 + (c - 48);
    const c = b[this.pos];
    if (this.pos === start || this.pos - start > 10 || (c !== SPACE && c !== NL)) throw this.error(`${what} is not a number`);
    return neg ? -n : n;
  }
  expect(c: number, what: string): void {
    if (this.buf[this.pos] !== c) throw this.error(`${what}: "${String.fromCharCode(c)}" expected`);
    this.pos++;
  }
  /** "C6120001:0050" or "[2001:0db8:...:0001]:0050": the address into w/inet6, returns the port */
  endpoint(): number {
    this.skipSpaces();
    const w = this.w;
    if (this.buf[this.pos] === 91) {
      // %pI6 in brackets: eight groups of four hex digits
      const b = this.buf;
      const at = this.pos + 1;
      for (let g = 0; g < 8; g++) {
        const p = at + g * 5;
        const sep = b[p + 4];
        if (hexValue(b[p]) < 0 || hexValue(b[p + 1]) < 0 || hexValue(b[p + 2]) < 0 || hexValue(b[p + 3]) < 0 || sep !== (g < 7 ? 58 : 93)) {
          throw this.error('not a bracketed IPv6 address (eight groups of four hex digits)');
        }
      }
      for (let k = 0; k < 4; k++) {
        this.pos = at + k * 10;
        const hi = this.hex(4, 'an IPv6 address');
        this.pos++;
        w[k] = hi * 0x10000 + this.hex(4, 'an IPv6 address');
      }
      this.pos = at + 40;
      this.inet6 = true;
    } else {
      w[0] = this.hex(8, 'an IPv4 address');
      w[1] = w[2] = w[3] = 0;
      this.inet6 = false;
    }
    this.expect(58, 'address and port');
    return this.hex(4, 'a port');
  }
}

// The common real server line, "  -> %08X:%04X      %-7s %-6d %-10d %-10d\n" with every number
// inside its column, read at fixed offsets in one call; anything else goes the general way
// (which reads the same values, or names what is wrong).
const IPV4_LINE = 61;
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) HEX[c] = hexValue(c);
const FORWARD_COLUMN = FORWARD.map(([word, code]) => [Buffer.from(word.padEnd(7), 'latin1'), code] as const);

function ipv4RealServerLine(b: Buffer, p: number, servers: RealServerColumns): boolean {
  if (p + IPV4_LINE > b.length || b[p + IPV4_LINE - 1] !== NL || b[p + 13] !== 58 || b[p + 31] !== SPACE) return false;
  let address = 0;
  for (let i = p + 5; i < p + 13; i++) {
    const d = HEX[b[i]];
    if (d < 0) return false;
    address = address * 16 + d;
  }
  let port = 0;
  for (let i = p + 14; i < p + 18; i++) {
    const d = HEX[b[i]];
    if (d < 0) return false;
    port = port * 16 + d;
  }
  for (let i = p + 18; i < p + 24; i++) if (b[i] !== SPACE) return false;
  let forward = -1;
  for (const [column, code] of FORWARD_COLUMN) if (bytesAt(b, p + 24, column)) forward = code;
  const weight = columnInt(b, p + 32, p + 38);
  const active = columnInt(b, p + 39, p + 49);
  const inactive = columnInt(b, p + 50, p + 60);
  if (forward < 0 || weight < 0 || active < 0 || inactive < 0 || b[p + 38] !== SPACE || b[p + 49] !== SPACE) return false;
  servers.add(false, address, 0, 0, 0, port, forward, weight, active, inactive);
  return true;
}

function bytesAt(b: Buffer, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false;
  return true;
}

/** Decimal digits at b[from], then only spaces up to `to`; -1 if not so. */
function columnInt(b: Buffer, from: number, to: number): number {
  let n = 0;
  let i = from;
  for (; i < to && b[i] >= 48 && b[i] <= 57; i++) n = n * 10 + (b[i] - 48);
  if (i === from) return -1;
  for (; i < to; i++) if (b[i] !== SPACE) return -1;
  return n;
}

const TITLES = ['IP Virtual Server version ', 'Prot LocalAddress:Port', '  -> RemoteAddress:Port'];
const ARROW = '  -> ';

/**
 * Parses /proc/net/ip_vs (bytes or text); throws KernelTextError naming the line it cannot read.
 * The C reader (native-text.ts) runs first unless opts.native is false; whatever it does not
 * accept is read here, which gives the same table or names the line.
 */
export function parseProcTable(input: Buffer | string, what = IPVS_PROC_PATH, opts: { native?: boolean } = {}): ProcTable {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const fast = opts.native === false ? undefined : nativeText()?.parse(bytes);
  return fast ? new ProcTable(RealServerColumns.of(fast), fast.services) : parseHere(bytes, what);
}

const PROTOCOL_OF_KIND = SERVICE_KINDS.map((k) => PROTOCOL[k]);

function indexOf(fields: Uint32Array): Index {
  const services = new Map<string, ServerRange>();
  const entries = new Map<string, number>();
  const ambiguous = new Set<string>();
  for (let i = 0; i < fields.length; i += SERVICE_FIELDS) {
    const port = fields[i + ServiceField.port];
    const protocol = PROTOCOL_OF_KIND[fields[i + ServiceField.kind]];
    const w = i + ServiceField.w0;
    const key = protocol
      ? `${protocol} ${addressText(fields[i + ServiceField.inet6] === 1, fields[w], fields[w + 1], fields[w + 2], fields[w + 3])} ${port}`
      : `FWM ${port}`;
    if (services.has(key)) ambiguous.add(key);
    else {
      services.set(key, { first: fields[i + ServiceField.first], count: fields[i + ServiceField.count] });
      entries.set(key, i / SERVICE_FIELDS);
    }
  }
  return { services, entries, ambiguous };
}

/**
 * For each service, the number of its entry in t (first(e), count(e)), or -1: t does not have
 * it, or has it ambiguously. keys: the services' keys as numbers, for the C join; services: the
 * same services as objects, asked for only by the JavaScript join.
 */
export function procEntriesOf(t: ProcTable, services: () => readonly VirtualService[], keys: ServiceKeyColumns, opts: { native?: boolean } = {}): Int32Array {
  const native = opts.native === false ? undefined : nativeText();
  if (native) return native.joinServices(keys.fwmark, keys.af, keys.protocol, keys.words, keys.port, t.fields);
  return Int32Array.from(services(), (svc) => {
    const key = joinKey(svc.key);
    return t.ambiguous.has(key) ? -1 : t.entries.get(key) ?? -1;
  });
}

function parseHere(bytes: Buffer, what: string): ProcTable {
  const s = new Scanner(bytes, what);
  for (const title of TITLES) {
    if (!s.startsWith(title)) throw s.error(`not the line that starts "${title}"`);
    s.nextLine();
  }
  // about 50 bytes a real server line
  const servers = new RealServerColumns(Math.max(16, s.buf.length >> 6));
  const fields: number[] = [];
  let current = -1; // where the current service's fields start
  const w = s.w;
  while (!s.atEnd()) {
    if (s.startsWith(ARROW)) {
      if (current < 0) throw s.error('real server before any service');
      if (ipv4RealServerLine(s.buf, s.pos, servers)) {
        fields[current + ServiceField.count]++;
        s.pos = s.lineStart = s.pos + IPV4_LINE;
        s.lineNo++;
        continue;
      }
      s.pos += ARROW.length;
      const port = s.endpoint();
      const forward = s.forward();
      if (forward < 0) throw s.error('forwarding method unknown');
      const weight = s.int('weight');
      const active = s.int('ActiveConn');
      const inactive = s.int('InActConn');
      s.skipSpaces();
      if (s.buf[s.pos] !== NL) throw s.error('more fields than a real server line has');
      servers.add(s.inet6, w[0], w[1], w[2], w[3], port, forward, weight, active, inactive);
      fields[current + ServiceField.count]++;
    } else {
      const kind = s.protocol();
      const code = (SERVICE_KINDS as readonly string[]).indexOf(kind);
      current = fields.length;
      if (kind === 'FWM') {
        s.skipSpaces();
        fields.push(code, 0, 0, 0, 0, 0, s.hex(8, 'a fwmark'));
      } else {
        const port = s.endpoint();
        fields.push(code, s.inet6 ? 1 : 0, w[0], w[1], w[2], w[3], port);
      }
      fields.push(servers.length, 0, 0);
      s.skipField(); // the scheduler
    }
    s.nextLine();
  }
  return new ProcTable(servers, Uint32Array.from(fields));
}

/**
 * /proc/net/ip_vs read and parsed while this thread goes on (receiving the netlink dump);
 * undefined if the file cannot be read or is not the text we know (the caller then asks
 * netlink). With the C reader the whole read and parse run on a thread of libuv's pool,
 * else the text is read by readProcText and parsed here.
 */
export async function loadProcTable(path: string = IPVS_PROC_PATH): Promise<ProcTable | undefined> {
  try {
    const native = nativeText();
    if (!native) {
      const bytes = await readProcText(path);
      return bytes && parseHere(bytes, path);
    }
    const read = await native.readTable(path);
    if (!read) return undefined;
    return read.table ? new ProcTable(RealServerColumns.of(read.table), read.table.services) : parseHere(read.text, path);
  } catch {
    return undefined; // KernelTextError: the netlink dumps still give the right answer
  }
}

/** read(2) into buf from `used` on until EOF or `limit` bytes, growing buf; done: EOF seen. */
function readAll(fd: number, buf: Buffer, used: number, limit: number): { buf: Buffer; used: number; done: boolean } {
  while (used < limit) {
    if (buf.length - used < 1 << 16) buf = Buffer.concat([buf.subarray(0, used)], buf.length * 2);
    const n = readSync(fd, buf, used, buf.length - used, null);
    if (n === 0) return { buf, used, done: true };
    used += n;
  }
  return { buf, used, done: false };
}

// What a worker thread runs to read the rest of the file from the same open file description.
const READ_REST = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
try {
  let buf = new Uint8Array(workerData.size), used = 0;
  for (;;) {
    if (buf.length - used < 65536) { const b = new Uint8Array(buf.length * 2); b.set(buf.subarray(0, used)); buf = b; }
    const n = readSync(workerData.fd, buf, used, buf.length - used, null);
    if (n === 0) break;
    used += n;
  }
  parentPort.postMessage({ buffer: buf.buffer, used }, [buf.buffer]);
} catch (err) {
  parentPort.postMessage({ error: String(err) });
}`;

/** A table bigger than this is read past it on a worker thread. */
const READ_HERE = 64 << 10;

/**
 * The text of /proc/net/ip_vs, undefined if it cannot be read. A big table's text costs the
 * kernel much system time (it walks the table from the start again for every page it hands
 * out), so past the first 64 KiB the rest is read on a worker thread, from the same open file,
 * while this thread goes on (receiving the netlink dump); a small table is read here at once.
 */
export function readProcText(path: string = IPVS_PROC_PATH): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Promise.resolve(undefined);
  }
  let first: { buf: Buffer; used: number; done: boolean };
  try {
    first = readAll(fd, Buffer.allocUnsafe(READ_HERE + (1 << 16)), 0, READ_HERE);
  } catch {
    closeSync(fd);
    return Promise.resolve(undefined);
  }
  if (first.done) {
    closeSync(fd);
    return Promise.resolve(first.buf.subarray(0, first.used));
  }
  return new Promise((resolve) => {
    const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    const worker = new Worker(READ_REST, { eval: true, workerData: { fd, size: 4 << 20 } });
    let settled = false;
    const finish = (rest: Buffer | undefined) => {
      if (settled) return;
      settled = true;
      closeSync(fd);
      resolve(rest && Buffer.concat([first.buf.subarray(0, first.used), rest]));
    };
    worker.once('message', (m: { buffer?: ArrayBuffer; used?: number }) => finish(m.buffer ? Buffer.from(m.buffer, 0, m.used) : undefined));
    worker.once('error', () => finish(undefined));
    worker.once('exit', () => finish(undefined));
  });
}
