// The default listing's table (what `ipvsadm -L` shows without counters): services as objects,
// their real servers as columns. A 10,000-service table has 40,000 real servers; an object and an
// address string each cost more than the rest of the listing (allocation, then GC, both slow
// under emulation), while a column is one typed array for all of them.
import { addressWords, formatIPv6 } from './address';
import { FwdMethod } from './spec';
import type { ForwardMethod, RealServerSummary, ServiceKey, TableSummaryEntry, VirtualService } from './types';
import type { ColumnArrays, DecodedServices } from './native-text';
import type { DumpReplies } from '../netlink/dumps';

const FORWARD_OF_CODE: readonly ForwardMethod[] = (() => {
  const out: ForwardMethod[] = [];
  for (const [name, code] of Object.entries(FwdMethod)) out[code] = name as ForwardMethod;
  return out;
})();

/** An address given as four host-order words (IPv4: w0), as the netlink side writes it. */
export function addressText(inet6: boolean, w0: number, w1: number, w2: number, w3: number): string {
  if (!inet6) return `${w0 >>> 24}.${(w0 >>> 16) & 0xff}.${(w0 >>> 8) & 0xff}.${w0 & 0xff}`;
  const bytes = new Uint8Array(16);
  const words = [w0, w1, w2, w3];
  for (let k = 0; k < 4; k++) {
    const v = words[k];
    bytes[k * 4] = v >>> 24;
    bytes[k * 4 + 1] = (v >>> 16) & 0xff;
    bytes[k * 4 + 2] = (v >>> 8) & 0xff;
    bytes[k * 4 + 3] = v & 0xff;
  }
  return formatIPv6(bytes);
}

/** Real servers, one typed array per field; the address as libipvs's four host-order words. */
export class RealServerColumns {
  length = 0;
  /** 1: IPv6 (all four words), 0: IPv4 (word 0) */
  inet6: Uint8Array;
  words: Uint32Array;
  port: Uint16Array;
  /** FwdMethod code */
  forward: Uint8Array;
  weight: Int32Array;
  activeConns: Int32Array;
  inactiveConns: Int32Array;

  constructor(capacity = 64) {
    this.inet6 = new Uint8Array(capacity);
    this.words = new Uint32Array(capacity * 4);
    this.port = new Uint16Array(capacity);
    this.forward = new Uint8Array(capacity);
    this.weight = new Int32Array(capacity);
    this.activeConns = new Int32Array(capacity);
    this.inactiveConns = new Int32Array(capacity);
  }

  /** Columns over arrays made elsewhere (the C reader's), not copied. */
  static of(a: ColumnArrays): RealServerColumns {
    const c = new RealServerColumns(0);
    c.length = a.length;
    c.inet6 = a.inet6;
    c.words = a.words;
    c.port = a.port;
    c.forward = a.forward;
    c.weight = a.weight;
    c.activeConns = a.activeConns;
    c.inactiveConns = a.inactiveConns;
    return c;
  }

  /** Appends a real server; returns its index. */
  add(inet6: boolean, w0: number, w1: number, w2: number, w3: number, port: number, forward: number, weight: number, active: number, inactive: number): number {
    const i = this.length;
    if (i === this.port.length) this.grow();
    this.inet6[i] = inet6 ? 1 : 0;
    const w = i * 4;
    this.words[w] = w0;
    this.words[w + 1] = w1;
    this.words[w + 2] = w2;
    this.words[w + 3] = w3;
    this.port[i] = port;
    this.forward[i] = forward;
    this.weight[i] = weight;
    this.activeConns[i] = active;
    this.inactiveConns[i] = inactive;
    this.length = i + 1;
    return i;
  }

  addSummary(rs: RealServerSummary): number {
    const [w0, w1, w2, w3] = addressWords(rs.key.address);
    return this.add(rs.key.family === 'inet6', w0, w1, w2, w3, rs.key.port, FwdMethod[rs.forward], rs.weight, rs.activeConns, rs.inactiveConns);
  }

  /** The address as text: dotted quad, or inet_ntop's IPv6 form. */
  addressText(i: number): string {
    const w = i * 4;
    return addressText(this.inet6[i] === 1, this.words[w], this.words[w + 1], this.words[w + 2], this.words[w + 3]);
  }

  forwardMethod(i: number): ForwardMethod {
    return FORWARD_OF_CODE[this.forward[i]];
  }

  /** Real server i as an object (tests, name lookups; the listing itself reads the columns). */
  summaryAt(i: number): RealServerSummary {
    return {
      key: { family: this.inet6[i] ? 'inet6' : 'inet', address: this.addressText(i), port: this.port[i] },
      forward: this.forwardMethod(i),
      weight: this.weight[i],
      activeConns: this.activeConns[i],
      inactiveConns: this.inactiveConns[i],
    };
  }

  private grow(): void {
    const n = Math.max(16, this.port.length * 2);
    const more = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.inet6 = more(this.inet6, n);
    this.words = more(this.words, n * 4);
    this.port = more(this.port, n);
    this.forward = more(this.forward, n);
    this.weight = more(this.weight, n);
    this.activeConns = more(this.activeConns, n);
    this.inactiveConns = more(this.inactiveConns, n);
  }
}

const AF_NUMBER = { inet: 2, inet6: 10 } as const;
const PROTOCOL_NUMBER = { tcp: 6, udp: 17, sctp: 132 } as const;

/**
 * Services' identities as numbers, the fields libipvs's ipvs_cmp_services compares (0 where a
 * key has none), so that sorting and joining need not read addresses back from text.
 */
export class ServiceKeyColumns {
  readonly fwmark: Uint32Array;
  readonly af: Uint8Array;
  readonly protocol: Uint8Array;
  /** the address as four host-order words (IPv4: the first) */
  readonly words: Uint32Array;
  readonly port: Uint16Array;

  constructor(readonly length: number) {
    this.fwmark = new Uint32Array(length);
    this.af = new Uint8Array(length);
    this.protocol = new Uint8Array(length);
    this.words = new Uint32Array(length * 4);
    this.port = new Uint16Array(length);
  }

  /** Columns over arrays made elsewhere (the C reader's), not copied. */
  static of(a: Pick<ServiceKeyColumns, 'fwmark' | 'af' | 'protocol' | 'words' | 'port'>): ServiceKeyColumns {
    const k = Object.create(ServiceKeyColumns.prototype) as { -readonly [P in keyof ServiceKeyColumns]: ServiceKeyColumns[P] };
    Object.assign(k, { length: a.fwmark.length, fwmark: a.fwmark, af: a.af, protocol: a.protocol, words: a.words, port: a.port });
    return k as ServiceKeyColumns;
  }

  /** Service i's key; addr: its address's bytes as netlink gave them (else key.address is parsed). */
  set(i: number, key: ServiceKey, addr?: Uint8Array): void {
    this.af[i] = AF_NUMBER[key.family];
    if (key.fwmark !== undefined) {
      this.fwmark[i] = key.fwmark;
      return;
    }
    this.protocol[i] = PROTOCOL_NUMBER[key.protocol];
    this.port[i] = key.port;
    const w = i * 4;
    if (!addr) {
      const words = addressWords(key.address);
      for (let k = 0; k < (key.family === 'inet6' ? 4 : 1); k++) this.words[w + k] = words[k];
      return;
    }
    for (let k = 0; k < (key.family === 'inet6' ? 4 : 1); k++) {
      const b = k * 4;
      this.words[w + k] = ((addr[b] << 24) | (addr[b + 1] << 16) | (addr[b + 2] << 8) | addr[b + 3]) >>> 0;
    }
  }
}

/** A run of consecutive real servers in a RealServerColumns. */
export interface ServerRange {
  first: number;
  count: number;
}

/** Where each service's real servers are: service i's are first[i] .. first[i] + count[i] - 1. */
export class ServerRanges {
  readonly first: Uint32Array;
  readonly count: Uint32Array;

  constructor(readonly length: number) {
    this.first = new Uint32Array(length);
    this.count = new Uint32Array(length);
  }

  static of(ranges: readonly ServerRange[]): ServerRanges {
    const r = new ServerRanges(ranges.length);
    ranges.forEach((x, i) => r.set(i, x.first, x.count));
    return r;
  }

  set(i: number, first: number, count: number): void {
    this.first[i] = first;
    this.count[i] = count;
  }
}

/** Services in kernel order; service i's real servers are in servers as ranges says. */
export interface TableSummary {
  services: VirtualService[];
  ranges: ServerRanges;
  servers: RealServerColumns;
  /** services whose real servers were read from /proc/net/ip_vs (the rest: a netlink dump each) */
  fromProcfs: number;
  /** the services' keys as numbers (for sorting without text) */
  keys?: ServiceKeyColumns;
  /** the services' -n lines, "\n" ended, service i's ending at ends[i] (the C reader writes them) */
  serviceLines?: { text: Buffer; ends: Uint32Array };
}

/**
 * The table as the kernel's bytes, for the C writer of the counters listings: the service dump
 * read into keys and one listing's service lines, and each service's destination dump reply.
 */
export interface TableBytes {
  services: DecodedServices;
  replies: DumpReplies;
}

/** A summary of entries given as objects (one service's listing, tests). */
export function summaryOf(entries: readonly TableSummaryEntry[]): TableSummary {
  const servers = new RealServerColumns(Math.max(4, entries.reduce((n, e) => n + e.realServers.length, 0)));
  const ranges = new ServerRanges(entries.length);
  entries.forEach((e, i) => {
    const first = servers.length;
    for (const rs of e.realServers) servers.addSummary(rs);
    ranges.set(i, first, e.realServers.length);
  });
  const keys = new ServiceKeyColumns(entries.length);
  entries.forEach((e, i) => keys.set(i, e.service.key));
  return { services: entries.map((e) => e.service), ranges, servers, fromProcfs: 0, keys };
}
