// Replica fixtures -> verdicts, MariaDB and MySQL column names (docs/reliability.md §6 item 19).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReplicaRow, replicaQuery, replicaVerdict } from '../../../src/health/mysql/replica';

const mariadbRow = (over: Record<string, unknown> = {}) => ({
  Slave_IO_State: 'Waiting for master to send event',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Seconds_Behind_Master: 0,
  Last_IO_Error: '',
  Last_SQL_Error: '',
  ...over,
});
const mysqlRow = (over: Record<string, unknown> = {}) => ({
  Replica_IO_Running: 'Yes',
  Replica_SQL_Running: 'Yes',
  Seconds_Behind_Source: 0,
  Last_IO_Error: '',
  Last_SQL_Error: '',
  ...over,
});
const verdict = (row: Record<string, unknown> | undefined, maxLag = 5) => replicaVerdict(parseReplicaRow(row), maxLag);

test('both threads running and lag within max is up (both dialects)', () => {
  assert.deepEqual(verdict(mariadbRow({ Seconds_Behind_Master: 3 })), { ok: true, reason: 'replicating, lag 3 s <= max 5 s' });
  assert.deepEqual(verdict(mysqlRow({ Seconds_Behind_Source: 5 })), { ok: true, reason: 'replicating, lag 5 s <= max 5 s' });
  // drivers may hand the number back as text or bigint
  assert.equal(verdict(mariadbRow({ Seconds_Behind_Master: '2' })).ok, true);
  assert.equal(verdict(mariadbRow({ Seconds_Behind_Master: 2n })).ok, true);
});

test('IO thread stopped is down, with the server column name and the last error', () => {
  assert.deepEqual(verdict(mariadbRow({ Slave_IO_Running: 'No', Seconds_Behind_Master: null })), { ok: false, reason: 'Slave_IO_Running=No' });
  assert.deepEqual(verdict(mysqlRow({ Replica_IO_Running: 'Connecting', Last_IO_Error: 'error connecting to master' })), {
    ok: false,
    reason: 'Replica_IO_Running=Connecting (error connecting to master)',
  });
});

test('SQL thread stopped is down', () => {
  assert.deepEqual(verdict(mariadbRow({ Slave_SQL_Running: 'No', Seconds_Behind_Master: null })), { ok: false, reason: 'Slave_SQL_Running=No' });
  assert.deepEqual(verdict(mysqlRow({ Replica_SQL_Running: 'No', Last_SQL_Error: "Error 'Duplicate entry'" })), {
    ok: false,
    reason: "Replica_SQL_Running=No (Error 'Duplicate entry')",
  });
});

test('NULL lag is down', () => {
  assert.deepEqual(verdict(mariadbRow({ Seconds_Behind_Master: null })), { ok: false, reason: 'Seconds_Behind_Master=NULL (replication lag unknown)' });
  assert.deepEqual(verdict(mysqlRow({ Seconds_Behind_Source: null })), { ok: false, reason: 'Seconds_Behind_Source=NULL (replication lag unknown)' });
});

test('lag over max is down; exactly max is up', () => {
  assert.deepEqual(verdict(mariadbRow({ Seconds_Behind_Master: 12 })), { ok: false, reason: 'replication lag 12 s > max 5 s' });
  assert.equal(verdict(mariadbRow({ Seconds_Behind_Master: 0 }), 0).ok, true);
  assert.equal(verdict(mariadbRow({ Seconds_Behind_Master: 1 }), 0).ok, false);
});

test('a server that is not a replica (no row) is down', () => {
  assert.deepEqual(verdict(undefined), { ok: false, reason: 'not a replica: replica status is empty' });
});

test('statement by dialect: MariaDB and old MySQL SHOW SLAVE STATUS, MySQL >= 8.0.22 SHOW REPLICA STATUS', () => {
  assert.equal(replicaQuery({ mariadb: true, major: 11, minor: 4, patch: 0 }), 'SHOW SLAVE STATUS');
  assert.equal(replicaQuery({ mariadb: false, major: 5, minor: 7, patch: 44 }), 'SHOW SLAVE STATUS');
  assert.equal(replicaQuery({ mariadb: false, major: 8, minor: 0, patch: 21 }), 'SHOW SLAVE STATUS');
  assert.equal(replicaQuery({ mariadb: false, major: 8, minor: 0, patch: 22 }), 'SHOW REPLICA STATUS');
  assert.equal(replicaQuery({ mariadb: false, major: 8, minor: 4, patch: 0 }), 'SHOW REPLICA STATUS');
  assert.equal(replicaQuery({ mariadb: false, major: 9, minor: 1, patch: 0 }), 'SHOW REPLICA STATUS');
});
