// Replies captured from a real kernel (test/fixtures/netlink/*.hex, Debian 6.1, see the header of
// each file) decode to exactly the table that was programmed, byte layouts and all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServerFromAttrs, serviceFromAttrs } from '../../../src/ipvs/codec';
import { countedAttrsOf, serviceSettingsOf, servicesOf, summaryOfReplies, tableOfReplies } from '../../../src/ipvs/client';
import { writeTable } from '../../../src/ipvs/format/table';
import { numericNamer } from '../../../src/ipvs/format/names';
import { cmdAttrs, infoAttrs } from '../../../src/ipvs/spec';
import { genlMessage, parseGenl } from '../../../src/netlink/genl';
import { decode, encodeToBuffer } from '../../../src/netlink/schema';
import { Message, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, parseErrorPayload, parseMessages } from '../../../src/netlink/wire';
import { TYPED_TABLE } from '../../support/ipvs-typed-table';
import type { RealServer, VirtualService } from '../../../src/ipvs/types';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'netlink');

/** A fixture's messages as bytes, one per line. */
function readHex(name: string): Buffer[] {
  return readFileSync(join(FIXTURES, `${name}.hex`), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'hex'));
}

function load(name: string): Message[] {
  return readHex(name).flatMap((b) => parseMessages(b));
}

const attrsOf = (m: Message) => decode(cmdAttrs, parseGenl(m).attrs);
const byKey = <T>(items: T[], key: (t: T) => unknown) => new Map(items.map((i) => [JSON.stringify(key(i)), i]));

test('GET_INFO: version 1.2.1 and a 4096-entry connection table', () => {
  const [m] = load('ipvs-get-info');
  assert.deepEqual(decode(infoAttrs, parseGenl(m).attrs), { version: 0x010201, connTabSize: 4096 });
});

test('GET_CONFIG: the default timeouts 900 120 300', () => {
  const [m] = load('ipvs-get-config');
  assert.deepEqual(attrsOf(m), { timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 });
});

test('service dump: every programmed service, with its settings, nothing else', () => {
  const msgs = load('ipvs-dump-services');
  assert.ok(msgs.every((m) => m.header.flags & NLM_F_MULTI));
  const got = msgs.map((m) => serviceFromAttrs(attrsOf(m).service ?? {}));
  assert.equal(got.length, TYPED_TABLE.length);
  const want = byKey(TYPED_TABLE.map((e) => e.service), (s) => s.key);
  for (const svc of got) {
    const { stats, ...settings } = svc;
    assert.deepEqual(settings, want.get(JSON.stringify(svc.key)) as VirtualService);
    assert.equal(stats.conns, 0n);
  }
});

test('destination dumps: forwarding methods, tunnels, mixed families and thresholds as programmed', () => {
  for (const i of [14, 19, 23]) {
    const entry = TYPED_TABLE[i];
    const got = load(`ipvs-dump-dests-${i}`).map((m) => realServerFromAttrs(attrsOf(m).dest ?? {}, entry.service.key.family));
    assert.equal(got.length, entry.servers.length, `service ${i}`);
    // ipvsadm -R (used to program the capture) does not carry thresholds
    const want = byKey(entry.servers.map((s): RealServer => ({ ...s.server, upperThreshold: 0, lowerThreshold: 0 })), (s) => s.key);
    for (const rs of got) {
      const { stats, activeConns, inactiveConns, persistentConns, ...settings } = rs;
      assert.deepEqual(settings, want.get(JSON.stringify(rs.key)));
      assert.deepEqual([activeConns, inactiveConns, persistentConns, stats.outBytes], [0, 0, 0, 0n]);
    }
  }
});

test('kernel replies carry both 32-bit and 64-bit stats; the 64-bit ones are used', () => {
  const [m] = load('ipvs-dump-dests-14');
  const dest = attrsOf(m).dest ?? {};
  assert.ok(dest.stats && dest.stats64);
  assert.equal(typeof dest.stats64.conns, 'bigint');
  assert.equal(typeof dest.stats.conns, 'number');
  assert.equal(dest.unknown, undefined, 'every attribute of kernel 6.1 is described');
});

test('the listings read the 64-bit counters alone, and the 32-bit ones where a kernel sends no others', () => {
  for (const name of ['ipvs-dump-services', 'ipvs-dump-dests-14', 'ipvs-dump-dests-19']) {
    for (const m of load(name)) {
      const full = attrsOf(m);
      const counted = countedAttrsOf(m);
      if (full.service) assert.deepEqual(serviceFromAttrs(counted.service ?? {}), serviceFromAttrs(full.service));
      else assert.deepEqual(realServerFromAttrs(counted.dest ?? {}, 'inet'), realServerFromAttrs(full.dest ?? {}, 'inet'));
      assert.equal((counted.service ?? counted.dest)?.stats, undefined, 'the 32-bit set is not decoded');
    }
  }
  // a reply as from a kernel before 4.1: 32-bit counters only
  const [m] = load('ipvs-dump-dests-14');
  const { stats64: _, ...dest } = attrsOf(m).dest ?? {};
  const stats = { conns: 7, inPackets: 70, outPackets: 60, inBytes: 7000n, outBytes: 6000n, cps: 1, inPps: 2, outPps: 3, inBps: 4, outBps: 5 };
  const old = parseMessages(genlMessage(m.header.type, 0, 1, cmdAttrs, { dest: { ...dest, stats } }))[0];
  const rs = realServerFromAttrs(countedAttrsOf(old).dest ?? {}, 'inet');
  assert.deepEqual([rs.stats.conns, rs.stats.inBytes, rs.stats.outBps], [7n, 7000n, 5n]);
});

test('the default listing decodes no counters: the same settings and the same lines as the full read', async () => {
  const dump = load('ipvs-dump-services');
  const full = await servicesOf(dump);
  const settings = await serviceSettingsOf(dump);
  assert.deepEqual(settings, full.map(({ stats: _, ...s }) => s));
  assert.ok(settings.every((s) => !('stats' in s)));
  // three services' destination replies as the C transport returns them: back to back, each ending in NLMSG_DONE
  const picked = [14, 19, 23].map((i) => ({ i, at: full.findIndex((s) => JSON.stringify(s.key) === JSON.stringify(TYPED_TABLE[i].service.key)) }));
  assert.ok(picked.every((p) => p.at >= 0));
  const done = Buffer.alloc(20);
  done.writeUInt32LE(20, 0);
  done.writeUInt16LE(NLMSG_DONE, 4);
  done.writeUInt16LE(NLM_F_MULTI, 6);
  const bytes = picked.map((p) => Buffer.concat([...readHex(`ipvs-dump-dests-${p.i}`), done]));
  const replies = { bytes: Buffer.concat(bytes), ends: Uint32Array.from(bytes.map((_, k) => bytes.slice(0, k + 1).reduce((n, b) => n + b.length, 0))) };
  const withCounters = await tableOfReplies(picked.map((p) => full[p.at]), replies);
  const without = await summaryOfReplies(picked.map((p) => settings[p.at]), replies);
  for (let k = 0; k < picked.length; k++) {
    const servers = without.realServers(k);
    assert.equal(servers.length, TYPED_TABLE[picked[k].i].servers.length);
    assert.ok(servers.every((rs) => !('stats' in rs)));
    assert.deepEqual(servers, withCounters.realServers(k).map(({ stats: _, ...rs }) => rs));
  }
  const info = { version: 0x010201, connectionTableSize: 4096 };
  const fmt = { mode: 'default' as const, exact: false, sort: true, namer: numericNamer };
  assert.equal(writeTable(info, without, fmt).toString(), writeTable(info, withCounters, fmt).toString());
  assert.throws(() => writeTable(info, without, { ...fmt, mode: 'stats' }), /needs a full table/);
});

test('sync daemon dump: master on lab0 with its multicast settings', () => {
  const [m] = load('ipvs-dump-daemons');
  const d = attrsOf(m).daemon ?? {};
  assert.deepEqual(
    { state: d.state, ifn: d.mcastIfn, id: d.syncId, maxlen: d.syncMaxLen, group: [...(d.mcastGroup ?? [])].join('.'), port: d.mcastPort, ttl: d.mcastTtl },
    { state: 1, ifn: 'lab0', id: 7, maxlen: 1400, group: '239.1.2.3', port: 8850, ttl: 3 },
  );
});

test('NLMSG_ERROR: errno EEXIST, the request echoed with its sequence number', () => {
  const [m] = load('ipvs-error-eexist');
  assert.equal(m.header.type, NLMSG_ERROR);
  const e = parseErrorPayload(m);
  assert.equal(e.errno, 17);
  assert.equal(e.request.seq, 4242);
  assert.equal(e.extack, undefined);
});

test('re-encoding a decoded kernel reply and decoding it again changes nothing', () => {
  for (const name of ['ipvs-dump-services', 'ipvs-dump-dests-19', 'ipvs-dump-daemons']) {
    for (const m of load(name)) {
      const once = attrsOf(m);
      assert.deepEqual(decode(cmdAttrs, encodeToBuffer(cmdAttrs, once)), once);
    }
  }
});
