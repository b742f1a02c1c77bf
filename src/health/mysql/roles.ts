// What each role asks the server and how it judges the answer. Pure: SQL text in, verdict out.
//
//   any      login + a trivial query
//   galera   Synced (or Donor with acceptDonor), Primary, ready, not desynced, not rejecting queries
//   replica  IO and SQL threads running, lag <= maxLagSeconds (NULL lag is down)
//   writer   read_only=OFF
//   reader   any node that answers can serve reads, writer included: up whatever read_only says.
//            (A reader pool that must exclude broken replicas uses role replica.)
import { galeraQuery, galeraVerdict, parseGaleraRow } from './galera';
import { parseReplicaRow, replicaQuery, replicaVerdict } from './replica';
import { asSwitch, asText, onOff } from './values';
import type { Flavor, Verdict } from './verdict';

export const ROLES = ['any', 'galera', 'replica', 'writer', 'reader'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleOptions {
  role: Role;
  /** replica: highest acceptable Seconds_Behind_Master */
  maxLagSeconds: number;
  /** galera: a Donor/Desynced node (state 2) still serves */
  acceptDonor: boolean;
}

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

export function roleQuery(role: Role, flavor: Flavor): string {
  switch (role) {
    case 'any':
      return 'SELECT 1 AS alive';
    case 'galera':
      return galeraQuery(flavor);
    case 'replica':
      return replicaQuery(flavor);
    case 'writer':
    case 'reader':
      return 'SELECT @@global.read_only AS read_only';
  }
}

export function roleVerdict(options: RoleOptions, rows: Record<string, unknown>[]): Verdict {
  const row = rows[0];
  switch (options.role) {
    case 'any':
      return { ok: true, reason: 'login and query answered' };
    case 'galera':
      return galeraVerdict(parseGaleraRow(row), options.acceptDonor);
    case 'replica':
      return replicaVerdict(parseReplicaRow(row), options.maxLagSeconds);
    case 'writer': {
      if (asSwitch(row?.read_only) === false) return { ok: true, reason: 'read_only=OFF (writable)' };
      return { ok: false, reason: `read_only=${readOnlyText(row?.read_only)} (not writable)` };
    }
    case 'reader':
      return { ok: true, reason: `read_only=${readOnlyText(row?.read_only)}, serves reads` };
  }
}

/** 1/0 as ON/OFF; other values as the server spells them (MariaDB 11.x also has NO_LOCK, NO_LOCK_NO_ADMIN). */
function readOnlyText(v: unknown): string {
  const on = asSwitch(v);
  return on === null ? (asText(v) ?? 'NULL') : onOff(on);
}
