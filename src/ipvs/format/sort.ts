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

// What the comparators look at, KEY words per entry in one array made per sort (a listing sorts
// 10,000 short lists of real servers: an object per entry cost more than the sorting itself):
// fwmark, af, protocol, the address as libipvs's four host-order words (IPv4: the first), port.
const KEY = 8;

function setKey(keys: Uint32Array, i: number, fwmark: number, family: Family, protocol: number, address: string | undefined, port: number): void {
  const k = i * KEY;
  keys[k] = fwmark;
  keys[k + 1] = AF[family];
  keys[k + 2] = protocol;
  if (family === 'inet' || address === undefined) keys[k + 3] = address === undefined ? 0 : ipv4Word(address);
  else keys.set(addressWords(address), k + 3);
  keys[k + 7] = port;
}

function compareAddresses(keys: Uint32Array, a: number, b: number): number {
  let r = unsignedDiff(keys[a + 3], keys[b + 3]);
  if (keys[a + 1] !== AF.inet6 || r !== 0) return r;
  r = unsignedDiff(keys[a + 4], keys[b + 4]);
  if (r !== 0) return r;
  r = unsignedDiff(keys[a + 5], keys[b + 5]);
  if (r !== 0) return r;
  return unsignedDiff(keys[a + 6], keys[b + 6]);
}

/** Services in ipvs_cmp_services order. */
export function sortServices<T>(items: readonly T[], keyOf: (item: T) => ServiceKey): T[] {
  const keys = new Uint32Array(items.length * KEY);
  for (let i = 0; i < items.length; i++) {
    const k = keyOf(items[i]);
    setKey(keys, i, k.fwmark ?? 0, k.family, k.protocol ? PROTOCOL_NUMBER[k.protocol] : 0, k.address, k.port ?? 0);
  }
  return sortedBy(items, (i, j) => {
    const a = i * KEY;
    const b = j * KEY;
    let r = unsignedDiff(keys[a], keys[b]);
    if (r !== 0) return r;
    r = keys[a + 1] - keys[b + 1];
    if (r !== 0) return r;
    r = keys[a + 2] - keys[b + 2];
    if (r !== 0) return r;
    r = compareAddresses(keys, a, b);
    if (r !== 0) return r;
    return keys[a + 7] - keys[b + 7];
  });
}

/**
 * Typed arrays for many sorts in a row, grown when too small: a listing sorts 10,000 short lists
 * of real servers, and three new typed arrays per list cost more than the sorting. One per
 * listing; never shared between callers.
 */
export class SortScratch {
  keys = new Uint32Array(16 * KEY);
  order = new Uint32Array(16);
  tmp = new Uint32Array(16);

  fit(n: number): void {
    if (n <= this.order.length) return;
    const size = Math.max(n, this.order.length * 2);
    this.keys = new Uint32Array(size * KEY);
    this.order = new Uint32Array(size);
    this.tmp = new Uint32Array(size);
  }
}

/** Real servers in ipvs_cmp_dests order. */
export function sortRealServers<T extends { key: RealServerKey }>(items: readonly T[], scratch = new SortScratch()): T[] {
  if (items.length < 2) return items.slice();
  scratch.fit(items.length);
  const keys = scratch.keys;
  for (let i = 0; i < items.length; i++) setKey(keys, i, 0, items[i].key.family, 0, items[i].key.address, items[i].key.port);
  return sortedBy(
    items,
    (i, j) => {
      const r = compareAddresses(keys, i * KEY, j * KEY);
      return r !== 0 ? r : keys[i * KEY + 7] - keys[j * KEY + 7];
    },
    scratch,
  );
}

/** items in glibc msort order of cmp on their indexes. */
function sortedBy<T>(items: readonly T[], cmp: (a: number, b: number) => number, scratch?: SortScratch): T[] {
  const n = items.length;
  const order = scratch ? scratch.order : new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  mergeSort(order, 0, n, cmp, scratch ? scratch.tmp : new Uint32Array(n));
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = items[order[i]];
  return out;
}

/** glibc msort: split n/2, merge taking the left element while cmp(left, right) <= 0. */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return sortedBy(items, (a, b) => cmp(items[a], items[b]));
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
