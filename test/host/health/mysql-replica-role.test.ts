// The replica role against a real MariaDB source/replica pair on two 127.0.0.1 ports:
// replication running is up; a stopped IO or SQL thread is down; lag over max_lag is down.
//
// Lag without waiting for it: with MASTER_DELAY the replica's SQL thread holds each event until
// (event timestamp + delay), and Seconds_Behind_Master is now minus the timestamp of the event it
// is holding. Writing one event on the source with a timestamp 120 s in the past (SET TIMESTAMP)
// makes the lag ~120 s at once, deterministically, instead of waiting for real time to pass.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker } from '../../../src/health/mysql';
import type { CheckResult } from '../../../src/health/types';
import { startMariadb, type MariadbServer } from '../../../bench/support/mariadb';

const PASSWORD_ENV = 'LVSD_TEST_REPLICA_MON_PW';
let source: MariadbServer;
let replica: MariadbServer;

function check(maxLagSeconds = 5): Promise<CheckResult> {
  const checker = new MysqlChecker({
    host: '127.0.0.1',
    port: replica.port,
    user: 'lvs_mon',
    password: { env: PASSWORD_ENV },
    role: 'replica',
    maxLagSeconds,
  });
  return runWithDeadline(checker, 3000);
}

/** Polls `fn` until it returns true; bounded. */
async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function replicaStatus(): Promise<Record<string, unknown>> {
  return (await replica.sql('SHOW SLAVE STATUS'))[0] ?? {};
}

/** Both threads running and every source transaction applied (GTID positions equal), lag 0. */
async function caughtUp(): Promise<void> {
  const [{ pos }] = await source.sql('SELECT @@global.gtid_binlog_pos AS pos');
  await until('replica threads running and caught up', async () => {
    const s = await replicaStatus();
    const [{ applied }] = await replica.sql('SELECT @@global.gtid_slave_pos AS applied');
    return s.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes' && applied === pos && s.Seconds_Behind_Master === 0;
  });
}

before(async () => {
  process.env[PASSWORD_ENV] = 'mon-pw-replica';
  [source, replica] = await Promise.all([
    startMariadb({ args: ['--server-id=1', '--log-bin=mysql-bin', '--binlog-format=ROW'] }),
    startMariadb({ args: ['--server-id=2', '--relay-log=relay-bin'] }),
  ]);
  await source.sql("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw'");
  await source.sql("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
  // created on the source, reaches the replica through replication
  await source.sql("CREATE USER 'lvs_mon'@'127.0.0.1' IDENTIFIED BY 'mon-pw-replica'");
  await source.sql("GRANT SLAVE MONITOR ON *.* TO 'lvs_mon'@'127.0.0.1'");
  await source.sql('CREATE DATABASE lvsd_test');
  await source.sql('CREATE TABLE lvsd_test.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT)');
  await replica.sql(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.port}, MASTER_USER='repl', MASTER_PASSWORD='repl-pw', MASTER_USE_GTID=slave_pos`,
  );
  await replica.sql('START SLAVE');
  await caughtUp();
  await until('check account replicated', async () => (await replica.sql("SELECT 1 FROM mysql.user WHERE User = 'lvs_mon'")).length === 1);
});

after(async () => {
  delete process.env[PASSWORD_ENV];
  await Promise.all([source?.stop(), replica?.stop()]);
});

test('replication running: up', async () => {
  const r = await check();
  assert.deepEqual([r.ok, r.configError, r.reason], [true, undefined, 'replicating, lag 0 s <= max 5 s']);
});

test('SQL thread stopped: down; started again: up', async () => {
  await replica.sql('STOP SLAVE SQL_THREAD');
  try {
    const r = await check();
    assert.deepEqual([r.ok, r.configError, r.reason], [false, undefined, 'Slave_SQL_Running=No']);
  } finally {
    await replica.sql('START SLAVE SQL_THREAD');
  }
  await caughtUp();
  assert.equal((await check()).ok, true);
});

test('STOP SLAVE (both threads): down', async () => {
  await replica.sql('STOP SLAVE');
  try {
    const r = await check();
    assert.deepEqual([r.ok, r.reason], [false, 'Slave_IO_Running=No']);
  } finally {
    await replica.sql('START SLAVE');
  }
  await caughtUp();
  assert.equal((await check()).ok, true);
});

test('MASTER_DELAY holding an event 120 s old: lag over max_lag is down, under a larger max is up', async () => {
  await replica.sql('STOP SLAVE');
  await replica.sql('CHANGE MASTER TO MASTER_DELAY = 3600');
  await replica.sql('START SLAVE');
  await caughtUp();
  const [{ pos: before }] = await source.sql('SELECT @@global.gtid_binlog_pos AS pos');
  await source.sql('SET TIMESTAMP = UNIX_TIMESTAMP() - 120');
  await source.sql('INSERT INTO lvsd_test.t (v) VALUES (1)');
  await source.sql('SET TIMESTAMP = DEFAULT');
  try {
    await until('the delayed event to reach the replica', async () => Number((await replicaStatus()).Seconds_Behind_Master) >= 100);
    // held, not applied
    assert.equal((await replica.sql('SELECT @@global.gtid_slave_pos AS applied'))[0].applied, before);
    const r = await check(5);
    assert.equal(r.ok, false);
    assert.equal(r.configError, undefined);
    const lag = Number(/^replication lag (\d+) s > max 5 s$/.exec(r.reason)?.[1]);
    assert.ok(lag >= 120 && lag < 180, r.reason);
    const relaxed = await check(3600);
    assert.equal(relaxed.ok, true, relaxed.reason);
  } finally {
    await replica.sql('STOP SLAVE');
    await replica.sql('CHANGE MASTER TO MASTER_DELAY = 0');
    await replica.sql('START SLAVE');
  }
  await caughtUp();
  assert.deepEqual((await check(5)).reason, 'replicating, lag 0 s <= max 5 s');
});
