// Replica verdict: both replication threads running and lag within max_lag; NULL lag is down.
// Column names differ: MariaDB (any version) and MySQL before 8.0.22 say Slave_* / *_Master,
// MySQL 8.0.22+ SHOW REPLICA STATUS says Replica_* / *_Source.
import { asNumber, asText } from './values';
import type { Flavor, Verdict } from './verdict';

export interface ReplicaStatus {
  ioRunning: string | null;
  sqlRunning: string | null;
  /** seconds; null when the server reports NULL (a thread stopped or broken) */
  lagSeconds: number | null;
  lastIoError: string | null;
  lastSqlError: string | null;
  /** column names as this server spells them, for the reason */
  names: { io: string; sql: string; lag: string };
}

export function replicaQuery(flavor: Flavor): string {
  const mysqlReplicaSyntax =
    !flavor.mariadb && (flavor.major > 8 || (flavor.major === 8 && (flavor.minor > 0 || flavor.patch >= 22)));
  return mysqlReplicaSyntax ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
}

function pick(row: Record<string, unknown>, names: string[]): { name: string; value: unknown } {
  for (const name of names) if (name in row) return { name, value: row[name] };
  return { name: names[0], value: null };
}

/** undefined when the server returned no row: it is not configured as a replica. */
export function parseReplicaRow(row: Record<string, unknown> | undefined): ReplicaStatus | undefined {
  if (!row) return undefined;
  const io = pick(row, ['Slave_IO_Running', 'Replica_IO_Running']);
  const sql = pick(row, ['Slave_SQL_Running', 'Replica_SQL_Running']);
  const lag = pick(row, ['Seconds_Behind_Master', 'Seconds_Behind_Source']);
  return {
    ioRunning: asText(io.value),
    sqlRunning: asText(sql.value),
    lagSeconds: asNumber(lag.value),
    lastIoError: asText(row.Last_IO_Error),
    lastSqlError: asText(row.Last_SQL_Error),
    names: { io: io.name, sql: sql.name, lag: lag.name },
  };
}

export function replicaVerdict(s: ReplicaStatus | undefined, maxLagSeconds: number): Verdict {
  if (!s) return { ok: false, reason: 'not a replica: replica status is empty' };
  if (s.ioRunning !== 'Yes') {
    return { ok: false, reason: `${s.names.io}=${s.ioRunning ?? 'NULL'}${lastError(s.lastIoError)}` };
  }
  if (s.sqlRunning !== 'Yes') {
    return { ok: false, reason: `${s.names.sql}=${s.sqlRunning ?? 'NULL'}${lastError(s.lastSqlError)}` };
  }
  if (s.lagSeconds === null) return { ok: false, reason: `${s.names.lag}=NULL (replication lag unknown)` };
  if (s.lagSeconds > maxLagSeconds) {
    return { ok: false, reason: `replication lag ${s.lagSeconds} s > max ${maxLagSeconds} s` };
  }
  return { ok: true, reason: `replicating, lag ${s.lagSeconds} s <= max ${maxLagSeconds} s` };
}

function lastError(text: string | null): string {
  if (!text) return '';
  return ` (${text.length > 200 ? `${text.slice(0, 200)}...` : text})`;
}
