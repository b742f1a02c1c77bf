// IP address text <-> bytes, written to match glibc's inet_pton/inet_ntop, because ipvsadm's
// output (which we reproduce byte for byte) is made with them.
import type { Family } from './types';

/**
 * Parses dotted-quad IPv4 (four decimal parts of 1-3 digits, no leading zero, as inet_pton);
 * undefined if not one. One pass over the characters: a restore parses 50,000 of these.
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  return parseIPv4Into(text, bytes, 0) ? bytes : undefined;
}

/** Whether text is dotted-quad IPv4 as parseIPv4 takes it, without making its bytes. */
export function isIPv4(text: string): boolean {
  return parseIPv4Into(text, undefined, 0);
}

/** parseIPv4 into out[offset..offset+3] (which it may have changed when it returns false); no out: only checks. */
export function parseIPv4Into(text: string, out: Uint8Array | undefined, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return false;
      if (out) out[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else return false;
  }
  return part === 4;
}

/** Parses IPv6 text (with :: and an optional trailing dotted IPv4); undefined if not one. */
export function parseIPv6(text: string): Uint8Array | undefined {
  // every IPv6 address has at least two colons; "198.18.0.1:80" is rejected here, cheaply
  if (text.indexOf(':') === text.lastIndexOf(':')) return undefined;
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let tail: Uint8Array | undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > lastColon) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (!tail) return undefined;
    body = text.slice(0, lastColon + 1) + '0:0'; // placeholder for the two groups
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !rest) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  if (tail) bytes.set(tail, 12);
  return bytes;
}

export function parseAddress(text: string): { family: Family; bytes: Uint8Array } | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 'inet', bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 'inet6', bytes: v6 };
  return undefined;
}

export function formatIPv4(bytes: Uint8Array): string {
  // join(): one flat string; a template literal keeps a rope of 7 parts (a table read keeps them all)
  return [bytes[0], bytes[1], bytes[2], bytes[3]].join('.');
}

/** inet_ntop(AF_INET6) as glibc writes it: longest zero run (>= 2 groups) as ::, IPv4 tails. */
export function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[i * 2] << 8) | bytes[i * 2 + 1]);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    const v4Tail =
      i === 6 &&
      bestBase === 0 &&
      (bestLen === 6 || (bestLen === 7 && words[7] !== 0x0001) || (bestLen === 5 && words[5] === 0xffff));
    if (v4Tail) {
      out += formatIPv4(bytes.subarray(12, 16));
      break;
    }
    out += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Canonical text of an address (as inet_ntop prints it); the input is returned if it is not one. */
export function canonicalAddress(family: Family, text: string): string {
  const b = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (!b) return text;
  const canonical = family === 'inet' ? formatIPv4(b) : formatIPv6(b);
  return canonical === text ? text : canonical; // the same string object when it already was: one copy kept
}

/**
 * The address as the four host-order 32-bit words of the kernel's union nf_inet_addr
 * (IPv4 fills the first word, the rest are zero). libipvs sorts on these words.
 */
export function addressWords(text: string | undefined): [number, number, number, number] {
  const words: [number, number, number, number] = [0, 0, 0, 0];
  if (text === undefined) return words;
  const parsed = parseAddress(text);
  if (!parsed) return words;
  const b = parsed.bytes;
  for (let i = 0; i < b.length / 4; i++) {
    words[i] = ((b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3]) >>> 0;
  }
  return words;
}
