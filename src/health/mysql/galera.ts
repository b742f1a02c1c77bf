// Galera node verdict, as ProxySQL and MaxScale judge it (docs/reliability.md §2.2).
import { asNumber, asSwitch, asText, onOff } from './values';
import type { Flavor, Verdict } from './verdict';

export interface GaleraStatus {
  localState: number | null;
  localStateComment: string | null;
  ready: boolean | null;
  clusterStatus: string | null;
  desync: boolean | null;
  rejectQueries: string | null;
  donorRejectsQueries: boolean | null;
}

export const GALERA_STATE_NAMES: Record<number, string> = {
  1: 'Joining',
  2: 'Donor/Desynced',
  3: 'Joined',
  4: 'Synced',
};

/**
 * One statement, one status-table scan. MariaDB keeps status in information_schema,
 * MySQL 8 / Percona XtraDB Cluster in performance_schema; names compare case-insensitively.
 * The aggregate sits in a derived table on purpose: MariaDB 10.11 returned a stale 0 for
 * @@global.wsrep_desync when the variable was read in the same aggregate SELECT (seen in the
 * Galera host test: desync ON, the query said 0).
 */
export function galeraQuery(flavor: Flavor): string {
  const table = flavor.mariadb ? 'information_schema.GLOBAL_STATUS' : 'performance_schema.global_status';
  const donorRejects = flavor.mariadb ? '@@global.wsrep_sst_donor_rejects_queries' : 'NULL';
  const status = (name: string): string => `MAX(IF(VARIABLE_NAME = '${name}', VARIABLE_VALUE, NULL)) AS ${name}`;
  return (
    'SELECT s.*, @@global.wsrep_desync AS wsrep_desync, @@global.wsrep_reject_queries AS wsrep_reject_queries,' +
    ` ${donorRejects} AS wsrep_sst_donor_rejects_queries FROM (SELECT ${STATUS_NAMES.map(status).join(', ')}` +
    ` FROM ${table} WHERE VARIABLE_NAME IN (${STATUS_NAMES.map((n) => `'${n}'`).join(', ')})) AS s`
  );
}

const STATUS_NAMES = ['wsrep_local_state', 'wsrep_local_state_comment', 'wsrep_ready', 'wsrep_cluster_status'];

export function parseGaleraRow(row: Record<string, unknown> | undefined): GaleraStatus {
  const r = row ?? {};
  return {
    localState: asNumber(r.wsrep_local_state),
    localStateComment: asText(r.wsrep_local_state_comment),
    ready: asSwitch(r.wsrep_ready),
    clusterStatus: asText(r.wsrep_cluster_status),
    desync: asSwitch(r.wsrep_desync),
    rejectQueries: asText(r.wsrep_reject_queries),
    donorRejectsQueries: asSwitch(r.wsrep_sst_donor_rejects_queries),
  };
}

/** Up only when Primary, Synced (or Donor if allowed), ready, not desynced, accepting queries. */
export function galeraVerdict(s: GaleraStatus, acceptDonor: boolean): Verdict {
  if (s.localState === null) {
    return { ok: false, reason: 'no wsrep status: not a Galera node (wsrep_on=OFF or no provider loaded)' };
  }
  const state = `wsrep_local_state=${s.localState} (${GALERA_STATE_NAMES[s.localState] ?? s.localStateComment ?? 'unknown'})`;
  if (s.clusterStatus !== 'Primary') {
    return { ok: false, reason: `wsrep_cluster_status=${s.clusterStatus ?? 'NULL'} (not Primary), ${state}` };
  }
  const donor = s.localState === 2;
  if (s.localState !== 4 && !(donor && acceptDonor)) return { ok: false, reason: state };
  if (s.ready !== true) return { ok: false, reason: `wsrep_ready=${onOff(s.ready)}, ${state}` };
  if (s.desync === true) return { ok: false, reason: `wsrep_desync=ON (node desynced for maintenance), ${state}` };
  const reject = (s.rejectQueries ?? 'NONE').toUpperCase();
  if (reject !== 'NONE') return { ok: false, reason: `wsrep_reject_queries=${reject}, ${state}` };
  if (donor && s.donorRejectsQueries === true) {
    return { ok: false, reason: `${state} and wsrep_sst_donor_rejects_queries=ON` };
  }
  return { ok: true, reason: donor ? `${state}, donor accepted, Primary` : `${state}, Primary` };
}
