// The order ipvsadm lists in: libipvs's ipvs_cmp_services / ipvs_cmp_dests, including their
// C integer arithmetic (unsigned differences read back as int), sorted by the same top-down merge
// sort glibc's qsort uses, so that even the comparators' odd corners order entries as ipvsadm does.
import type { Family, RealServer, ServiceKey } from '../types';
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
  words: [number, number, number, number];
  port: number;
}

function compareAddressWords(af: number, a: SortKey, b: SortKey): number {
  if (af !== AF.inet6) return unsignedDiff(a.words[0], b.words[0]);
  let r = 0;
  for (let i = 0; r === 0 && i < 4; i++) r = unsignedDiff(a.words[i], b.words[i]);
  return r;
}

function serviceSortKey(k: ServiceKey): SortKey {
  return {
    fwmark: k.fwmark ?? 0,
    af: AF[k.family],
    protocol: k.protocol ? PROTOCOL_NUMBER[k.protocol] : 0,
    words: addressWords(k.address),
    port: k.port ?? 0,
  };
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
export function sortRealServers<T extends RealServer>(items: readonly T[]): T[] {
  const decorated = items.map((item) => ({
    item,
    key: { fwmark: 0, af: AF[item.key.family], protocol: 0, words: addressWords(item.key.address), port: item.key.port },
  }));
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
