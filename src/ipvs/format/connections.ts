// `ipvsadm -L -c`: ipvsadm reads /proc/net/ip_vs_conn (not netlink) and reprints it
// (ipvsadm.c list_conn, print_conn). The kernel writes IPv4 addresses as 8 hex digits, IPv6 in
// full colon form, ports as 4 hex digits, then state, seconds to expiry, and optionally the
// persistence engine's name and data.
import type { Family, Protocol } from '../types';
import { formatIPv4, parseIPv4, parseIPv6, formatIPv6 } from '../address';
import type { Namer } from './names';
import { left } from './printf';

export interface Endpoint {
  family: Family;
  address: string;
  port: number;
}

export interface Connection {
  /** as the kernel names it: TCP, UDP, SCTP, ... */
  protocol: string;
  client: Endpoint;
  virtual: Endpoint;
  destination: Endpoint;
  state: string;
  /** seconds until the entry expires */
  expires: number;
  persistenceEngine?: string;
  persistenceData?: string;
}

function hexAddress(text: string): string {
  const n = parseInt(text, 16) >>> 0;
  return formatIPv4(new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
}

/** Reads an address as print_conn does: IPv6, else dotted IPv4, else 32-bit hex. */
function endpointAddress(text: string): { family: Family; address: string } {
  const v6 = parseIPv6(text);
  if (v6) return { family: 'inet6', address: formatIPv6(v6) };
  const v4 = parseIPv4(text);
  if (v4) return { family: 'inet', address: formatIPv4(v4) };
  return { family: 'inet', address: hexAddress(text) };
}

/** Parses /proc/net/ip_vs_conn (first line is the column title). Lines it cannot read are skipped. */
export function parseConnections(procText: string): Connection[] {
  const lines = procText.split('\n').slice(1);
  const out: Connection[] = [];
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const client = endpointAddress(f[1]);
    const virtual = endpointAddress(f[3]);
    const destination = endpointAddress(f[5]);
    const conn: Connection = {
      protocol: f[0],
      client: { ...client, port: parseInt(f[2], 16) & 0xffff },
      virtual: { family: client.family, address: virtual.address, port: parseInt(f[4], 16) & 0xffff },
      destination: { ...destination, port: parseInt(f[6], 16) & 0xffff },
      state: f[7],
      expires: Number(f[8]) >>> 0,
    };
    if (f.length >= 11) {
      conn.persistenceEngine = f[9];
      conn.persistenceData = f[10];
    }
    out.push(conn);
  }
  return out;
}

const PROTOCOLS: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function expiry(seconds: number): string {
  const mm = Math.floor(seconds / 60);
  const ss = seconds % 60;
  return `${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

export function formatConnections(conns: readonly Connection[], namer: Namer, persistent: boolean): string {
  let out = 'IPVS connection entries\n';
  out += persistent
    ? `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data\n`
    : `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination\n`;
  for (const c of conns) {
    const proto = PROTOCOLS[c.protocol];
    const name = (e: Endpoint) => namer.addrPort(e.family, e.address, e.port, proto);
    const head = `${left(c.protocol, 3)} ${left(expiry(c.expires), 6)} ${left(c.state, 11)} ${left(name(c.client), 18)} ${left(name(c.virtual), 18)}`;
    out +=
      persistent && c.persistenceEngine !== undefined
        ? `${head} ${left(name(c.destination), 16)} ${left(c.persistenceEngine, 18)} ${c.persistenceData ?? ''}\n`
        : `${head} ${name(c.destination)}\n`;
  }
  return out;
}
