// The counters listings (-n with --stats, --rate, --thresholds, --persistent-conn) are written in
// C (native/ipvs_text.c decodeServices and writeCounters) from the kernel's bytes: the service
// dump and each service's destination dump. The JavaScript (codec.ts reading the same bytes,
// format/table.ts formatTable writing them) is the definition: for random tables, counters at
// every scale, and damaged bytes, C gives exactly its listing, or declines (undefined).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LISTING_MODE, nativeText } from '../../../src/ipvs/native-text';
import { SERVICE_DUMP_TYPES } from '../../../src/ipvs/service-dump';
import { countedAttrsOf } from '../../../src/ipvs/client';
import { realServerAttrsOf, realServerFromAttrs, serviceAttrsOf, serviceFromAttrs } from '../../../src/ipvs/codec';
import { formatTable, writeCounters, type ListMode } from '../../../src/ipvs/format/table';
import { numericNamer } from '../../../src/ipvs/format/names';
import { formatIPv6 } from '../../../src/ipvs/address';
import { Cmd, cmdAttrs } from '../../../src/ipvs/spec';
import { genlMessage } from '../../../src/netlink/genl';
import { dumpOutcome } from '../../../src/netlink/dumps';
import { NLMSG_DONE, NLM_F_MULTI, Writer, parseMessages } from '../../../src/netlink/wire';
import type { ForwardMethod, RealServer, ServiceKey, TableEntry, VirtualService } from '../../../src/ipvs/types';

const native = nativeText();
const INFO = { version: 0x010201, connectionTableSize: 4096 };
const FAMILY_ID = 0x1f;
const MODES: ListMode[] = ['stats', 'rate', 'thresholds', 'persistent-conn'];

// counters around every step of print_largenum (K, M, G, T) and the ends of a u64
const counter = fc.oneof(
  fc.constantFrom(0n, 1n, 99_999_999n, 100_000_000n, 999_999_999n, 1_000_000_000n, 99_999_999_999n, 100_000_000_000n, 10n ** 14n - 1n, 10n ** 14n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const counters = fc.array(counter, { minLength: 10, maxLength: 10 });
const u32 = fc.oneof(fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat());
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const v6 = fc.array(fc.constantFrom(0, 1, 0x2001, 0xdb8, 0xffff), { minLength: 8, maxLength: 8 }).map((g) => {
  const b = Buffer.alloc(16);
  g.forEach((x, i) => b.writeUInt16BE(x, i * 2));
  return formatIPv6(b);
});
const port = fc.constantFrom(0, 80, 3306, 65535);

const serviceKey = fc.oneof(
  fc.record({ family: fc.constantFrom('inet' as const, 'inet6' as const), fwmark: fc.constantFrom(1, 7, 0x80000000, 0xffffffff) }).map((k): ServiceKey => k),
  fc.record({ protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const), address: v4, port }).map((k): ServiceKey => ({ family: 'inet', ...k })),
  fc.record({ protocol: fc.constantFrom('tcp' as const, 'udp' as const), address: v6, port }).map((k): ServiceKey => ({ family: 'inet6', ...k })),
);
const service = fc.record({ key: serviceKey, flags: fc.constantFrom(0, 1, 4, 5), scheduler: fc.constantFrom('wrr', 'sh', 'lc'), counters });
const realServer = fc.record({
  inet6: fc.boolean(),
  v4,
  v6,
  port,
  forward: fc.constantFrom<ForwardMethod>('masq', 'local', 'tunnel', 'route'),
  weight: u32.map((w) => w % 2 ** 31),
  upper: u32,
  lower: u32,
  active: u32,
  inactive: u32,
  persistent: u32,
  counters,
});
const table = fc.array(fc.record({ service, servers: fc.array(realServer, { maxLength: 5 }) }), { maxLength: 8 });
type Table = typeof table extends fc.Arbitrary<infer T> ? T : never;

const NAMES = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
const stats64Of = (c: bigint[]) => Object.fromEntries(NAMES.map((n, i) => [n, c[i]]));
// the 32-bit set, as the kernel also sends it (lvsd reads the 64-bit one)
const stats32Of = (c: bigint[]) => Object.fromEntries(NAMES.map((n, i) => [n, i === 3 || i === 4 ? c[i] : Number(c[i] & 0xffffffffn)]));

function done(): Buffer {
  const w = new Writer();
  const at = w.beginMessage(NLMSG_DONE, NLM_F_MULTI);
  w.s32(0);
  w.endMessage(at);
  return w.finish();
}

/** The service dump and each destination dump's reply, as the kernel writes them. */
function bytesOf(t: Table): { dump: Buffer; replies: Buffer; ends: Uint32Array } {
  const dump = Buffer.concat(
    t.map(({ service: s }) => {
      const svc: VirtualService = { key: s.key, scheduler: s.scheduler, flags: s.flags, timeout: s.flags & 1 ? 300 : 0, netmask: s.key.family === 'inet' ? '255.255.255.255' : 128 };
      return genlMessage(FAMILY_ID, Cmd.NEW_SERVICE, 1, cmdAttrs, { service: { ...serviceAttrsOf(svc), stats: stats32Of(s.counters), stats64: stats64Of(s.counters) } });
    }),
  );
  const ends = new Uint32Array(t.length);
  const parts: Buffer[] = [];
  let length = 0;
  t.forEach((e, i) => {
    for (const r of e.servers) {
      const rs: RealServer = {
        key: { family: r.inet6 ? 'inet6' : 'inet', address: r.inet6 ? r.v6 : r.v4, port: r.port },
        forward: r.forward,
        weight: r.weight,
        upperThreshold: r.upper,
        lowerThreshold: r.lower,
      };
      const dest = { ...realServerAttrsOf(rs), activeConns: r.active, inactConns: r.inactive, persistConns: r.persistent, stats: stats32Of(r.counters), stats64: stats64Of(r.counters) };
      parts.push(genlMessage(FAMILY_ID, Cmd.NEW_DEST, 1, cmdAttrs, { dest }));
      length += parts[parts.length - 1].length;
    }
    parts.push(done());
    length += 16 + 4;
    ends[i] = length;
  });
  return { dump, replies: Buffer.concat(parts), ends };
}

/** What the JavaScript reads from the bytes and writes, or undefined if it refuses them. */
function listingByJavaScript(b: { dump: Buffer; replies: Buffer; ends: Uint32Array }, mode: ListMode, exact: boolean, sort: boolean): string | undefined {
  try {
    const entries: TableEntry[] = parseMessages(b.dump).map((m, i) => {
      const service = serviceFromAttrs(countedAttrsOf(m).service ?? {});
      const out = dumpOutcome(b.replies.subarray(i ? b.ends[i - 1] : 0, b.ends[i]));
      if (!out.ok) throw out.error;
      return { service, realServers: parseMessages(out.parts).map((d) => realServerFromAttrs(countedAttrsOf(d).dest ?? {}, service.key.family)) };
    });
    if (entries.length !== b.ends.length) return undefined;
    return formatTable(INFO, entries, { mode, exact, sort, namer: numericNamer });
  } catch {
    return undefined;
  }
}

function listingByC(b: { dump: Buffer; replies: Buffer; ends: Uint32Array }, mode: ListMode, exact: boolean, sort: boolean): string | undefined {
  const services = native!.decodeServices(b.dump, SERVICE_DUMP_TYPES, LISTING_MODE[mode as keyof typeof LISTING_MODE], exact);
  if (!services || services.lineEnds.length !== b.ends.length) return undefined;
  return writeCounters(INFO, { services, replies: { bytes: b.replies, ends: b.ends } }, { mode, exact, sort })?.toString('latin1');
}

test('random tables, every counters listing, exact or scaled, sorted or not: byte for byte the JavaScript', () => {
  assert.ok(native, 'dist/native/ipvs_text.node did not load: run npm run build');
  fc.assert(
    fc.property(table, fc.constantFrom(...MODES), fc.boolean(), fc.boolean(), (t, mode, exact, sort) => {
      const b = bytesOf(t);
      const js = listingByJavaScript(b, mode, exact, sort);
      assert.ok(js !== undefined, 'the JavaScript refused a table as the kernel writes it');
      assert.equal(listingByC(b, mode, exact, sort), js);
    }),
    { numRuns: 1000 },
  );
});

test('a byte changed or the bytes cut: the same listing, or declined where JavaScript refuses them', () => {
  fc.assert(
    fc.property(table.filter((t) => t.length > 0), fc.constantFrom(...MODES), fc.nat(), fc.nat(255), fc.constantFrom('dump', 'replies'), fc.boolean(), (t, mode, at, byte, where, cut) => {
      const b = bytesOf(t);
      const damage = (x: Buffer) => {
        const p = at % x.length;
        return cut ? x.subarray(0, p) : Buffer.concat([x.subarray(0, p), Buffer.from([byte]), x.subarray(p + 1)]);
      };
      const bad = where === 'dump' ? { ...b, dump: damage(b.dump) } : b.replies.length ? { ...b, replies: damage(b.replies) } : b;
      if (bad.replies.length < b.replies.length) bad.ends = b.ends.map((e) => Math.min(e, bad.replies.length));
      const js = listingByJavaScript(bad, mode, false, true);
      const c = listingByC(bad, mode, false, true);
      if (js === undefined) assert.equal(c, undefined, 'C wrote a listing from bytes JavaScript refuses');
      else if (c !== undefined) assert.equal(c, js);
    }),
    { numRuns: 3000 },
  );
});
