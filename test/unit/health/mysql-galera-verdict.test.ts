// Galera fixtures -> documented verdicts (docs/reliability.md §2.2, §6 item 18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { galeraQuery, galeraVerdict, parseGaleraRow } from '../../../src/health/mysql/galera';

/** A row as MariaDB returns it for the galera role query; healthy unless overridden. */
function row(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    wsrep_local_state: '4',
    wsrep_local_state_comment: 'Synced',
    wsrep_ready: 'ON',
    wsrep_cluster_status: 'Primary',
    wsrep_desync: 0,
    wsrep_reject_queries: 'NONE',
    wsrep_sst_donor_rejects_queries: 0,
    ...over,
  };
}
const verdict = (over: Record<string, unknown>, acceptDonor = false) => galeraVerdict(parseGaleraRow(row(over)), acceptDonor);

test('Synced Primary ready node is up', () => {
  assert.deepEqual(verdict({}), { ok: true, reason: 'wsrep_local_state=4 (Synced), Primary' });
});

test('states 1 and 3 are down whatever acceptDonor says', () => {
  for (const acceptDonor of [false, true]) {
    assert.deepEqual(verdict({ wsrep_local_state: '1', wsrep_local_state_comment: 'Joining' }, acceptDonor), {
      ok: false,
      reason: 'wsrep_local_state=1 (Joining)',
    });
    assert.deepEqual(verdict({ wsrep_local_state: '3', wsrep_local_state_comment: 'Joined' }, acceptDonor), {
      ok: false,
      reason: 'wsrep_local_state=3 (Joined)',
    });
  }
});

test('Donor (2) is down by default and up when donors are accepted', () => {
  const donor = { wsrep_local_state: '2', wsrep_local_state_comment: 'Donor/Desynced' };
  assert.deepEqual(verdict(donor), { ok: false, reason: 'wsrep_local_state=2 (Donor/Desynced)' });
  assert.deepEqual(verdict(donor, true), { ok: true, reason: 'wsrep_local_state=2 (Donor/Desynced), donor accepted, Primary' });
});

test('an accepted donor that rejects queries during SST is down', () => {
  const v = verdict({ wsrep_local_state: '2', wsrep_sst_donor_rejects_queries: 1 }, true);
  assert.equal(v.ok, false);
  assert.match(v.reason, /wsrep_sst_donor_rejects_queries=ON/);
});

test('wsrep_desync=ON is down even when donors are accepted', () => {
  const v = verdict({ wsrep_local_state: '2', wsrep_desync: 1 }, true);
  assert.equal(v.ok, false);
  assert.match(v.reason, /^wsrep_desync=ON/);
  // and with a node still reporting Synced (desync just set)
  assert.match(verdict({ wsrep_desync: 'ON' }).reason, /^wsrep_desync=ON/);
});

test('wsrep_reject_queries other than NONE is down', () => {
  for (const value of ['ALL', 'ALL_KILL']) {
    const v = verdict({ wsrep_reject_queries: value });
    assert.equal(v.ok, false);
    assert.match(v.reason, new RegExp(`^wsrep_reject_queries=${value},`));
  }
});

test('non-Primary component is down', () => {
  const v = verdict({ wsrep_cluster_status: 'non-Primary' });
  assert.equal(v.ok, false);
  assert.match(v.reason, /^wsrep_cluster_status=non-Primary \(not Primary\)/);
});

test('wsrep_ready=OFF is down', () => {
  assert.deepEqual(verdict({ wsrep_ready: 'OFF' }), { ok: false, reason: 'wsrep_ready=OFF, wsrep_local_state=4 (Synced)' });
});

test('a server without wsrep status is not a Galera node', () => {
  const v = galeraVerdict(parseGaleraRow({ wsrep_local_state: null, wsrep_desync: 0 }), false);
  assert.equal(v.ok, false);
  assert.match(v.reason, /not a Galera node/);
  assert.equal(galeraVerdict(parseGaleraRow(undefined), true).ok, false);
});

test('the query reads MariaDB and MySQL status tables in one statement', () => {
  const maria = galeraQuery({ mariadb: true, major: 10, minor: 11, patch: 0 });
  const mysql = galeraQuery({ mariadb: false, major: 8, minor: 0, patch: 36 });
  assert.match(maria, /FROM information_schema\.GLOBAL_STATUS/);
  assert.match(mysql, /FROM performance_schema\.global_status/);
  for (const q of [maria, mysql]) {
    assert.equal(q.split(';').length, 1);
    assert.match(q, /@@global\.wsrep_desync/);
    assert.match(q, /@@global\.wsrep_reject_queries/);
  }
});
