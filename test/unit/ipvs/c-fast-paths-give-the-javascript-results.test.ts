// native/ipvs_text.c does the per-line work of a big default listing (reading /proc/net/ip_vs
// and the netlink service dump, joining them, sorting, writing the lines). The JavaScript in
// procfs.ts and format/table.ts is the definition; for random and damaged inputs the C paths
// give exactly its results, or decline (undefined) where the JavaScript refuses the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseProcTable, procEntriesOf, type ProcTable } from '../../../src/ipvs/procfs';
import { nativeText } from '../../../src/ipvs/native-text';
import { ServerRanges, ServiceKeyColumns, summaryOf } from '../../../src/ipvs/summary';
import { writeSummary } from '../../../src/ipvs/format/table';
import { numericNamer } from '../../../src/ipvs/format/names';
import { FORWARD_NAME } from '../../../src/ipvs/format/fields';
import { formatIPv6, parseIPv6 } from '../../../src/ipvs/address';
import type { Family, ForwardMethod, Protocol, RealServerSummary, ServiceKey, VirtualService } from '../../../src/ipvs/types';
import { SERVICE_DUMP_TYPES, decodeServiceDump } from '../../../src/ipvs/service-dump';
import { serviceAttrsOf } from '../../../src/ipvs/codec';
import { Cmd, cmdAttrs } from '../../../src/ipvs/spec';
import { genlMessage } from '../../../src/netlink/genl';

const native = nativeText();
const captured = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'ipvs', 'proc-net-ip_vs.txt'), 'latin1')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n');
const HEADER = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';

test('the C module is built (npm run build) and loads', () => {
  assert.ok(native, 'dist/native/ipvs_text.node did not load: run npm run build');
});

function columnsOf(t: ProcTable) {
  const c = t.servers;
  const cut = <T extends { subarray(a: number, b: number): T }>(a: T) => Array.from(a.subarray(0, c.length) as unknown as ArrayLike<number>);
  return {
    fields: Array.from(t.fields),
    servers: [cut(c.inet6), Array.from(c.words.subarray(0, c.length * 4)), cut(c.port), cut(c.forward), cut(c.weight), cut(c.activeConns), cut(c.inactiveConns)],
  };
}

/** the C reader's table, or the error the JavaScript reader gives (the C one must decline then) */
function bothReadings(text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  let js: ProcTable | undefined;
  try {
    js = parseProcTable(bytes, undefined, { native: false });
  } catch {
    js = undefined;
  }
  const c = native!.parse(bytes);
  if (!js) return assert.equal(c, undefined, 'the C reader accepted what the JavaScript reader refuses');
  assert.ok(c, 'the C reader declined what the JavaScript reader accepts');
  assert.deepEqual(columnsOf(parseProcTable(bytes)), columnsOf(js));
}

test('reading /proc/net/ip_vs: the captured text, and every cut or changed byte of it, as the JavaScript reader', () => {
  bothReadings(captured);
  fc.assert(
    fc.property(fc.nat(captured.length), fc.constantFrom(0x20, 0x0a, 0x2d, 0x30, 0x39, 0x41, 0x46, 0x5b, 0x5d, 0x3a, 0x7a, 0xff), fc.boolean(), (at, byte, cut) => {
      bothReadings(cut ? captured.slice(0, at) : captured.slice(0, at) + String.fromCharCode(byte) + captured.slice(at + 1));
    }),
    { numRuns: 3000 },
  );
});

const hex = (n: number, digits: number) => n.toString(16).toUpperCase().padStart(digits, '0');
const FORWARDS: ForwardMethod[] = ['masq', 'local', 'tunnel', 'route'];
const word = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xc6120001, 0xffffffff);
const v6words = fc.array(fc.constantFrom(0, 1, 0x20010db8, 0xffff, 0x80000000), { minLength: 4, maxLength: 4 });
const count = fc.oneof(fc.nat(9), fc.integer({ min: -5, max: 2 ** 31 - 1 }), fc.integer({ min: 2 ** 30, max: 2 ** 31 - 1 }));
const realServer = fc.record({ v6: fc.boolean(), w: word, v6w: v6words, port: fc.constantFrom(0, 80, 8080, 65535), forward: fc.constantFrom(...FORWARDS), weight: count, active: count, inactive: count });
type Rs = typeof realServer extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(words: number[]): Buffer {
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  return b;
}
function v4text(w: number): string {
  return [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255].join('.');
}

// services of every kind; equal keys happen (the same fwmark in both families most of all)
const serviceKey = fc.oneof(
  fc.record({ family: fc.constantFrom<Family>('inet', 'inet6'), fwmark: fc.constantFrom(1, 7, 0x80000000, 0xffffffff) }).map((k): ServiceKey => k),
  fc.record({ protocol: fc.constantFrom<Protocol>('tcp', 'udp', 'sctp'), w: word, port: fc.constantFrom(0, 80, 443) }).map((k): ServiceKey => ({ family: 'inet', protocol: k.protocol, address: v4text(k.w), port: k.port })),
  fc.record({ protocol: fc.constantFrom<Protocol>('tcp', 'udp'), w: v6words, port: fc.constantFrom(53, 80) }).map((k): ServiceKey => ({ family: 'inet6', protocol: k.protocol, address: formatIPv6(bytesOf(k.w)), port: k.port })),
);

function procEndpoint(key: ServiceKey): string {
  if (key.fwmark !== undefined) return `FWM  ${hex(key.fwmark, 8)}`;
  const kind = key.protocol.toUpperCase().padEnd(4);
  if (key.family === 'inet') return `${kind} ${hex(key.address.split('.').reduce((n, b) => n * 256 + Number(b), 0), 8)}:${hex(key.port, 4)}`;
  const b = Buffer.from(parseIPv6(key.address)!);
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16).padStart(4, '0'));
  return `${kind} [${groups.join(':')}]:${hex(key.port, 4)}`;
}
function procLine(rs: Rs): string {
  const addr = rs.v6 ? `[${bytesOf(rs.v6w).toString('hex').match(/.{4}/g)!.join(':')}]` : hex(rs.w >>> 0, 8);
  return `  -> ${addr}:${hex(rs.port, 4)}      ${FORWARD_NAME[rs.forward].padEnd(7)} ${String(rs.weight).padEnd(6)} ${String(rs.active).padEnd(10)} ${String(rs.inactive).padEnd(10)}\n`;
}
function summary(rs: Rs): RealServerSummary {
  const address = rs.v6 ? formatIPv6(bytesOf(rs.v6w)) : v4text(rs.w);
  return { key: { family: rs.v6 ? 'inet6' : 'inet', address, port: rs.port }, forward: rs.forward, weight: rs.weight, activeConns: rs.active, inactiveConns: rs.inactive };
}
const svc = (key: ServiceKey): VirtualService => ({ key, scheduler: 'wrr', flags: 0, timeout: 0, netmask: key.family === 'inet' ? '255.255.255.255' : 128 });
const table = fc.array(fc.record({ key: serviceKey, servers: fc.array(realServer, { maxLength: 5 }) }), { maxLength: 10 });

const procText = (entries: { key: ServiceKey; servers: Rs[] }[]) => HEADER + entries.map((e) => `${procEndpoint(e.key)} wrr \n${e.servers.map(procLine).join('')}`).join('');

test('reading /proc/net/ip_vs: random tables, and each with a byte put in, as the JavaScript reader', () => {
  fc.assert(
    fc.property(table, fc.nat(), fc.constantFrom('0', '9', ' ', '-', '\n', 'F', ':'), (entries, at, byte) => {
      const text = procText(entries);
      bothReadings(text);
      const p = HEADER.length + (at % (text.length - HEADER.length + 1));
      bothReadings(text.slice(0, p) + byte + text.slice(p));
    }),
    { numRuns: 3000 },
  );
});

test('joining /proc/net/ip_vs to the services: the same ranges, equal fwmarks of two families left to netlink', () => {
  fc.assert(
    fc.property(table, fc.array(serviceKey, { maxLength: 6 }), (entries, extra) => {
      const proc = parseProcTable(procText(entries));
      // the services netlink would list: those /proc shows, and some it does not
      const services = [...entries.map((e) => svc(e.key)), ...extra.map(svc)];
      const keys = new ServiceKeyColumns(services.length);
      services.forEach((s, i) => keys.set(i, s.key));
      assert.deepEqual(Array.from(procEntriesOf(proc, () => services, keys)), Array.from(procEntriesOf(proc, () => services, keys, { native: false })));
    }),
    { numRuns: 500 },
  );
});

test('the default listing, sorted or not: byte for byte the JavaScript writer', () => {
  const INFO = { version: 0x010201, connectionTableSize: 4096 };
  fc.assert(
    fc.property(table, fc.boolean(), (entries, sort) => {
      const s = summaryOf(entries.map((e) => ({ service: svc(e.key), realServers: e.servers.map(summary) })));
      const c = writeSummary(INFO, s, { sort, namer: numericNamer });
      const js = writeSummary(INFO, s, { sort, namer: numericNamer, native: false });
      assert.equal(c.toString('latin1'), js.toString('latin1'));
    }),
    { numRuns: 500 },
  );
});

// ---- the netlink service dump ----

const persistence = fc.record({
  flags: fc.integer({ min: 0, max: 0x3f }),
  timeout: fc.constantFrom(0, 300, 86400 * 31, 0xffffffff),
  v4mask: fc.constantFrom('255.255.255.255', '255.255.255.0', '0.0.0.0'),
  v6prefix: fc.constantFrom(128, 64, 1),
  scheduler: fc.constantFrom('rr', 'wrr', 'sh', 'mh', 'lblcr', '', 'fifteen-chars-s'),
  pe: fc.constantFrom(undefined, 'sip', ''),
});
const dumpService = fc.tuple(serviceKey, persistence).map(([key, p]): VirtualService => {
  const svc: VirtualService = { key, scheduler: p.scheduler, flags: p.flags & ~0x2, timeout: p.timeout, netmask: key.family === 'inet' ? p.v4mask : p.v6prefix };
  if (p.pe) svc.persistenceEngine = p.pe;
  return svc;
});

/** GET_SERVICE replies as the kernel sends them (with counters, which the listing skips). */
function dumpOf(services: VirtualService[]): Buffer {
  const stats = { conns: 1, inPkts: 2, outPkts: 3, inBytes: 4n, outBytes: 5n, cps: 6, inPps: 7, outPps: 8, inBps: 9, outBps: 10 };
  return Buffer.concat(services.map((s) => genlMessage(0x1f, Cmd.NEW_SERVICE, 1, cmdAttrs, { service: { ...serviceAttrsOf(s), stats } })));
}

/** The listing from the dump as JavaScript reads and writes it, or undefined if it refuses the dump. */
function listingByJavaScript(dump: Buffer): { text: string; keys: ServiceKeyColumns } | undefined {
  let read;
  try {
    read = decodeServiceDump(dump);
  } catch {
    return undefined;
  }
  const ranges = new ServerRanges(read.services.length);
  const summary = { services: read.services, ranges, servers: summaryOf([]).servers, fromProcfs: 0, keys: read.keys };
  return { text: writeSummary(undefined, summary, { sort: true, namer: numericNamer, native: false }).toString('latin1'), keys: read.keys };
}

function listingByC(dump: Buffer): { text: string; keys: ServiceKeyColumns } | undefined {
  const fast = native!.decodeServices(dump, SERVICE_DUMP_TYPES);
  if (!fast) return undefined;
  const keys = ServiceKeyColumns.of(fast);
  const summary = {
    get services(): VirtualService[] {
      throw new Error('the C path asked for service objects');
    },
    ranges: new ServerRanges(keys.length),
    servers: summaryOf([]).servers,
    fromProcfs: 0,
    keys,
    serviceLines: { text: fast.lines, ends: fast.lineEnds },
  };
  return { text: writeSummary(undefined, summary, { sort: true, namer: numericNamer }).toString('latin1'), keys };
}

const keyColumns = (k: ServiceKeyColumns) => [k.fwmark, k.af, k.protocol, k.words, k.port].map((a) => Array.from(a as ArrayLike<number>));

test('the service dump: keys and -n service lines as JavaScript reads and writes them', () => {
  fc.assert(
    fc.property(fc.array(dumpService, { maxLength: 12 }), (services) => {
      const dump = dumpOf(services);
      const js = listingByJavaScript(dump)!;
      const c = listingByC(dump);
      assert.ok(c, 'the C reader declined a dump as the kernel writes it');
      assert.equal(c.text, js.text);
      assert.deepEqual(keyColumns(c.keys), keyColumns(js.keys));
    }),
    { numRuns: 500 },
  );
});

test('the service dump with a byte changed or cut: the same listing, or declined where JavaScript refuses it', () => {
  fc.assert(
    fc.property(fc.array(dumpService, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(255), fc.boolean(), (services, at, byte, cut) => {
      const dump = dumpOf(services);
      const p = at % dump.length;
      const bad = cut ? dump.subarray(0, p) : Buffer.concat([dump.subarray(0, p), Buffer.from([byte]), dump.subarray(p + 1)]);
      const js = listingByJavaScript(bad);
      const c = listingByC(bad);
      if (!js) return assert.equal(c, undefined, 'the C reader accepted a dump JavaScript refuses');
      if (c) {
        assert.equal(c.text, js.text);
        assert.deepEqual(keyColumns(c.keys), keyColumns(js.keys));
      }
    }),
    { numRuns: 3000 },
  );
});
