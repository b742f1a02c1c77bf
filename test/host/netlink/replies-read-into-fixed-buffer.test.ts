// The socket reads each datagram with one recvmsg into a fixed buffer (no peeking). A dump whose
// parts the kernel packs several to a datagram comes back whole; a datagram longer than the
// buffer fails the requests in flight with a clear error instead of hanging or aborting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../src/errors';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, GenlSocket, ctrlAttrs, genlMessage, parseGenl } from '../../../src/netlink/genl';
import { decode } from '../../../src/netlink/schema';

test('a dump of every generic netlink family: each part decoded, each family found again by name', async () => {
  const sock = new GenlSocket();
  try {
    const parts = await sock.dump(genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1));
    const families = parts.map((m) => decode(ctrlAttrs, parseGenl(m).attrs));
    const names = families.map((f) => f.familyName);
    assert.ok(names.includes('nlctrl'), `nlctrl in ${names.join(', ')}`);
    assert.equal(new Set(names).size, names.length, 'no family twice');
    for (const f of families) assert.equal((await sock.family(f.familyName!)).id, f.familyId, f.familyName);
  } finally {
    sock.close();
  }
});

test('a reply longer than the message buffer fails its request as truncated', async () => {
  const sock = new GenlSocket({ messageBufferSize: 64 });
  try {
    await assert.rejects(sock.family('nlctrl'), (err: unknown) => {
      assert.ok(err instanceof NetlinkError);
      assert.match((err as Error).message, /^netlink reply truncated; results of requests in flight are unknown/);
      return true;
    });
  } finally {
    sock.close();
  }
});
