// rtnetlink address and link messages as data, mirroring the kernel's YNL specs
// Documentation/netlink/specs/rt-addr.yaml and rt-link.yaml, with the kernel's names kept on every entry.
// Only the attributes lvsd reads or writes are described; others survive decode as `unknown`.
import { attrSet, type Decoded, type StructField } from '../netlink/schema';

// linux/rtnetlink.h message types
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

// linux/socket.h
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

// linux/rtnetlink.h enum rt_scope_t
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_HOST = 254;

// linux/if.h net_device_flags
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_LOWER_UP = 0x10000;

/** linux/if_addr.h ifa_flags (rt-addr.yaml enum ifa-flags). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** struct ifaddrmsg (rt-addr.yaml fixed-header ifaddrmsg). */
export const IFADDRMSG = [
  { name: 'family', kind: 'u8' }, // ifa_family
  { name: 'prefixlen', kind: 'u8' }, // ifa_prefixlen
  { name: 'flags', kind: 'u8' }, // ifa_flags (low 8 bits; IFA_FLAGS holds all 32)
  { name: 'scope', kind: 'u8' }, // ifa_scope
  { name: 'index', kind: 'u32' }, // ifa_index
] as const satisfies readonly StructField[];

/** struct ifinfomsg (rt-link.yaml fixed-header ifinfomsg). ifi_index is an int; indexes are positive. */
export const IFINFOMSG = [
  { name: 'family', kind: 'u8' }, // ifi_family
  { name: 'pad', kind: 'u8' }, // __ifi_pad
  { name: 'type', kind: 'u16' }, // ifi_type (ARPHRD_*)
  { name: 'index', kind: 'u32' }, // ifi_index
  { name: 'flags', kind: 'u32' }, // ifi_flags (IFF_*)
  { name: 'change', kind: 'u32' }, // ifi_change: which flags a request changes
] as const satisfies readonly StructField[];

/** rt-addr.yaml attribute-set addr-attrs. Addresses are 4 or 16 bytes, by ifa_family. */
export const addrAttrs = attrSet('addr-attrs', [
  { name: 'address', kernel: 'IFA_ADDRESS', type: 1, kind: 'binary' },
  { name: 'local', kernel: 'IFA_LOCAL', type: 2, kind: 'binary' },
  { name: 'label', kernel: 'IFA_LABEL', type: 3, kind: 'string', maxLen: 15 },
  { name: 'broadcast', kernel: 'IFA_BROADCAST', type: 4, kind: 'binary' },
  { name: 'anycast', kernel: 'IFA_ANYCAST', type: 5, kind: 'binary' },
  {
    name: 'cacheinfo',
    kernel: 'IFA_CACHEINFO',
    type: 6,
    kind: 'struct',
    fields: [
      { name: 'prefered', kind: 'u32' }, // ifa_prefered (sic)
      { name: 'valid', kind: 'u32' }, // ifa_valid
      { name: 'cstamp', kind: 'u32' },
      { name: 'tstamp', kind: 'u32' },
    ],
  },
  { name: 'multicast', kernel: 'IFA_MULTICAST', type: 7, kind: 'binary' },
  { name: 'flags', kernel: 'IFA_FLAGS', type: 8, kind: 'u32' },
  { name: 'rtPriority', kernel: 'IFA_RT_PRIORITY', type: 9, kind: 'u32' },
  { name: 'targetNetnsid', kernel: 'IFA_TARGET_NETNSID', type: 10, kind: 's32' },
  { name: 'proto', kernel: 'IFA_PROTO', type: 11, kind: 'u8' },
] as const);
export type AddrAttrs = Decoded<typeof addrAttrs>;

/** rt-link.yaml attribute-set linkinfo-attrs. IFLA_INFO_DATA's set depends on the kind, so it stays bytes here. */
export const linkinfoAttrs = attrSet('linkinfo-attrs', [
  { name: 'kind', kernel: 'IFLA_INFO_KIND', type: 1, kind: 'string' },
  { name: 'data', kernel: 'IFLA_INFO_DATA', type: 2, kind: 'binary' },
  { name: 'xstats', kernel: 'IFLA_INFO_XSTATS', type: 3, kind: 'binary' },
  { name: 'slaveKind', kernel: 'IFLA_INFO_SLAVE_KIND', type: 4, kind: 'string' },
  { name: 'slaveData', kernel: 'IFLA_INFO_SLAVE_DATA', type: 5, kind: 'binary' },
] as const);

/** rt-link.yaml attribute-set link-attrs (the part lvsd uses). */
export const linkAttrs = attrSet('link-attrs', [
  { name: 'address', kernel: 'IFLA_ADDRESS', type: 1, kind: 'binary' },
  { name: 'broadcast', kernel: 'IFLA_BROADCAST', type: 2, kind: 'binary' },
  { name: 'ifname', kernel: 'IFLA_IFNAME', type: 3, kind: 'string', maxLen: 15 },
  { name: 'mtu', kernel: 'IFLA_MTU', type: 4, kind: 'u32' },
  { name: 'link', kernel: 'IFLA_LINK', type: 5, kind: 'u32' },
  { name: 'master', kernel: 'IFLA_MASTER', type: 10, kind: 'u32' },
  { name: 'operstate', kernel: 'IFLA_OPERSTATE', type: 16, kind: 'u8' },
  { name: 'linkinfo', kernel: 'IFLA_LINKINFO', type: 18, kind: 'nested', nested: linkinfoAttrs },
  { name: 'extMask', kernel: 'IFLA_EXT_MASK', type: 29, kind: 'u32' },
] as const);
export type LinkAttrs = Decoded<typeof linkAttrs>;

/** rt-link.yaml attribute-set linkinfo-iptun-attrs: IFLA_INFO_DATA of kind ipip (linux/if_tunnel.h IFLA_IPTUN_*). */
export const iptunAttrs = attrSet('linkinfo-iptun-attrs', [
  { name: 'link', kernel: 'IFLA_IPTUN_LINK', type: 1, kind: 'u32' },
  { name: 'local', kernel: 'IFLA_IPTUN_LOCAL', type: 2, kind: 'in_addr' },
  { name: 'remote', kernel: 'IFLA_IPTUN_REMOTE', type: 3, kind: 'in_addr' },
  { name: 'ttl', kernel: 'IFLA_IPTUN_TTL', type: 4, kind: 'u8' },
  { name: 'tos', kernel: 'IFLA_IPTUN_TOS', type: 5, kind: 'u8' },
  { name: 'encapLimit', kernel: 'IFLA_IPTUN_ENCAP_LIMIT', type: 6, kind: 'u8' },
  { name: 'flowinfo', kernel: 'IFLA_IPTUN_FLOWINFO', type: 7, kind: 'u32' },
  { name: 'flags', kernel: 'IFLA_IPTUN_FLAGS', type: 8, kind: 'u16' },
  { name: 'proto', kernel: 'IFLA_IPTUN_PROTO', type: 9, kind: 'u8' },
  { name: 'pmtudisc', kernel: 'IFLA_IPTUN_PMTUDISC', type: 10, kind: 'u8' },
  { name: 'collectMetadata', kernel: 'IFLA_IPTUN_COLLECT_METADATA', type: 19, kind: 'flag' },
  { name: 'fwmark', kernel: 'IFLA_IPTUN_FWMARK', type: 20, kind: 'u32' },
] as const);
export type IptunAttrs = Decoded<typeof iptunAttrs>;

/** rt-link.yaml attribute-set linkinfo-gre-attrs: IFLA_INFO_DATA of kind gre (linux/if_tunnel.h IFLA_GRE_*). */
export const greAttrs = attrSet('linkinfo-gre-attrs', [
  { name: 'link', kernel: 'IFLA_GRE_LINK', type: 1, kind: 'u32' },
  { name: 'iflags', kernel: 'IFLA_GRE_IFLAGS', type: 2, kind: 'u16be' },
  { name: 'oflags', kernel: 'IFLA_GRE_OFLAGS', type: 3, kind: 'u16be' },
  { name: 'ikey', kernel: 'IFLA_GRE_IKEY', type: 4, kind: 'u32be' },
  { name: 'okey', kernel: 'IFLA_GRE_OKEY', type: 5, kind: 'u32be' },
  { name: 'local', kernel: 'IFLA_GRE_LOCAL', type: 6, kind: 'in_addr' },
  { name: 'remote', kernel: 'IFLA_GRE_REMOTE', type: 7, kind: 'in_addr' },
  { name: 'ttl', kernel: 'IFLA_GRE_TTL', type: 8, kind: 'u8' },
  { name: 'tos', kernel: 'IFLA_GRE_TOS', type: 9, kind: 'u8' },
  { name: 'pmtudisc', kernel: 'IFLA_GRE_PMTUDISC', type: 10, kind: 'u8' },
  { name: 'collectMetadata', kernel: 'IFLA_GRE_COLLECT_METADATA', type: 18, kind: 'flag' },
  { name: 'fwmark', kernel: 'IFLA_GRE_FWMARK', type: 20, kind: 'u32' },
] as const);
export type GreAttrs = Decoded<typeof greAttrs>;
