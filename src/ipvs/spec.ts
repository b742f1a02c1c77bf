// The IPVS generic netlink API as data: commands, attribute sets, flag bits, forwarding methods
// and tunnel types, with the kernel's IPVS_* names. Source: linux/ip_vs.h (uapi, kernel 6.1;
// /usr/include/linux/ip_vs.h on Debian 12 has the same enums) and the nla_policy tables in
// net/netfilter/ipvs/ip_vs_ctl.c, which fix each attribute's size and byte order.
import { attrSet } from '../netlink/schema';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 0x1;

/** enum IPVS_CMD_* */
export const Cmd = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
export type CmdName = keyof typeof Cmd;

/** IP_VS_SVC_F_* (HASHED is kernel-internal and never set by user space) */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008, // sh-fallback / mh-fallback
  SCHED2: 0x0010, // sh-port / mh-port
  SCHED3: 0x0020,
} as const;

/** IP_VS_CONN_F_* forwarding methods (IP_VS_CONN_F_FWD_MASK = 0x7) */
export const FwdMethod = { masq: 0x0, local: 0x1, tunnel: 0x2, route: 0x3 } as const;
export const IP_VS_CONN_F_FWD_MASK = 0x7;

/** IP_VS_CONN_F_TUNNEL_TYPE_* */
export const TunnelTypeNum = { ipip: 0, gue: 1, gre: 2 } as const;

/** IP_VS_TUNNEL_ENCAP_FLAG_* */
export const TunnelFlag = { nocsum: 0, csum: 1 << 0, remcsum: 1 << 1 } as const;

/** IP_VS_STATE_* for sync daemons */
export const DaemonState = { master: 0x1, backup: 0x2 } as const;

export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** IPVS_STATS_ATTR_* inside IPVS_SVC_ATTR_STATS / IPVS_DEST_ATTR_STATS (32-bit counters) */
export const statsAttrs = attrSet('ipvs-stats', [
  { name: 'conns', kernel: 'IPVS_STATS_ATTR_CONNS', type: 1, kind: 'u32' },
  { name: 'inPackets', kernel: 'IPVS_STATS_ATTR_INPKTS', type: 2, kind: 'u32' },
  { name: 'outPackets', kernel: 'IPVS_STATS_ATTR_OUTPKTS', type: 3, kind: 'u32' },
  { name: 'inBytes', kernel: 'IPVS_STATS_ATTR_INBYTES', type: 4, kind: 'u64' },
  { name: 'outBytes', kernel: 'IPVS_STATS_ATTR_OUTBYTES', type: 5, kind: 'u64' },
  { name: 'cps', kernel: 'IPVS_STATS_ATTR_CPS', type: 6, kind: 'u32' },
  { name: 'inPps', kernel: 'IPVS_STATS_ATTR_INPPS', type: 7, kind: 'u32' },
  { name: 'outPps', kernel: 'IPVS_STATS_ATTR_OUTPPS', type: 8, kind: 'u32' },
  { name: 'inBps', kernel: 'IPVS_STATS_ATTR_INBPS', type: 9, kind: 'u32' },
  { name: 'outBps', kernel: 'IPVS_STATS_ATTR_OUTBPS', type: 10, kind: 'u32' },
  { name: 'pad', kernel: 'IPVS_STATS_ATTR_PAD', type: 11, kind: 'pad' },
] as const);

/** The same IPVS_STATS_ATTR_* inside IPVS_*_ATTR_STATS64: every counter and rate is a u64. */
export const stats64Attrs = attrSet('ipvs-stats64', [
  { name: 'conns', kernel: 'IPVS_STATS_ATTR_CONNS', type: 1, kind: 'u64' },
  { name: 'inPackets', kernel: 'IPVS_STATS_ATTR_INPKTS', type: 2, kind: 'u64' },
  { name: 'outPackets', kernel: 'IPVS_STATS_ATTR_OUTPKTS', type: 3, kind: 'u64' },
  { name: 'inBytes', kernel: 'IPVS_STATS_ATTR_INBYTES', type: 4, kind: 'u64' },
  { name: 'outBytes', kernel: 'IPVS_STATS_ATTR_OUTBYTES', type: 5, kind: 'u64' },
  { name: 'cps', kernel: 'IPVS_STATS_ATTR_CPS', type: 6, kind: 'u64' },
  { name: 'inPps', kernel: 'IPVS_STATS_ATTR_INPPS', type: 7, kind: 'u64' },
  { name: 'outPps', kernel: 'IPVS_STATS_ATTR_OUTPPS', type: 8, kind: 'u64' },
  { name: 'inBps', kernel: 'IPVS_STATS_ATTR_INBPS', type: 9, kind: 'u64' },
  { name: 'outBps', kernel: 'IPVS_STATS_ATTR_OUTBPS', type: 10, kind: 'u64' },
  { name: 'pad', kernel: 'IPVS_STATS_ATTR_PAD', type: 11, kind: 'pad' },
] as const);

/** IPVS_SVC_ATTR_* (ip_vs_svc_policy) */
export const serviceAttrs = attrSet('ipvs-service', [
  { name: 'af', kernel: 'IPVS_SVC_ATTR_AF', type: 1, kind: 'u16' },
  { name: 'protocol', kernel: 'IPVS_SVC_ATTR_PROTOCOL', type: 2, kind: 'u16' },
  // union nf_inet_addr: always 16 bytes, IPv4 in the first 4
  { name: 'addr', kernel: 'IPVS_SVC_ATTR_ADDR', type: 3, kind: 'binary', len: 16 },
  { name: 'port', kernel: 'IPVS_SVC_ATTR_PORT', type: 4, kind: 'u16be' },
  { name: 'fwmark', kernel: 'IPVS_SVC_ATTR_FWMARK', type: 5, kind: 'u32' },
  { name: 'schedName', kernel: 'IPVS_SVC_ATTR_SCHED_NAME', type: 6, kind: 'string', maxLen: IP_VS_SCHEDNAME_MAXLEN - 1 },
  // struct ip_vs_flags
  {
    name: 'flags',
    kernel: 'IPVS_SVC_ATTR_FLAGS',
    type: 7,
    kind: 'struct',
    fields: [
      { name: 'flags', kind: 'u32' },
      { name: 'mask', kind: 'u32' },
    ],
  },
  { name: 'timeout', kernel: 'IPVS_SVC_ATTR_TIMEOUT', type: 8, kind: 'u32' },
  // __be32: a network-order IPv4 mask, or for IPv6 a prefix length in host order
  { name: 'netmask', kernel: 'IPVS_SVC_ATTR_NETMASK', type: 9, kind: 'binary', len: 4 },
  { name: 'stats', kernel: 'IPVS_SVC_ATTR_STATS', type: 10, kind: 'nested', nested: statsAttrs },
  { name: 'peName', kernel: 'IPVS_SVC_ATTR_PE_NAME', type: 11, kind: 'string', maxLen: IP_VS_PENAME_MAXLEN - 1 },
  { name: 'stats64', kernel: 'IPVS_SVC_ATTR_STATS64', type: 12, kind: 'nested', nested: stats64Attrs },
] as const);

/** IPVS_DEST_ATTR_* (ip_vs_dest_policy) */
export const destAttrs = attrSet('ipvs-dest', [
  { name: 'addr', kernel: 'IPVS_DEST_ATTR_ADDR', type: 1, kind: 'binary', len: 16 },
  { name: 'port', kernel: 'IPVS_DEST_ATTR_PORT', type: 2, kind: 'u16be' },
  { name: 'fwdMethod', kernel: 'IPVS_DEST_ATTR_FWD_METHOD', type: 3, kind: 'u32' },
  { name: 'weight', kernel: 'IPVS_DEST_ATTR_WEIGHT', type: 4, kind: 'u32' },
  { name: 'uThresh', kernel: 'IPVS_DEST_ATTR_U_THRESH', type: 5, kind: 'u32' },
  { name: 'lThresh', kernel: 'IPVS_DEST_ATTR_L_THRESH', type: 6, kind: 'u32' },
  { name: 'activeConns', kernel: 'IPVS_DEST_ATTR_ACTIVE_CONNS', type: 7, kind: 'u32' },
  { name: 'inactConns', kernel: 'IPVS_DEST_ATTR_INACT_CONNS', type: 8, kind: 'u32' },
  { name: 'persistConns', kernel: 'IPVS_DEST_ATTR_PERSIST_CONNS', type: 9, kind: 'u32' },
  { name: 'stats', kernel: 'IPVS_DEST_ATTR_STATS', type: 10, kind: 'nested', nested: statsAttrs },
  { name: 'addrFamily', kernel: 'IPVS_DEST_ATTR_ADDR_FAMILY', type: 11, kind: 'u16' },
  { name: 'stats64', kernel: 'IPVS_DEST_ATTR_STATS64', type: 12, kind: 'nested', nested: stats64Attrs },
  { name: 'tunType', kernel: 'IPVS_DEST_ATTR_TUN_TYPE', type: 13, kind: 'u8' },
  { name: 'tunPort', kernel: 'IPVS_DEST_ATTR_TUN_PORT', type: 14, kind: 'u16be' },
  { name: 'tunFlags', kernel: 'IPVS_DEST_ATTR_TUN_FLAGS', type: 15, kind: 'u16' },
] as const);

/** IPVS_DAEMON_ATTR_* (ip_vs_daemon_policy) */
export const daemonAttrs = attrSet('ipvs-daemon', [
  { name: 'state', kernel: 'IPVS_DAEMON_ATTR_STATE', type: 1, kind: 'u32' },
  { name: 'mcastIfn', kernel: 'IPVS_DAEMON_ATTR_MCAST_IFN', type: 2, kind: 'string', maxLen: IP_VS_IFNAME_MAXLEN - 1 },
  { name: 'syncId', kernel: 'IPVS_DAEMON_ATTR_SYNC_ID', type: 3, kind: 'u32' },
  { name: 'syncMaxLen', kernel: 'IPVS_DAEMON_ATTR_SYNC_MAXLEN', type: 4, kind: 'u16' },
  { name: 'mcastGroup', kernel: 'IPVS_DAEMON_ATTR_MCAST_GROUP', type: 5, kind: 'in_addr' },
  { name: 'mcastGroup6', kernel: 'IPVS_DAEMON_ATTR_MCAST_GROUP6', type: 6, kind: 'in6_addr' },
  { name: 'mcastPort', kernel: 'IPVS_DAEMON_ATTR_MCAST_PORT', type: 7, kind: 'u16' },
  { name: 'mcastTtl', kernel: 'IPVS_DAEMON_ATTR_MCAST_TTL', type: 8, kind: 'u8' },
] as const);

/** IPVS_CMD_ATTR_*: the top level of every IPVS request and of most replies */
export const cmdAttrs = attrSet('ipvs-cmd', [
  { name: 'service', kernel: 'IPVS_CMD_ATTR_SERVICE', type: 1, kind: 'nested', nested: serviceAttrs },
  { name: 'dest', kernel: 'IPVS_CMD_ATTR_DEST', type: 2, kind: 'nested', nested: destAttrs },
  { name: 'daemon', kernel: 'IPVS_CMD_ATTR_DAEMON', type: 3, kind: 'nested', nested: daemonAttrs },
  { name: 'timeoutTcp', kernel: 'IPVS_CMD_ATTR_TIMEOUT_TCP', type: 4, kind: 'u32' },
  { name: 'timeoutTcpFin', kernel: 'IPVS_CMD_ATTR_TIMEOUT_TCP_FIN', type: 5, kind: 'u32' },
  { name: 'timeoutUdp', kernel: 'IPVS_CMD_ATTR_TIMEOUT_UDP', type: 6, kind: 'u32' },
] as const);

/** IPVS_INFO_ATTR_*: the top level of the IPVS_CMD_SET_INFO reply to IPVS_CMD_GET_INFO */
export const infoAttrs = attrSet('ipvs-info', [
  { name: 'version', kernel: 'IPVS_INFO_ATTR_VERSION', type: 1, kind: 'u32' },
  { name: 'connTabSize', kernel: 'IPVS_INFO_ATTR_CONN_TAB_SIZE', type: 2, kind: 'u32' },
] as const);
