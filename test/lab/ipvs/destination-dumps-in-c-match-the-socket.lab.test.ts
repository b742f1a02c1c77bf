// A listing's destination dumps run in C (native/netlink_dumps.c) when it is built: the table
// read that way is what the netlink socket reads, and when the C transport's own
// socket cannot work the JavaScript path takes over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openIpvs, NetlinkIpvsClient } from '../../../src/ipvs/client';
import { serviceKeyRequest } from '../../../src/ipvs/codec';
import { Cmd } from '../../../src/ipvs/spec';
import { GenlSocket } from '../../../src/netlink/genl';
import { dumpEach, type DumpOutcome } from '../../../src/netlink/dumps';
import { NETLINK_GENERIC, Writer, parseMessages } from '../../../src/netlink/wire';
import { NetlinkError } from '../../../src/errors';
import type { ServiceKey } from '../../../src/ipvs/types';
import { setUpNamespace } from '../../support/ipvs-lab';
import { TYPED_TABLE } from '../../support/ipvs-typed-table';

let client: NetlinkIpvsClient;
before(async () => {
  setUpNamespace();
  client = await openIpvs();
  const result = await client.apply(TYPED_TABLE.flatMap((e) => [{ kind: 'add-service' as const, service: e.service }, ...e.servers.map((s) => ({ kind: 'add-server' as const, service: e.service.key, server: s.server }))]));
  assert.deepEqual(result.failed.map((f) => f.error.message), []);
});
after(() => client?.close());

async function withoutNative<T>(f: () => Promise<T>): Promise<T> {
  process.env.LVSD_NATIVE = '0';
  try {
    return await f();
  } finally {
    delete process.env.LVSD_NATIVE;
  }
}

function requests(keys: readonly ServiceKey[]): { buf: Buffer; ends: number[] } {
  const w = new Writer();
  const ends = keys.map((key) => {
    w.bytes(serviceKeyRequest(client.familyId, Cmd.GET_DEST, key));
    return w.length;
  });
  return { buf: w.view(), ends };
}

test('listTable reads the same table with the dumps in C as through the socket', async () => {
  const inC = await client.listTable();
  const bySocket = await withoutNative(() => client.listTable());
  assert.equal(inC.length, TYPED_TABLE.length);
  assert.equal(inC.reduce((n, e) => n + e.realServers.length, 0), TYPED_TABLE.reduce((n, e) => n + e.servers.length, 0));
  assert.deepEqual(inC, bySocket);
});

test('each dump in C gives the parts the socket gives, a missing service included', async () => {
  const missing: ServiceKey = { family: 'inet', protocol: 'tcp', address: '198.51.100.250', port: 9 };
  const keys = [...TYPED_TABLE.map((e) => e.service.key), missing];
  const { buf, ends } = requests(keys);
  const inC = await dumpEach(NETLINK_GENERIC, buf, ends);
  assert.ok(inC, 'the C transport did not run: is dist/native/netlink_dumps.node built?');
  const sock = new GenlSocket();
  try {
    for (let i = 0; i < keys.length; i++) {
      const msg = Buffer.from(buf.subarray(i ? ends[i - 1] : 0, ends[i]));
      const bySocket = await sock.dump(msg).then(
        (parts) => ({ ok: true as const, payloads: parts.map((m) => m.payload.toString('hex')) }),
        (err: NetlinkError) => ({ ok: false as const, errno: err.errno }),
      );
      const c: DumpOutcome = inC[i];
      const got: typeof bySocket = c.ok ? { ok: true as const, payloads: parseMessages(c.parts).map((m) => m.payload.toString('hex')) } : { ok: false as const, errno: c.error.errno };
      if (got.ok && bySocket.ok) {
        // counters move between the two reads only with traffic, and this namespace has none
        assert.deepEqual(got.payloads, bySocket.payloads, JSON.stringify(keys[i]));
      } else assert.deepEqual(got, bySocket, JSON.stringify(keys[i]));
    }
    // the kernel answers a destination dump of a missing service with an empty dump, not an error
    const last = inC[keys.length - 1];
    assert.ok(last.ok && last.parts.length === 0);
  } finally {
    sock.close();
  }
});

test('when its own socket cannot be opened, the C transport gives way (undefined), it does not fail', async () => {
  const { buf, ends } = requests([TYPED_TABLE[0].service.key]);
  assert.equal(await dumpEach(31 /* MAX_LINKS - 1: no such netlink protocol */, buf, ends), undefined);
});
