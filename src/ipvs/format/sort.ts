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

/** What the comparators look at, computed once per entry. */
interface SortKey {
  fwmark: number;
  af: number;
  protocol: number;
  /** the address as libipvs's four host-order words (IPv4: first word only) */
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  port: number;
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

function sortKey(fwmark: number, family: Family, protocol: number, address: string | undefined, port: number): SortKey {
  if (family === 'inet' || address === undefined) {
    return { fwmark, af: AF[family], protocol, w0: address === undefined ? 0 : ipv4Word(address), w1: 0, w2: 0, w3: 0, port };
  }
  const [w0, w1, w2, w3] = addressWords(address);
  return { fwmark, af: AF[family], protocol, w0, w1, w2, w3, port };
}

function compareAddressWords(af: number, a: SortKey, b: SortKey): number {
  let r = unsignedDiff(a.w0, b.w0);
  if (af !== AF.inet6 || r !== 0) return r;
  r = unsignedDiff(a.w1, b.w1);
  if (r !== 0) return r;
  r = unsignedDiff(a.w2, b.w2);
  if (r !== 0) return r;
  return unsignedDiff(a.w3, b.w3);
}

function serviceSortKey(k: ServiceKey): SortKey {
  return sortKey(k.fwmark ?? 0, k.family, k.protocol ? PROTOCOL_NUMBER[k.protocol] : 0, k.address, k.port ?? 0);
}

function compareServiceSortKeys(a: SortKey, b: SortKey): number {
  let r = unsignedDiff(a.fwmark, b.fwmark);
  if (r !== 0) return r;
  r = a.af - b.af;
  if (r !== 0) return r;
  r = a.protocol - b.protocol;
  if (r !== 0) return r;
  r = compareAddressWords(a.af, a, b);
  if (r !== 0) return r;
  return a.port - b.port;
}

function compareRealServerSortKeys(a: SortKey, b: SortKey): number {
  const r = compareAddressWords(a.af, a, b);
  if (r !== 0) return r;
  return a.port - b.port;
}

/** Services in ipvs_cmp_services order. */
export function sortServices<T>(items: readonly T[], keyOf: (item: T) => ServiceKey): T[] {
  const decorated = items.map((item) => ({ item, key: serviceSortKey(keyOf(item)) }));
  return glibcSort(decorated, (a, b) => compareServiceSortKeys(a.key, b.key)).map((d) => d.item);
}

/** Real servers in ipvs_cmp_dests order. */
export function sortRealServers<T extends { key: RealServerKey }>(items: readonly T[]): T[] {
  if (items.length < 2) return items.slice();
  const decorated = items.map((item) => ({ item, key: sortKey(0, item.key.family, 0, item.key.address, item.key.port) }));
  return glibcSort(decorated, (a, b) => compareRealServerSortKeys(a.key, b.key)).map((d) => d.item);
}

/** glibc msort: split n/2, merge taking the left element while cmp(left, right) <= 0. */
export function glibcSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  const out = items.slice();
  const tmp = new Array<T>(out.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo;
    let j = lo + n1;
    const iEnd = lo + n1;
    const jEnd = lo + n;
    let k = 0;
    while (i < iEnd && j < jEnd) tmp[k++] = cmp(out[i], out[j]) <= 0 ? out[i++] : out[j++];
    while (i < iEnd) tmp[k++] = out[i++];
    // the rest of the right run is already in place
    for (let m = 0; m < k; m++) out[lo + m] = tmp[m];
  };
  sort(0, out.length);
  return out;
}
