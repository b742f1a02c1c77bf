// writer / reader / any verdicts over read_only fixtures, and the role dispatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRole, roleQuery, roleVerdict, type Role } from '../../../src/health/mysql/roles';

const opts = (role: Role) => ({ role, maxLagSeconds: 5, acceptDonor: false });
const maria = { mariadb: true, major: 10, minor: 11, patch: 19 };

test('writer is up only with read_only=OFF, whatever type the driver returns', () => {
  for (const off of [0, '0', 'OFF', 0n]) assert.deepEqual(roleVerdict(opts('writer'), [{ read_only: off }]), { ok: true, reason: 'read_only=OFF (writable)' });
  for (const on of [1, '1', 'ON']) assert.deepEqual(roleVerdict(opts('writer'), [{ read_only: on }]), { ok: false, reason: 'read_only=ON (not writable)' });
  assert.deepEqual(roleVerdict(opts('writer'), []), { ok: false, reason: 'read_only=NULL (not writable)' });
  // MariaDB 11.x spells read-only modes out
  assert.deepEqual(roleVerdict(opts('writer'), [{ read_only: 'NO_LOCK_NO_ADMIN' }]), { ok: false, reason: 'read_only=NO_LOCK_NO_ADMIN (not writable)' });
});

test('reader is up with read_only ON or OFF (a writer serves reads too)', () => {
  assert.deepEqual(roleVerdict(opts('reader'), [{ read_only: 1 }]), { ok: true, reason: 'read_only=ON, serves reads' });
  assert.deepEqual(roleVerdict(opts('reader'), [{ read_only: 0 }]), { ok: true, reason: 'read_only=OFF, serves reads' });
});

test('any is up once the query answered', () => {
  assert.equal(roleVerdict(opts('any'), [{ alive: 1 }]).ok, true);
});

test('galera and replica dispatch to their rules', () => {
  assert.equal(roleVerdict(opts('galera'), [{ wsrep_local_state: '2', wsrep_cluster_status: 'Primary', wsrep_ready: 'ON' }]).ok, false);
  assert.equal(roleVerdict({ ...opts('galera'), acceptDonor: true }, [{ wsrep_local_state: '2', wsrep_cluster_status: 'Primary', wsrep_ready: 'ON', wsrep_reject_queries: 'NONE' }]).ok, true);
  assert.equal(roleVerdict({ ...opts('replica'), maxLagSeconds: 1 }, [{ Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 2 }]).ok, false);
});

test('every role has one read-only statement', () => {
  for (const role of ['any', 'galera', 'replica', 'writer', 'reader'] as const) {
    const sql = roleQuery(role, maria);
    assert.match(sql, /^(SELECT|SHOW) /);
    assert.doesNotMatch(sql, /;/);
  }
  assert.equal(isRole('writer'), true);
  assert.equal(isRole('primary'), false);
});
