// Interface addresses over rtnetlink: list (RTM_GETADDR dump), add (RTM_NEWADDR), delete (RTM_DELADDR).
import { NLM_F_CREATE, NLM_F_EXCL, type Message } from '../netlink/wire';
import { AF_INET, AF_INET6, AF_UNSPEC, IFADDRMSG, RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR, RT_SCOPE_UNIVERSE, addrAttrs } from './spec';
import { bytesToIp, ipToBytes } from './ip';
import { RtnlSocket, parseRtnl, rtnlDump, rtnlMessage, rtnlRequest } from './socket';

export interface Address {
  /** Interface index. */
  readonly index: number;
  readonly family: 4 | 6;
  /** The interface's own address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6), canonical text. */
  readonly address: string;
  readonly prefixlen: number;
  /** IPv4 only: lo:0 and the like. */
  readonly label?: string;
  /** IFA_F_* bits, all 32 (IFA_FLAGS when present). */
  readonly flags: number;
  readonly scope: number;
}

export interface AddressRequest {
  readonly index: number;
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixlen: number;
  readonly label?: string;
  /** IFA_F_NODAD and friends. */
  readonly flags?: number;
  /** Seconds (`ip addr ... preferred_lft`); 0 = deprecated, never chosen as a source address. Valid forever. */
  readonly preferredLifetime?: number;
}

const FOREVER = 0xffffffff;

const afOf = (family: 4 | 6) => (family === 4 ? AF_INET : AF_INET6);

/** One RTM_NEWADDR message of a dump as an Address; undefined for other families or messages. */
export function toAddress(msg: Message): Address | undefined {
  if (msg.header.type !== RTM_NEWADDR) return undefined;
  const { header, attrs } = parseRtnl(msg, IFADDRMSG, addrAttrs);
  if (header.family !== AF_INET && header.family !== AF_INET6) return undefined;
  // IFA_LOCAL is the interface's own address and IFA_ADDRESS the peer; without a peer IPv6 sends only IFA_ADDRESS.
  const bytes = attrs.local ?? attrs.address;
  if (!bytes) return undefined;
  return {
    index: header.index,
    family: header.family === AF_INET ? 4 : 6,
    address: bytesToIp(bytes),
    prefixlen: header.prefixlen,
    label: attrs.label,
    flags: attrs.flags ?? header.flags,
    scope: header.scope,
  };
}

export async function listAddresses(sock: RtnlSocket, family: 0 | 4 | 6 = 0): Promise<Address[]> {
  const req = rtnlMessage(RTM_GETADDR, 0, { fields: IFADDRMSG, value: { family: family ? afOf(family) : AF_UNSPEC } }, addrAttrs, {});
  return (await rtnlDump(sock, req, 'listing addresses')).map(toAddress).filter((a): a is Address => a !== undefined);
}

function describe(a: AddressRequest): string {
  return `${a.address}/${a.prefixlen} (interface index ${a.index})`;
}

/** The RTM_NEWADDR request for an address (what `ip addr add` sends, attributes in description order). */
export function newAddressMessage(a: AddressRequest): Buffer {
  const bytes = ipToBytes(a.address);
  const flags = a.flags ?? 0;
  return rtnlMessage(
    RTM_NEWADDR,
    NLM_F_CREATE | NLM_F_EXCL,
    { fields: IFADDRMSG, value: { family: afOf(a.family), prefixlen: a.prefixlen, flags: flags & 0xff, scope: RT_SCOPE_UNIVERSE, index: a.index } },
    addrAttrs,
    {
      local: bytes,
      address: bytes,
      ...(a.family === 4 && a.label ? { label: a.label } : {}),
      // ifa_flags holds 8 bits; IFA_FLAGS carries the rest.
      ...(flags > 0xff ? { flags } : {}),
      ...(a.preferredLifetime !== undefined ? { cacheinfo: { prefered: a.preferredLifetime, valid: FOREVER, cstamp: 0, tstamp: 0 } } : {}),
    },
  );
}

export function deleteAddressMessage(a: AddressRequest): Buffer {
  const bytes = ipToBytes(a.address);
  return rtnlMessage(RTM_DELADDR, 0, { fields: IFADDRMSG, value: { family: afOf(a.family), prefixlen: a.prefixlen, index: a.index } }, addrAttrs, {
    local: bytes,
    address: bytes,
  });
}

/** Adds an address; EEXIST if the interface already has it. */
export async function addAddress(sock: RtnlSocket, a: AddressRequest): Promise<void> {
  await rtnlRequest(sock, newAddressMessage(a), `adding ${describe(a)}`);
}

/** Deletes an address; EADDRNOTAVAIL if the interface does not have it. */
export async function deleteAddress(sock: RtnlSocket, a: AddressRequest): Promise<void> {
  await rtnlRequest(sock, deleteAddressMessage(a), `removing ${describe(a)}`);
}
