// The VRRP advertisement codec: VRRPv2 (RFC 3768, IPv4) and VRRPv3 (RFC 5798, IPv4 and IPv6).
// Only the VRRP message itself (what follows the IP header); no I/O. keepalived 2.2.7 is the judge
// of the wire format: v2 carries 8 bytes of auth data after the addresses (zeros without
// authentication, the password padded with zeros with auth type 1, RFC 2338 5.3.6.1) and its
// checksum covers the message alone, auth data included; v3 has a 12-bit interval in centiseconds
// and its checksum includes the IPv4/IPv6 pseudo-header (next header 112).
import { timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { bytesToIp, ipToBytes } from '../rtnl/ip';

export type VrrpVersion = 2 | 3;

export interface Advert {
  version: VrrpVersion;
  vrid: number; // 1..255
  priority: number; // 0..255 (0 = the master stops, 255 = address owner)
  /** v3: max advert interval in centiseconds (12 bits); v2: advert interval in seconds (8 bits). Kept in ms here. */
  intervalMs: number;
  family: 4 | 6;
  addresses: string[]; // canonical text ('198.18.0.10', '2001:db8::10')
  /** v2 only: auth type as sent (keepalived without authentication sends 0, with auth_type PASS 1) */
  authType?: number;
  /** v2 with an auth type other than 0: the 8 bytes of auth data (type 1: the password, zero-padded) */
  authData?: Buffer;
}

/** RFC 2338 5.3.6.1 / keepalived: auth type 1, a password of at most 8 bytes sent in clear. */
export const AUTH_NONE = 0;
export const AUTH_SIMPLE_PASSWORD = 1;
/** keepalived's auth_type AH: IPsec AH instead of the VRRP message's auth data (IP protocol 51) */
const AUTH_IPSEC_AH = 2;

export type AdvertProblem =
  | 'ttl'
  | 'version'
  | 'type'
  | 'length'
  | 'checksum'
  | 'vrid'
  | 'count'
  | 'interval'
  | 'auth'
  | 'family';

/** What the socket delivered: the VRRP message (no IP header), its source, destination and TTL/hop limit. */
export interface Received {
  data: Buffer;
  src: string;
  dst: string;
  ttl: number;
  family: 4 | 6;
  ifindex: number;
}

export const IPPROTO_VRRP = 112;
export const VRRP_TTL = 255;
const ADVERTISEMENT = 1;
const HEADER_LENGTH = 8;
export const V2_AUTH_LENGTH = 8;

/**
 * The 8 auth data bytes for a simple-text password, as keepalived 2.2.7 makes them from
 * auth_pass: its bytes (UTF-8), cut after 8, padded with zeros. `truncated` says it was longer.
 */
export function simplePasswordKey(password: string): { key: Buffer; truncated: boolean } {
  const bytes = Buffer.from(password, 'utf8');
  const key = Buffer.alloc(V2_AUTH_LENGTH);
  bytes.copy(key, 0, 0, V2_AUTH_LENGTH);
  return { key, truncated: bytes.length > V2_AUTH_LENGTH };
}

/**
 * An accepted v2 advert against the receiving instance's authentication (RFC 2338 7.1, as
 * keepalived's vrrp_in_chk): with a key only auth type 1 with those 8 bytes, without one only type
 * 0. The problem in words, never with either password in it.
 */
export function authProblem(advert: Advert, key: Buffer | undefined): string | undefined {
  if (advert.version !== 2) return undefined;
  const type = advert.authType ?? AUTH_NONE;
  if (key === undefined) {
    return type === AUTH_NONE ? undefined : `auth type ${type} (${authTypeName(type)}); this instance has no authentication (type 0)`;
  }
  if (type !== AUTH_SIMPLE_PASSWORD) return `auth type ${type} (${authTypeName(type)}); this instance expects 1 (simple password, auth_pass)`;
  const data = advert.authData;
  if (!data || data.length !== V2_AUTH_LENGTH || key.length !== V2_AUTH_LENGTH || !timingSafeEqual(data, key)) {
    return 'auth type 1 with a password other than this instance\'s';
  }
  return undefined;
}

function authTypeName(type: number): string {
  return type === AUTH_NONE ? 'none' : type === AUTH_SIMPLE_PASSWORD ? 'simple password' : type === AUTH_IPSEC_AH ? 'IPsec AH' : 'unknown';
}

/** The VRRP message for `a`, sent from `src` to `dst` (v3 needs both for its checksum). */
export function encodeAdvert(a: Advert, src: string, dst: string): Buffer {
  const where = `VRRP advert (vrid ${a.vrid})`;
  if (!Number.isInteger(a.vrid) || a.vrid < 1 || a.vrid > 255) throw new RangeError(`${where}: vrid must be 1..255`);
  if (!Number.isInteger(a.priority) || a.priority < 0 || a.priority > 255) {
    throw new RangeError(`${where}: priority ${a.priority} is not 0..255`);
  }
  if (a.version === 2 && a.family !== 4) throw new RangeError(`${where}: VRRPv2 is IPv4 only (RFC 3768)`);
  if (a.addresses.length > 255) throw new RangeError(`${where}: ${a.addresses.length} addresses, at most 255 fit`);
  const addressLength = a.family === 4 ? 4 : 16;
  const length = HEADER_LENGTH + a.addresses.length * addressLength + (a.version === 2 ? V2_AUTH_LENGTH : 0);
  const b = Buffer.alloc(length); // zeroed: the v2 auth data stays zero, as keepalived sends it without auth
  const authType = a.authType ?? AUTH_NONE;
  if (a.version === 2 && authType !== AUTH_NONE && (!Buffer.isBuffer(a.authData) || a.authData.length !== V2_AUTH_LENGTH)) {
    throw new RangeError(`${where}: auth type ${authType} needs ${V2_AUTH_LENGTH} bytes of auth data`);
  }
  b[0] = (a.version << 4) | ADVERTISEMENT;
  b[1] = a.vrid;
  b[2] = a.priority;
  b[3] = a.addresses.length;
  if (a.version === 2) {
    const seconds = a.intervalMs / 1000;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 255) {
      throw new RangeError(`${where}: a VRRPv2 interval is whole seconds 1..255, not ${a.intervalMs} ms`);
    }
    if (!Number.isInteger(authType) || authType < 0 || authType > 255) throw new RangeError(`${where}: auth type ${authType} is not 0..255`);
    b[4] = authType;
    b[5] = seconds;
    if (authType !== AUTH_NONE) a.authData!.copy(b, length - V2_AUTH_LENGTH);
  } else {
    const centiseconds = a.intervalMs / 10;
    if (!Number.isInteger(centiseconds) || centiseconds < 1 || centiseconds > 0xfff) {
      throw new RangeError(`${where}: a VRRPv3 interval is 10..40950 ms in steps of 10, not ${a.intervalMs} ms`);
    }
    b.writeUInt16BE(centiseconds, 4); // the 4 reserved bits stay zero
  }
  a.addresses.forEach((text, i) => {
    const bytes = addressBytes(text, a.family);
    if (!bytes) throw new RangeError(`${where}: ${text} is not an IPv${a.family} address`);
    bytes.copy(b, HEADER_LENGTH + i * addressLength);
  });
  let pseudo: Buffer = Buffer.alloc(0);
  if (a.version === 3) {
    const header = pseudoHeader(a.family, src, dst, length);
    if (!header) throw new RangeError(`${where}: source ${src} or destination ${dst} is not IPv${a.family}`);
    pseudo = header;
  }
  b.writeUInt16BE(internetChecksum([pseudo, b]), 6);
  return b;
}

/** Checks as RFC 5798 5.1/7.1 (and RFC 3768 for v2) require; never throws on any bytes. */
export function decodeAdvert(r: Received): { advert: Advert } | { problem: AdvertProblem; detail: string } {
  const d = r.data;
  const family = r.family;
  if (family !== 4 && family !== 6) return problem('family', `address family ${String(family)} is neither 4 nor 6`);
  const src = addressBytes(r.src, family);
  const dst = addressBytes(r.dst, family);
  if (!src || !dst) return problem('family', `source ${r.src} or destination ${r.dst} is not IPv${family}`);
  // Unicast adverts may cross routers; keepalived checks the TTL only on multicast ones
  if (isMulticast(dst) && r.ttl !== VRRP_TTL) {
    return problem('ttl', `${family === 4 ? 'TTL' : 'hop limit'} ${r.ttl}, must be ${VRRP_TTL}`);
  }
  if (d.length < HEADER_LENGTH) return problem('length', `${d.length} bytes, shorter than the 8-byte VRRP header`);
  const version = d[0] >> 4;
  if (version !== 2 && version !== 3) return problem('version', `version ${version}, expected 2 or 3`);
  if (version === 2 && family !== 4) return problem('family', 'VRRPv2 over IPv6 (RFC 3768 is IPv4 only)');
  const type = d[0] & 0x0f;
  if (type !== ADVERTISEMENT) return problem('type', `type ${type}, only 1 (advertisement) exists`);
  const count = d[3];
  const addressLength = family === 4 ? 4 : 16;
  const expected = HEADER_LENGTH + count * addressLength + (version === 2 ? V2_AUTH_LENGTH : 0);
  if (d.length !== expected) {
    return problem('length', `${d.length} bytes, but ${count} IPv${family} address(es) make ${expected}`);
  }
  const pseudo = version === 3 ? pseudoHeader(family, r.src, r.dst, d.length) : Buffer.alloc(0);
  if (!pseudo) return problem('family', `source ${r.src} or destination ${r.dst} is not IPv${family}`);
  if (internetChecksum([pseudo, d]) !== 0) {
    return problem('checksum', `checksum 0x${d.readUInt16BE(6).toString(16).padStart(4, '0')} does not match the message`);
  }
  const vrid = d[1];
  if (vrid === 0) return problem('vrid', 'vrid 0 is not a virtual router (1..255)');
  if (version === 3 && count === 0) return problem('count', 'no addresses; VRRPv3 carries at least one');
  let intervalMs: number;
  let authType: number | undefined;
  if (version === 2) {
    authType = d[4];
    // keepalived's "Invalid auth type": 0 none, 1 simple password, 2 IPsec AH; whether it is the
    // receiving instance's is authProblem's question
    if (authType > AUTH_IPSEC_AH) return problem('auth', `auth type ${authType}; only 0 (none), 1 (simple password) and 2 (IPsec AH) exist`);
    intervalMs = d[5] * 1000;
  } else {
    intervalMs = (d.readUInt16BE(4) & 0x0fff) * 10;
  }
  // An interval of 0 would make the master-down interval no more than the skew time
  if (intervalMs === 0) return problem('interval', 'advert interval 0');
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_LENGTH + i * addressLength;
    addresses.push(bytesToIp(d.subarray(at, at + addressLength)));
  }
  const advert: Advert = { version, vrid, priority: d[2], intervalMs, family, addresses };
  if (authType !== undefined) advert.authType = authType;
  // RFC 3768 5.3.10: without authentication the auth data is ignored on reception
  if (authType !== undefined && authType !== AUTH_NONE) advert.authData = Buffer.from(d.subarray(d.length - V2_AUTH_LENGTH));
  return { advert };
}

/** RFC 1071: the one's complement of the one's complement sum of the 16-bit words. */
export function internetChecksum(parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined; // a byte left over from a part of odd length
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(family: 4 | 6, src: string, dst: string, length: number): Buffer | undefined {
  const s = addressBytes(src, family);
  const d = addressBytes(dst, family);
  if (!s || !d) return undefined;
  if (family === 4) {
    const tail = Buffer.from([0, IPPROTO_VRRP, length >> 8, length & 0xff]);
    return Buffer.concat([s, d, tail]);
  }
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(length, 0);
  tail[7] = IPPROTO_VRRP;
  return Buffer.concat([s, d, tail]);
}

/** The address's bytes, or undefined when it is not of `family` (an IPv6 zone, '%eth0', is dropped). */
function addressBytes(text: string, family: 4 | 6): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const bare = family === 6 ? text.replace(/%[^%]*$/, '') : text;
  if (family === 4 ? !isIPv4(bare) : !isIPv6(bare)) return undefined;
  return ipToBytes(bare);
}

function isMulticast(address: Buffer): boolean {
  return address.length === 4 ? address[0] >= 224 && address[0] <= 239 : address[0] === 0xff;
}

function problem(p: AdvertProblem, detail: string): { problem: AdvertProblem; detail: string } {
  return { problem: p, detail };
}
