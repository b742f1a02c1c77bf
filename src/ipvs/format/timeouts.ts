// `ipvsadm -L --timeout` (list_timeout). Kept apart so `lvsd ipvs list --timeout` loads little.
import type { Timeouts } from '../types';

export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`;
}
