// The C fast paths of native/ipvs_text.c, built by `npm run build` into dist/native. They are
// optional: without them (not built, or LVSD_NATIVE=0) the JavaScript definitions in procfs.ts
// and format/table.ts run, with the same results, only slower.
import { loadNative } from '../native';
import type { RealServerColumns } from './summary';

/** parse()'s services: SERVICE_FIELDS numbers each */
export const SERVICE_FIELDS = 10;
/** where each number is in a service's fields */
export const ServiceField = { kind: 0, inet6: 1, w0: 2, port: 6, first: 7, count: 8 } as const;
/** ServiceField.kind: the service line's first word */
export const SERVICE_KINDS = ['TCP', 'UDP', 'SCTP', 'FWM'] as const;

/** Real servers as columns (RealServerColumns' arrays), exactly `length` long. */
export type ColumnArrays = Pick<RealServerColumns, 'length' | 'inet6' | 'words' | 'port' | 'forward' | 'weight' | 'activeConns' | 'inactiveConns'>;

export type NativeTable = ColumnArrays & { services: Uint32Array };

export interface NativeText {
  /** /proc/net/ip_vs text read into columns; undefined for anything procfs.ts's grammar does not accept exactly */
  parse(text: Uint8Array): NativeTable | undefined;
  /** For each service (as key columns), the index of its entry in parse()'s services; -1: not there, or there twice. */
  joinServices(fwmark: Uint32Array, af: Uint8Array, protocol: Uint8Array, words: Uint32Array, port: Uint16Array, procServices: Uint32Array): Int32Array;
  /** The services' indexes in ipvs_cmp_services order (glibc's merge sort, as libipvs). */
  sortServices(fwmark: Uint32Array, af: Uint8Array, protocol: Uint8Array, words: Uint32Array, port: Uint16Array): Uint32Array;
  /** The file read and parsed on a thread of libuv's pool; undefined if it cannot be opened or read. */
  readTable(path: string): Promise<{ text: Buffer; table: NativeTable | undefined } | undefined>;
  /**
   * head, then for each service k of order its line (lines[lineEnds[k - 1] .. lineEnds[k]]) and
   * the default-column lines of real servers first[k] .. first[k] + count[k], numeric, sorted in
   * ipvs_cmp_dests order when sort is true; undefined if an argument is out of range.
   */
  writeListing(
    head: Uint8Array, lines: Uint8Array, lineEnds: Uint32Array, order: Uint32Array, first: Uint32Array, count: Uint32Array, sort: boolean,
    inet6: Uint8Array, words: Uint32Array, port: Uint16Array, forward: Uint8Array,
    weight: Int32Array, activeConns: Int32Array, inactiveConns: Int32Array,
  ): Buffer | undefined;
  /**
   * A GET_SERVICE dump's bytes read into the services' keys and their -n lines (format/table.ts
   * serviceLine's), by the attribute numbers in types (service-dump.ts SERVICE_DUMP_TYPES); undefined
   * for anything codec.ts would refuse or that is unusual (JavaScript then reads the dump).
   */
  decodeServices(dump: Uint8Array, types: Uint32Array, mode?: number, exact?: boolean): DecodedServices | undefined;
  /**
   * head, then for each service k of order its line (decodeServices' of the same mode) and the
   * lines of the real servers in its destination dump's reply (replies[replyEnds[k - 1] ..
   * replyEnds[k]], ending with NLMSG_DONE), numeric, sorted in ipvs_cmp_dests order when sort is
   * true; af: the services' families. Modes stats .. persistent-conn of LISTING_MODE; types:
   * service-dump.ts DEST_DUMP_TYPES. undefined for anything codec.ts would refuse or that is unusual.
   */
  writeCounters(
    head: Uint8Array, lines: Uint8Array, lineEnds: Uint32Array, order: Uint32Array, af: Uint8Array,
    replies: Uint8Array, replyEnds: Uint32Array, types: Uint32Array, mode: number, exact: boolean, sort: boolean,
  ): Buffer | undefined;
}

/** decodeServices' mode: the listing whose service lines to write (default: `-n`'s). */
export const LISTING_MODE = { default: 0, stats: 1, rate: 2, thresholds: 3, 'persistent-conn': 4 } as const;

/** A service dump read by C: the keys as columns, and each service's line of one listing. */
export interface DecodedServices {
  fwmark: Uint32Array;
  af: Uint8Array;
  protocol: Uint8Array;
  words: Uint32Array;
  port: Uint16Array;
  lines: Buffer;
  lineEnds: Uint32Array;
}

/** The fast paths, or undefined when they are not built or LVSD_NATIVE=0. */
export function nativeText(): NativeText | undefined {
  return loadNative<NativeText>('ipvs_text');
}
