// ipvsadm's command-line vocabulary, as data: every option lvsd shares with ipvsadm and which
// command takes which (ipvsadm.c's options_table and commands_v_options). Light on purpose: the
// CLI registers its flags from here without loading the code that interprets them (command.ts).
import { DEFAULT_PERSISTENCE_TIMEOUT } from './flags';

export interface OptionSpec {
  long: string;
  short?: string;
  /** 'optional' only for -p, whose timeout may be left out */
  arg: 'none' | 'required' | 'optional';
  argName?: string;
  description: string;
}

export const SERVICE_IDENTITY_OPTIONS: readonly OptionSpec[] = [
  { long: 'tcp-service', short: 't', arg: 'required', argName: 'address:port', description: 'TCP virtual service' },
  { long: 'udp-service', short: 'u', arg: 'required', argName: 'address:port', description: 'UDP virtual service' },
  { long: 'sctp-service', arg: 'required', argName: 'address:port', description: 'SCTP virtual service' },
  { long: 'fwmark-service', short: 'f', arg: 'required', argName: 'mark', description: 'firewall-mark virtual service (integer > 0)' },
  { long: 'ipv6', short: '6', arg: 'none', description: 'the fwmark service is IPv6' },
];

export const SERVICE_SETTING_OPTIONS: readonly OptionSpec[] = [
  { long: 'scheduler', short: 's', arg: 'required', argName: 'name', description: 'rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh (default wlc)' },
  { long: 'persistent', short: 'p', arg: 'optional', argName: 'timeout', description: `persistent service, timeout in seconds (default ${DEFAULT_PERSISTENCE_TIMEOUT})` },
  { long: 'netmask', short: 'M', arg: 'required', argName: 'mask', description: 'persistence granularity: IPv4 netmask or IPv6 prefix length' },
  { long: 'pe', arg: 'required', argName: 'engine', description: 'persistence engine (sip)' },
  { long: 'ops', short: 'o', arg: 'none', description: 'one-packet scheduling (UDP and fwmark services)' },
  { long: 'sched-flags', short: 'b', arg: 'required', argName: 'flags', description: 'sh-fallback,sh-port | mh-fallback,mh-port | flag-1,flag-2,flag-3' },
];

export const REAL_SERVER_OPTIONS: readonly OptionSpec[] = [
  { long: 'real-server', short: 'r', arg: 'required', argName: 'address[:port]', description: 'real server' },
];

export const REAL_SERVER_SETTING_OPTIONS: readonly OptionSpec[] = [
  { long: 'gatewaying', short: 'g', arg: 'none', description: 'direct routing (default)' },
  { long: 'ipip', short: 'i', arg: 'none', description: 'tunneling' },
  { long: 'masquerading', short: 'm', arg: 'none', description: 'NAT' },
  { long: 'weight', short: 'w', arg: 'required', argName: 'weight', description: 'weight 0..65535 (default 1)' },
  { long: 'u-threshold', short: 'x', arg: 'required', argName: 'n', description: 'upper connection threshold (0 = none)' },
  { long: 'l-threshold', short: 'y', arg: 'required', argName: 'n', description: 'lower connection threshold (0 = none)' },
  { long: 'tun-type', arg: 'required', argName: 'type', description: 'ipip (default), gue or gre' },
  { long: 'tun-port', arg: 'required', argName: 'port', description: 'tunnel destination port (gue)' },
  { long: 'tun-nocsum', arg: 'none', description: 'tunnel without checksum' },
  { long: 'tun-csum', arg: 'none', description: 'tunnel with checksum' },
  { long: 'tun-remcsum', arg: 'none', description: 'tunnel with remote checksum (gue)' },
];

export type CommandKind =
  | 'add-service'
  | 'edit-service'
  | 'delete-service'
  | 'add-server'
  | 'edit-server'
  | 'delete-server'
  | 'zero'
  | 'flush';

/** Which options each command takes (ipvsadm's commands_v_options table). */
export const COMMAND_OPTIONS: Record<CommandKind, readonly OptionSpec[]> = {
  'add-service': [...SERVICE_IDENTITY_OPTIONS, ...SERVICE_SETTING_OPTIONS],
  'edit-service': [...SERVICE_IDENTITY_OPTIONS, ...SERVICE_SETTING_OPTIONS],
  'delete-service': SERVICE_IDENTITY_OPTIONS,
  'add-server': [...SERVICE_IDENTITY_OPTIONS, ...REAL_SERVER_OPTIONS, ...REAL_SERVER_SETTING_OPTIONS],
  'edit-server': [...SERVICE_IDENTITY_OPTIONS, ...REAL_SERVER_OPTIONS, ...REAL_SERVER_SETTING_OPTIONS],
  'delete-server': [...SERVICE_IDENTITY_OPTIONS, ...REAL_SERVER_OPTIONS],
  zero: SERVICE_IDENTITY_OPTIONS,
  flush: [],
};

export const SYNC_DAEMON_OPTIONS: readonly OptionSpec[] = [
  { long: 'mcast-interface', arg: 'required', argName: 'interface', description: 'multicast interface (default eth0)' },
  { long: 'syncid', arg: 'required', argName: 'id', description: 'sync id 0..255 (default 0)' },
  { long: 'sync-maxlen', arg: 'required', argName: 'length', description: 'largest sync message (kernel default 1472)' },
  { long: 'mcast-group', arg: 'required', argName: 'address', description: 'IPv4 or IPv6 multicast group (kernel default 224.0.0.81)' },
  { long: 'mcast-port', arg: 'required', argName: 'port', description: 'UDP port (kernel default 8848)' },
  { long: 'mcast-ttl', arg: 'required', argName: 'ttl', description: 'multicast TTL (kernel default 1)' },
];
