// `ipvsadm -S [-n]` rules (print_service_entry and print_tunnel_rule with FMT_RULE): the same
// lines `ipvsadm -R` and `lvsd ipvs restore` read back. No header, no thresholds, no timeouts.
import type { ObservedRealServer, ObservedService, ServiceKey } from '../types';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../flags';
import { CHECKSUM_OPTION, FORWARD_SWITCH, PROTOCOL_OPTION, checksumOf, hasSchedulerFlags, persistenceMask, schedulerFlagsText } from './fields';
import type { Namer } from './names';
import { orderServices, signedMark, type ServiceEntry } from './table';
import { sortRealServers } from './sort';

/** "-t 198.18.0.1:80", "--sctp-service [2001:db8::1]:80", "-f 7", "-f 7 -6" */
export function serviceOption(key: ServiceKey, namer: Namer): string {
  if (key.fwmark !== undefined) return key.family === 'inet6' ? `-f ${signedMark(key.fwmark)} -6` : `-f ${signedMark(key.fwmark)}`;
  return `${PROTOCOL_OPTION[key.protocol]} ${namer.addrPort(key.family, key.address, key.port, key.protocol)}`;
}

export function serviceRule(svc: ObservedService, namer: Namer): string {
  let line = `-A ${serviceOption(svc.key, namer)} -s ${svc.scheduler}`;
  if (svc.flags & SVC_F_PERSISTENT) {
    line += ` -p ${svc.timeout}`;
    const mask = persistenceMask(svc);
    if (mask !== undefined) line += ` -M ${mask}`;
  }
  if (svc.persistenceEngine) line += ` --pe ${svc.persistenceEngine}`;
  if (svc.flags & SVC_F_ONEPACKET) line += ' -o';
  if (hasSchedulerFlags(svc)) line += ` -b ${schedulerFlagsText(svc)}`;
  return line + '\n';
}

export function realServerRule(svc: ObservedService, rs: ObservedRealServer, namer: Namer): string {
  const dest = namer.addrPort(rs.key.family, rs.key.address, rs.key.port, svc.key.protocol);
  const base = `-a ${serviceOption(svc.key, namer)} -r ${dest} ${FORWARD_SWITCH[rs.forward]} -w ${rs.weight}`;
  if (rs.forward !== 'tunnel') return base + '\n';
  switch (rs.tunnelType ?? 'ipip') {
    case 'ipip':
      return `${base} --tun-type ipip\n`;
    case 'gue':
      return `${base} --tun-type gue --tun-port ${rs.tunnelPort ?? 0} ${CHECKSUM_OPTION[checksumOf(rs)]}\n`;
    case 'gre':
      return `${base} --tun-type gre ${CHECKSUM_OPTION[checksumOf(rs)]}\n`;
    default:
      return base + '\n';
  }
}

export function formatSave(entries: readonly ServiceEntry[], namer: Namer, sort = true): string {
  const parts: string[] = [];
  for (const e of orderServices(entries, sort)) {
    parts.push(serviceRule(e.service, namer));
    for (const rs of sort ? sortRealServers(e.realServers) : e.realServers) parts.push(realServerRule(e.service, rs, namer));
  }
  return parts.join('');
}
