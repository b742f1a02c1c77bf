// The default listing's table (what `ipvsadm -L` shows without counters): services as objects,
// their real servers as columns. A 10,000-service table has 40,000 real servers; an object and an
// address string each cost more than the rest of the listing (allocation, then GC, both slow
// under emulation), while a column is one typed array for all of them.
import { addressWords, formatIPv6 } from './address';
import { FwdMethod } from './spec';
import type { ForwardMethod, RealServerSummary, TableSummaryEntry, VirtualService } from './types';

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
    const n = this.port.length * 2;
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

/** A run of consecutive real servers in a RealServerColumns. */
export interface ServerRange {
  first: number;
  count: number;
}

/** Services in kernel order; service i's real servers are servers[ranges[i].first ...]. */
export interface TableSummary {
  services: VirtualService[];
  ranges: ServerRange[];
  servers: RealServerColumns;
  /** services whose real servers were read from /proc/net/ip_vs (the rest: a netlink dump each) */
  fromProcfs: number;
}

/** A summary of entries given as objects (one service's listing, tests). */
export function summaryOf(entries: readonly TableSummaryEntry[]): TableSummary {
  const servers = new RealServerColumns(Math.max(4, entries.reduce((n, e) => n + e.realServers.length, 0)));
  const ranges = entries.map((e) => {
    const first = servers.length;
    for (const rs of e.realServers) servers.addSummary(rs);
    return { first, count: e.realServers.length };
  });
  return { services: entries.map((e) => e.service), ranges, servers, fromProcfs: 0 };
}
