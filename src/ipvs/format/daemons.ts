// `ipvsadm -L --daemon` (list_daemon): one line per running sync daemon, in kernel order.
import type { SyncDaemon } from '../types';
import { canonicalAddress } from '../address';

export function formatSyncDaemon(d: SyncDaemon): string {
  let line = `${d.state} sync daemon (mcast=${d.mcastInterface}, syncid=${d.syncId}`;
  if (d.maxLength) line += `, maxlen=${d.maxLength}`;
  if (d.mcastGroup) line += `, group=${canonicalAddress(d.mcastGroup.includes(':') ? 'inet6' : 'inet', d.mcastGroup)}`;
  if (d.mcastPort) line += `, port=${d.mcastPort}`;
  if (d.mcastTtl) line += `, ttl=${d.mcastTtl}`;
  return line + ')\n';
}

export function formatSyncDaemons(daemons: readonly SyncDaemon[]): string {
  return daemons.map(formatSyncDaemon).join('');
}
