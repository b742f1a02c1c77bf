// Watches spread over worker threads behave like watches in one HealthMonitor: real TCP probes
// in the shards, transitions delivered to the caller, equal checks on one shard, clean stop; a
// MySQL check logs in to a real MariaDB from inside a shard with a password from a file or env.
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ShardedHealthMonitor, shardOf, type ShardedTransition } from '../../../src/health/shards';
import { closedPort, tcpServer } from '../../support/servers';
import { startMariadb } from '../../../bench/support/mariadb';

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

test('a MySQL check runs in a shard: its password source (env and file) crosses, a real login happens there, its verdict comes back', { timeout: 60_000 }, async () => {
  const password = `shard-canary-${randomBytes(6).toString('hex')}`;
  const db = await startMariadb();
  // set before the shards start: a worker thread gets a copy of the environment at its start
  process.env.LVSD_TEST_SHARD_PASSWORD = password;
  process.env.LVSD_TEST_SHARD_WRONG = 'not-the-password';
  const monitor = new ShardedHealthMonitor(2, { log: false });
  try {
    await db.sql(`CREATE USER 'lvs_shard'@'127.0.0.1' IDENTIFIED BY '${password}'`);
    const file = join(db.dir, 'shard.pw');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const mysql = (source: { env: string } | { file: string }) => ({
      kind: 'mysql' as const,
      options: { host: db.host, port: db.port, user: 'lvs_shard', password: source },
    });
    const connectionsBefore = Number(await db.status('Connections'));
    const fromEnv = monitor.watch('db-env', mysql({ env: 'LVSD_TEST_SHARD_PASSWORD' }), { intervalMs: 200, rise: 1, fall: 1 });
    const fromFile = monitor.watch('db-file', mysql({ file }), { intervalMs: 250, rise: 1, fall: 1 });
    // starts up, so the refused login shows as a transition (a watch reports results on transitions)
    const wrong = monitor.watch('db-wrong', mysql({ env: 'LVSD_TEST_SHARD_WRONG' }), { intervalMs: 300, rise: 1, fall: 1, initialState: 'up' });
    const settled = () => fromEnv.state === 'up' && fromFile.state === 'up' && wrong.state === 'down';
    const deadline = Date.now() + 20_000;
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    assert.equal(fromEnv.state, 'up', JSON.stringify(fromEnv.lastResult));
    assert.equal(fromEnv.lastResult?.reason, 'login and query answered');
    assert.equal(fromFile.state, 'up', JSON.stringify(fromFile.lastResult));
    assert.equal(fromFile.lastResult?.reason, 'login and query answered');
    assert.equal(wrong.state, 'down');
    assert.equal(wrong.configError, true, 'a refused login is a configuration error');
    assert.match(wrong.lastResult?.reason ?? '', /^ERR 1045 /);
    // the server counted the logins (each probe is one connection)
    assert.ok(Number(await db.status('Connections')) - connectionsBefore >= 3);
    for (const w of [fromEnv, fromFile, wrong]) assert.equal(JSON.stringify(w.lastResult).includes(password), false);
  } finally {
    await monitor.stop();
    delete process.env.LVSD_TEST_SHARD_PASSWORD;
    delete process.env.LVSD_TEST_SHARD_WRONG;
    await db.stop();
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
