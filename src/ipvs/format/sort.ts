// The order ipvsadm lists in: libipvs's ipvs_cmp_services / ipvs_cmp_dests, including their
// C integer arithmetic (unsigned differences read back as int), sorted by the same top-down merge
// sort glibc's qsort uses, so that even the comparators' odd corners order entries as ipvsadm does.
import type { Family, RealServerKey, ServiceKey } from '../types';
import { addressWords } from '../address';
import { PROTOCOL_NUMBER } from './fields';

const AF: Record<Family, number> = { inet: 2, inet6: 10 };

/** (a - b) on unsigned 32-bit values, converted to int as C does. */
function unsignedDiff(a: number, b: number): number {
  return (a - b) | 0;
}

// What the comparators look at, as columns indexed by the entry's place in the input, refilled
// by every sort: a listing sorts 10,000 short lists of real servers, and a key object per entry
// cost more than the sorting itself (under emulation, where the lab measures).
const col = {
  fwmark: [] as number[],
  af: [] as number[],
  protocol: [] as number[],
  // the address as libipvs's four host-order words (IPv4: first word only)
  w0: [] as number[],
  w1: [] as number[],
  w2: [] as number[],
  w3: [] as number[],
  port: [] as number[],
};

/** Dotted-quad text as one 32-bit word, 0 if it is not one (as addressWords); no allocation. */
function ipv4Word(text: string): number {
  let word = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || digits > 3 || part > 255) return 0;
      word = word * 256 + part;
      part = digits = 0;
      parts++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
    } else return 0;
  }
  return parts === 4 ? word : 0;
}

function setKey(i: number, fwmark: number, family: Family, protocol: number, address: string | undefined, port: number): void {
  col.fwmark[i] = fwmark;
  col.af[i] = AF[family];
  col.protocol[i] = protocol;
  col.port[i] = port;
  if (family === 'inet' || address === undefined) {
    col.w0[i] = address === undefined ? 0 : ipv4Word(address);
    col.w1[i] = col.w2[i] = col.w3[i] = 0;
  } else {
    [col.w0[i], col.w1[i], col.w2[i], col.w3[i]] = addressWords(address);
  }
}

function compareAddressesAt(a: number, b: number): number {
  let r = unsignedDiff(col.w0[a], col.w0[b]);
  if (col.af[a] !== AF.inet6 || r !== 0) return r;
  r = unsignedDiff(col.w1[a], col.w1[b]);
  if (r !== 0) return r;
  r = unsignedDiff(col.w2[a], col.w2[b]);
  if (r !== 0) return r;
  return unsignedDiff(col.w3[a], col.w3[b]);
}

function compareServicesAt(a: number, b: number): number {
  let r = unsignedDiff(col.fwmark[a], col.fwmark[b]);
  if (r !== 0) return r;
  r = col.af[a] - col.af[b];
  if (r !== 0) return r;
  r = col.protocol[a] - col.protocol[b];
  if (r !== 0) return r;
  r = compareAddressesAt(a, b);
  if (r !== 0) return r;
  return col.port[a] - col.port[b];
}

function compareRealServersAt(a: number, b: number): number {
  const r = compareAddressesAt(a, b);
  if (r !== 0) return r;
  return col.port[a] - col.port[b];
}

function indexes(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i);
  return out;
}

/** Services in ipvs_cmp_services order. */
export function sortServices<T>(items: readonly T[], keyOf: (item: T) => ServiceKey): T[] {
  for (let i = 0; i < items.length; i++) {
    const k = keyOf(items[i]);
    setKey(i, k.fwmark ?? 0, k.family, k.protocol ? PROTOCOL_NUMBER[k.protocol] : 0, k.address, k.port ?? 0);
  }
  return glibcSort(indexes(items.length), compareServicesAt).map((i) => items[i]);
}

/** Real servers in ipvs_cmp_dests order. */
export function sortRealServers<T extends { key: RealServerKey }>(items: readonly T[]): T[] {
  if (items.length < 2) return items.slice();
  for (let i = 0; i < items.length; i++) setKey(i, 0, items[i].key.family, 0, items[i].key.address, items[i].key.port);
  return glibcSort(indexes(items.length), compareRealServersAt).map((i) => items[i]);
}

/** glibc msort: split n/2, merge taking the left element while cmp(left, right) <= 0. */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const order = new Uint32Array(items.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  mergeSort(order, 0, order.length, (a, b) => cmp(items[a], items[b]), new Uint32Array(items.length));
  return Array.from(order, (i) => items[i]);
}

/** glibc msort of order[lo .. lo + n) by cmp on the values held there, in place. */
function mergeSort(order: Uint32Array, lo: number, n: number, cmp: (a: number, b: number) => number, tmp: Uint32Array): void {
  if (n <= 1) return;
  const n1 = n >> 1;
  mergeSort(order, lo, n1, cmp, tmp);
  mergeSort(order, lo + n1, n - n1, cmp, tmp);
  let i = lo;
  let j = lo + n1;
  const iEnd = lo + n1;
  const jEnd = lo + n;
  let k = 0;
  while (i < iEnd && j < jEnd) tmp[k++] = cmp(order[i], order[j]) <= 0 ? order[i++] : order[j++];
  while (i < iEnd) tmp[k++] = order[i++];
  // the rest of the right run is already in place
  for (let m = 0; m < k; m++) order[lo + m] = tmp[m];
}
