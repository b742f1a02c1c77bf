// Two apply() calls made at once on the netlink client: the second batch is handed to the
// socket only after the first has completed (answered or failed), in call order. The socket is
// a recorder: what is proven is the client's ordering, not the kernel's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkIpvsClient } from '../../../src/ipvs/client';
import type { GenlSocket } from '../../../src/netlink/genl';
import type { RunResult } from '../../../src/netlink/socket';
import type { IpvsOp } from '../../../src/ipvs/types';

function recordingSocket() {
  const calls: { count: number; finish(r: RunResult | Error): void }[] = [];
  const sock = {
    sendRun(_buf: Buffer, ends: ArrayLike<number>): Promise<RunResult> {
      return new Promise<RunResult>((resolve, reject) => {
        calls.push({ count: ends.length, finish: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      });
    },
    close() {},
  };
  return { calls, client: new NetlinkIpvsClient(sock as unknown as GenlSocket, 42) };
}

const op = (port: number): IpvsOp => ({ kind: 'delete-service', service: { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port } });
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('a second apply reaches the socket only after the first has completed, in call order', async () => {
  const { calls, client } = recordingSocket();
  const first = client.apply([op(1), op(2), op(3)]);
  const second = client.apply([op(4)]);
  const third = client.apply([op(5), op(6)]);
  await ticks(10);
  assert.deepEqual(calls.map((c) => c.count), [3], 'only the first batch was sent');
  calls[0].finish({ sent: 3, failures: [] });
  assert.deepEqual(await first, { applied: 3, failed: [], skipped: 0 });
  await ticks(10);
  assert.deepEqual(calls.map((c) => c.count), [3, 1], 'the second follows the first, the third waits');
  calls[1].finish(new Error('socket gone'));
  await assert.rejects(second, /socket gone/);
  await ticks(10);
  assert.deepEqual(calls.map((c) => c.count), [3, 1, 2], 'a failed batch does not stop the next');
  calls[2].finish({ sent: 2, failures: [] });
  assert.equal((await third).applied, 2);
});

test('a batch refused before sending (bad input) does not hold up the next', async () => {
  const { calls, client } = recordingSocket();
  const bad = client.apply([{ kind: 'delete-service', service: { family: 'inet', protocol: 'tcp', address: 'not-an-address', port: 1 } }]);
  const good = client.apply([op(1)]);
  await assert.rejects(bad, { name: 'InputError' });
  await ticks(10);
  assert.equal(calls.length, 1);
  calls[0].finish({ sent: 1, failures: [] });
  assert.equal((await good).applied, 1);
});
