// Small pieces of text that several ipvsadm listings share (ipvsadm.c: fwd_name, fwd_switch,
// fwd_tun_info, print_sched_flags, protocol_name, option_from_protocol).
import type { ForwardMethod, Protocol, RealServer, TunnelChecksum, VirtualService } from '../types';
import { SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../flags';

export const PROTOCOL_NAME: Record<Protocol, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };
export const PROTOCOL_OPTION: Record<Protocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
export const PROTOCOL_NUMBER: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };

export const FORWARD_NAME: Record<ForwardMethod, string> = {
  masq: 'Masq',
  local: 'Local',
  tunnel: 'Tunnel',
  route: 'Route',
};
/** The -S switch; a local real server is saved as -g, as ipvsadm does. */
export const FORWARD_SWITCH: Record<ForwardMethod, string> = { masq: '-m', local: '-g', tunnel: '-i', route: '-g' };

const CHECKSUM_SHORT: Record<TunnelChecksum, string> = { nocsum: '-c', csum: '+c', remcsum: 'r+c' };
export const CHECKSUM_OPTION: Record<TunnelChecksum, string> = {
  nocsum: '--tun-nocsum',
  csum: '--tun-csum',
  remcsum: '--tun-remcsum',
};

export function checksumOf(rs: RealServer): TunnelChecksum {
  return rs.tunnelChecksum ?? 'nocsum';
}

/** The --tun-info column: "ipip", "gue:PORT:-c", "gre:+c", or undefined when not a tunnel. */
export function tunnelInfo(rs: RealServer): string | undefined {
  if (rs.forward !== 'tunnel') return undefined;
  switch (rs.tunnelType ?? 'ipip') {
    case 'ipip':
      return 'ipip';
    case 'gue':
      return `gue:${rs.tunnelPort ?? 0}:${CHECKSUM_SHORT[checksumOf(rs)]}`;
    case 'gre':
      return `gre:${CHECKSUM_SHORT[checksumOf(rs)]}`;
    default:
      return undefined;
  }
}

export function hasSchedulerFlags(svc: VirtualService): boolean {
  return (svc.flags & (SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3)) !== 0;
}

/** Scheduler flags named after the scheduler, comma separated; may be empty (ipvsadm prints "()" then). */
export function schedulerFlagsText(svc: VirtualService): string {
  const names: string[] = [];
  if (svc.scheduler === 'sh' || svc.scheduler === 'mh') {
    if (svc.flags & SVC_F_SCHED1) names.push(`${svc.scheduler}-fallback`);
    if (svc.flags & SVC_F_SCHED2) names.push(`${svc.scheduler}-port`);
  } else {
    if (svc.flags & SVC_F_SCHED1) names.push('flag-1');
    if (svc.flags & SVC_F_SCHED2) names.push('flag-2');
    if (svc.flags & SVC_F_SCHED3) names.push('flag-3');
  }
  return names.join(',');
}

/** The persistence granularity when it differs from a single host, else undefined. */
export function persistenceMask(svc: VirtualService): string | undefined {
  if (svc.key.family === 'inet') {
    const mask = String(svc.netmask);
    return mask !== '255.255.255.255' ? mask : undefined;
  }
  return Number(svc.netmask) !== 128 ? String(Number(svc.netmask)) : undefined;
}
