// Watches spread over worker threads behave like watches in one HealthMonitor: real TCP probes
// in the shards, transitions delivered to the caller, equal checks on one shard, clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardedHealthMonitor, shardOf, type ShardedTransition } from '../../../src/health/shards';
import { closedPort, tcpServer } from '../../support/servers';
import { startFakeMysql } from '../../support/fake-mysql';

test('transitions from real probes in 2 shards reach the caller; stop ends them', { timeout: 30_000 }, async () => {
  const srv = await tcpServer(() => {});
  const refused = await closedPort();
  const monitor = new ShardedHealthMonitor(2, { log: false });
  const events: ShardedTransition[] = [];
  monitor.on('transition', (t) => events.push(t));
  const up = Array.from({ length: 20 }, (_, i) =>
    monitor.watch(`up-${i}`, { kind: 'tcp', options: { host: '127.0.0.1', port: srv.port, send: `probe ${i}` } }, { intervalMs: 200, rise: 1, fall: 1 }),
  );
  const down = Array.from({ length: 5 }, (_, i) =>
    monitor.watch(`down-${i}`, { kind: 'tcp', options: { host: '127.0.0.1', port: refused, send: `probe ${i}` } }, { intervalMs: 200, rise: 1, fall: 1 }),
  );
  const until = async (cond: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => up.every((w) => w.state === 'up'));
  assert.ok(up.every((w) => w.state === 'up'));
  assert.ok(down.every((w) => w.state === 'down' && w.lastResult === undefined), 'never up, so no transition');
  assert.equal(events.filter((e) => e.to === 'up').length, 20);

  await srv.close();
  await until(() => up.every((w) => w.state === 'down'));
  assert.ok(up.every((w) => w.state === 'down'));
  assert.equal(up[0].lastResult?.reason, 'connection refused');

  await monitor.stop();
  const seen = events.length;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(events.length, seen, 'nothing after stop');
});

test('a MySQL check runs in a shard: its password source crosses, its verdict comes back', { timeout: 30_000 }, async () => {
  process.env.LVSD_TEST_SHARD_PASSWORD = 'shard-canary-5e3b';
  const fake = await startFakeMysql('err-1040');
  const monitor = new ShardedHealthMonitor(2, { log: false });
  try {
    const w = monitor.watch('db', { kind: 'mysql', options: { host: '127.0.0.1', port: fake.port, user: 'lvs', password: { env: 'LVSD_TEST_SHARD_PASSWORD' } } }, { intervalMs: 200, rise: 1, fall: 1, initialState: 'up' });
    const deadline = Date.now() + 10_000;
    while (w.state !== 'down' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.state, 'down');
    assert.equal(w.lastResult?.reason, 'ERR 1040 too many connections');
    assert.ok(!JSON.stringify(w.lastResult).includes('shard-canary-5e3b'));
  } finally {
    await monitor.stop();
    await fake.close();
  }
});

test('an invalid spec is refused in the caller, before it reaches a shard', async () => {
  const monitor = new ShardedHealthMonitor(1, { log: false });
  assert.throws(() => monitor.watch('x', { kind: 'exec', options: { host: '127.0.0.1', port: 1, path: 'relative.sh' } }), /absolute path/);
  await monitor.stop();
});

test('shard placement depends only on the key and stays in range', () => {
  for (const n of [1, 2, 3, 8]) {
    for (const key of ['tcp:127.0.0.1:80:a', 'tcp:127.0.0.1:81:b', 'http:[::1]:80:c']) {
      const s = shardOf(key, n);
      assert.ok(s >= 0 && s < n);
      assert.equal(shardOf(key, n), s);
    }
  }
});
