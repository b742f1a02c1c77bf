// The socket layer against the host kernel's own families (nlctrl over generic netlink, and
// NETLINK_ROUTE): many requests per sendmsg, each outcome mapped back to its own message, with
// or without an ACK per message; multipart dumps until NLMSG_DONE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../src/errors';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, GenlSocket, ctrlAttrs, genlMessage, parseGenl } from '../../../src/netlink/genl';
import { decode } from '../../../src/netlink/schema';
import { NetlinkSocket } from '../../../src/netlink/socket';
import { NETLINK_ROUTE, Writer } from '../../../src/netlink/wire';

const getFamily = (name: string) => genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, ctrlAttrs, { familyName: name });

function countSends(sock: NetlinkSocket): () => number {
  const raw = (sock as unknown as { raw: { send: (...a: unknown[]) => void } }).raw;
  const orig = raw.send.bind(raw);
  let n = 0;
  raw.send = (...a: unknown[]) => {
    n++;
    orig(...a);
  };
  return () => n;
}

for (const ack of [true, false]) {
  test(`a batch of 600 requests (${ack ? 'ACK each' : 'ACK only the last of each send'}): each reply and each failure lands on its own message`, async () => {
    const sock = new GenlSocket({ window: 128 });
    const sends = countSends(sock);
    try {
      const names = Array.from({ length: 600 }, (_, i) => (i % 7 === 3 ? `nope-${i}` : 'nlctrl'));
      const outcomes = await sock.batch(names.map(getFamily), { ack });
      assert.equal(outcomes.length, 600);
      outcomes.forEach((o, i) => {
        if (names[i].startsWith('nope-')) {
          assert.equal(o.ok, false, `message ${i}`);
          if (!o.ok) {
            assert.ok(o.error instanceof NetlinkError);
            assert.equal(o.error.errno, 2);
          }
        } else {
          assert.equal(o.ok, true, `message ${i}`);
          if (o.ok) assert.equal(decode(ctrlAttrs, parseGenl(o.replies[0]).attrs).familyName, 'nlctrl');
        }
      });
      // the window is refilled in halves: about 600 / 64 sends, never one per request
      assert.ok(sends() <= Math.ceil(600 / 64) + 1, `${sends()} sendmsg calls for 600 requests in a window of 128`);
    } finally {
      sock.close();
    }
  });
}

test('family lookups are cached per socket and a missing family is an ENOENT NetlinkError', async () => {
  const sock = new GenlSocket();
  try {
    const [a, b] = await Promise.all([sock.family('nlctrl'), sock.family('nlctrl')]);
    assert.equal(a, b);
    assert.equal(a.id, GENL_ID_CTRL);
    await assert.rejects(sock.family('lvsd-nofamily'), (e: unknown) => e instanceof NetlinkError && e.errno === 2 && /"lvsd-nofamily" not found/.test(e.message));
  } finally {
    sock.close();
  }
});

test('a request answered by one reply asks for no ACK and completes on that reply, or on its error', async () => {
  const sock = new GenlSocket();
  // every datagram the kernel sends back, as the socket receives it
  const raw = (sock as unknown as { raw: { on: (e: string, f: (b: Buffer) => void) => void } }).raw;
  let datagrams = 0;
  raw.on('message', () => datagrams++);
  try {
    const msgs = [getFamily('nlctrl'), getFamily('lvsd-nofamily'), getFamily('nlctrl')];
    const [a, missing, b] = await Promise.allSettled(msgs.map((m) => sock.request(m, { oneReply: true })));
    for (const m of msgs) assert.equal(m.readUInt16LE(6) & 0x04, 0, 'NLM_F_ACK not set'); // flags, stamped in place
    for (const r of [a, b]) {
      assert.equal(r.status, 'fulfilled');
      if (r.status === 'fulfilled') {
        assert.equal(r.value.length, 1);
        assert.equal(decode(ctrlAttrs, parseGenl(r.value[0]).attrs).familyId, GENL_ID_CTRL);
      }
    }
    assert.equal(missing.status, 'rejected');
    if (missing.status === 'rejected') assert.ok(missing.reason instanceof NetlinkError && missing.reason.errno === 2, String(missing.reason));
    assert.equal(datagrams, 3, 'one answer per request');
    // the same requests with ACKs: two answers for each that succeeds
    datagrams = 0;
    await Promise.allSettled(msgs.map((m) => sock.request(Buffer.from(getFamily(m === msgs[1] ? 'lvsd-nofamily' : 'nlctrl')))));
    assert.equal(datagrams, 5);
  } finally {
    sock.close();
  }
});

test('a dump returns every part until NLMSG_DONE (all generic netlink families)', async () => {
  const sock = new GenlSocket();
  try {
    const parts = await sock.dump(getFamily(''));
    const names = parts.map((m) => decode(ctrlAttrs, parseGenl(m).attrs).familyName);
    assert.ok(names.includes('nlctrl'), names.join(' '));
    assert.equal(new Set(names).size, names.length);
  } finally {
    sock.close();
  }
});

test('the same socket layer speaks NETLINK_ROUTE: an RTM_GETLINK dump lists lo', async () => {
  const sock = new NetlinkSocket(NETLINK_ROUTE);
  try {
    const w = new Writer();
    const at = w.beginMessage(18 /* RTM_GETLINK */, 0);
    w.bytes(new Uint8Array(16)); // struct ifinfomsg
    w.endMessage(at);
    const [links, again] = await Promise.all([sock.dump(w.finish()), sock.dump(w.finish())]); // two dumps queue, one at a time
    assert.ok(links.length >= 1);
    assert.equal(again.length, links.length);
    const ifnames = links.map((m) => {
      // IFLA_IFNAME (3) among the attributes after the 16-byte ifinfomsg
      const attrs = m.payload.subarray(16);
      for (let off = 0; off + 4 <= attrs.length; ) {
        const len = attrs.readUInt16LE(off);
        if (attrs.readUInt16LE(off + 2) === 3) return attrs.toString('utf8', off + 4, off + len - 1);
        off += (len + 3) & ~3;
      }
      return undefined;
    });
    assert.ok(ifnames.includes('lo'), String(ifnames));
  } finally {
    sock.close();
  }
});

test('requests on a closed socket fail at once instead of hanging', async () => {
  const sock = new GenlSocket();
  sock.close();
  await assert.rejects(sock.request(getFamily('nlctrl')), /netlink socket closed/);
});

test('requests still waiting when the socket closes fail with its closing', async () => {
  const sock = new GenlSocket();
  const waiting = [sock.request(getFamily('nlctrl')), sock.request(getFamily('nlctrl'))];
  sock.close(); // before the event loop could deliver either answer
  for (const w of waiting) await assert.rejects(w, /netlink socket closed/);
});

test('a tiny receive buffer throttles the requests in flight instead of losing replies', async () => {
  // the kernel would drop answers that do not fit (ENOBUFS); the socket keeps them within budget
  const sock = new GenlSocket({ recvBufferSize: 1 });
  try {
    const outcomes = await sock.batch(Array.from({ length: 1000 }, () => getFamily('nlctrl')), { ack: true });
    assert.deepEqual(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.error.message), []);
    for (const o of outcomes) if (o.ok) assert.equal(decode(ctrlAttrs, parseGenl(o.replies[0]).attrs).familyName, 'nlctrl');
  } finally {
    sock.close();
  }
});

/** Requests written back to back into one buffer, as IpvsClient.apply does for a restore. */
function oneBuffer(names: string[]): { buf: Buffer; ends: Uint32Array } {
  const msgs = names.map(getFamily);
  const ends = new Uint32Array(msgs.length);
  let end = 0;
  msgs.forEach((m, i) => (ends[i] = end += m.length));
  return { buf: Buffer.concat(msgs), ends };
}

test('a run of 3000 requests in one buffer: few sends, each failure found by its index, the rest succeed', async () => {
  const sock = new GenlSocket();
  const sends = countSends(sock);
  try {
    const names = Array.from({ length: 3000 }, (_, i) => (i % 97 === 5 ? `nope-${i}` : 'nlctrl'));
    const { buf, ends } = oneBuffer(names);
    const r = await sock.sendRun(buf, ends);
    assert.equal(r.sent, 3000);
    const bad = names.flatMap((n, i) => (n.startsWith('nope-') ? [i] : []));
    assert.deepEqual(r.failures.map((f) => f.index), bad);
    for (const f of r.failures) {
      assert.ok(f.error instanceof NetlinkError);
      assert.equal(f.error.errno, 2);
    }
    assert.ok(sends() < 3000 / 50, `${sends()} sendmsg calls for 3000 requests`);
    // the socket still answers ordinary requests afterwards
    assert.equal((await sock.family('nlctrl')).id, GENL_ID_CTRL);
  } finally {
    sock.close();
  }
});

test('a run with stopOnError sends nothing more after a failure; a tiny receive buffer only makes more sends', async () => {
  const sock = new GenlSocket({ recvBufferSize: 1 });
  try {
    const names = Array.from({ length: 5000 }, (_, i) => (i === 700 || i === 701 ? `nope-${i}` : 'nlctrl'));
    const { buf, ends } = oneBuffer(names);
    const r = await sock.sendRun(buf, ends, { stopOnError: true });
    // here one message per send: the run stops right after the first failure
    assert.ok(r.sent >= 701 && r.sent < 5000, `sent ${r.sent}`);
    assert.deepEqual(r.failures.map((f) => f.index), r.sent > 701 ? [700, 701] : [700]);
    const all = await sock.sendRun(buf, ends);
    assert.equal(all.sent, 5000);
    assert.deepEqual(all.failures.map((f) => f.index), [700, 701]);
  } finally {
    sock.close();
  }
});

test('a run on a closed socket fails every message at once', async () => {
  const sock = new GenlSocket();
  sock.close();
  const { buf, ends } = oneBuffer(['nlctrl', 'nlctrl']);
  const r = await sock.sendRun(buf, ends);
  assert.deepEqual(r.failures.map((f) => [f.index, f.error.errno]), [[0, 9], [1, 9]]);
});

test('a run across the end of the seq space still maps each failure to its index', async () => {
  const sock = new GenlSocket();
  (sock as unknown as { seq: number }).seq = 0xffffffff - 100;
  try {
    const names = Array.from({ length: 1000 }, (_, i) => (i % 50 === 7 ? `nope-${i}` : 'nlctrl'));
    const { buf, ends } = oneBuffer(names);
    const r = await sock.sendRun(buf, ends);
    assert.equal(r.sent, 1000);
    assert.deepEqual(r.failures.map((f) => f.index), names.flatMap((n, i) => (n.startsWith('nope-') ? [i] : [])));
  } finally {
    sock.close();
  }
});

test('a request the kernel leaves unanswered (as it does for EINTR) fails as EINTR once a later request is answered, not at the timeout', async () => {
  const sock = new GenlSocket({ timeoutMs: 60_000 });
  // the run's only send reaches the kernel without its last message: nothing answers that one,
  // as netlink_rcv_skb answers nothing for a handler's -EINTR
  const raw = (sock as unknown as { raw: { send: (data: Buffer | Buffer[], ...rest: unknown[]) => void } }).raw;
  const orig = raw.send.bind(raw);
  let first = true;
  raw.send = (data, ...rest) => {
    if (first && Buffer.isBuffer(data)) {
      first = false;
      data = data.subarray(0, ends[ends.length - 2]);
    }
    orig(data, ...rest);
  };
  const names = ['nlctrl', 'nope-1', 'nlctrl', 'nlctrl'];
  const { buf, ends } = oneBuffer(names);
  try {
    const started = Date.now();
    const run = sock.sendRun(buf, ends);
    const later = await sock.family('nlctrl');
    const r = await run;
    assert.equal(later.id, GENL_ID_CTRL);
    assert.deepEqual(r.failures.map((f) => [f.index, f.error.errno]), [[1, 2], [3, 4]]);
    assert.match(r.failures[1].error.message, /the kernel sent no answer/);
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  } finally {
    sock.close();
  }
});
