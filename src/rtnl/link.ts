// Network interfaces over rtnetlink: look up (RTM_GETLINK), create and delete ipip/gre tunnel
// devices (RTM_NEWLINK / RTM_DELLINK with IFLA_LINKINFO), and set them up or down.
import { NetlinkError } from '../errors';
import { encodeToBuffer } from '../netlink/schema';
import { NLM_F_CREATE, NLM_F_EXCL } from '../netlink/wire';
import { AF_UNSPEC, IFF_UP, IFINFOMSG, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, greAttrs, iptunAttrs, linkAttrs, type LinkAttrs } from './spec';
import { ipToBytes } from './ip';
import { RtnlSocket, parseRtnl, rtnlDump, rtnlMessage, rtnlRequest } from './socket';
import type { Message } from '../netlink/wire';
import { constants } from 'node:os';

const { ENODEV } = constants.errno;

export interface Link {
  readonly index: number;
  readonly name: string;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  readonly flags: number;
  /** IFLA_INFO_KIND: ipip, gre, veth, ... (absent for lo and physical devices). */
  readonly kind?: string;
}

export type TunnelKind = 'ipip' | 'gre';

function toLink(msg: Message): Link | undefined {
  if (msg.header.type !== RTM_NEWLINK) return undefined;
  const { header, attrs } = parseRtnl(msg, IFINFOMSG, linkAttrs);
  return { index: header.index, name: attrs.ifname ?? '', up: (header.flags & IFF_UP) !== 0, flags: header.flags, kind: attrs.linkinfo?.kind };
}

export async function listLinks(sock: RtnlSocket): Promise<Link[]> {
  const req = rtnlMessage(RTM_GETLINK, 0, { fields: IFINFOMSG, value: { family: AF_UNSPEC } }, linkAttrs, {});
  return (await rtnlDump(sock, req, 'listing interfaces')).map(toLink).filter((l): l is Link => l !== undefined);
}

async function getLink(sock: RtnlSocket, by: { index?: number; name?: string }, what: string): Promise<Link | undefined> {
  const req = rtnlMessage(RTM_GETLINK, 0, { fields: IFINFOMSG, value: { family: AF_UNSPEC, index: by.index ?? 0 } }, linkAttrs, by.name ? { ifname: by.name } : {});
  try {
    const [reply] = await rtnlRequest(sock, req, what);
    return reply ? toLink(reply) : undefined;
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === ENODEV) return undefined;
    throw err;
  }
}

export function linkByName(sock: RtnlSocket, name: string): Promise<Link | undefined> {
  return getLink(sock, { name }, `looking up interface ${name}`);
}

export function linkByIndex(sock: RtnlSocket, index: number): Promise<Link | undefined> {
  return getLink(sock, { index }, `looking up interface index ${index}`);
}

export function createTunnelMessage(name: string, kind: TunnelKind, local?: string): Buffer {
  // Path MTU discovery on, as `ip link add NAME type ipip|gre` asks for; `local` pins the outer destination.
  const outer = local ? { local: ipToBytes(local) } : {};
  const data = kind === 'ipip' ? encodeToBuffer(iptunAttrs, { pmtudisc: 1, ...outer }) : encodeToBuffer(greAttrs, { pmtudisc: 1, ...outer });
  const attrs: LinkAttrs = { ifname: name, linkinfo: { kind, data } };
  return rtnlMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, { fields: IFINFOMSG, value: { family: AF_UNSPEC } }, linkAttrs, attrs);
}

/**
 * Creates a tunnel device that accepts IP-in-IP (or GRE) from any director, the shape an LVS-TUN
 * real server needs. The kernel loads the ipip/ip_gre module if needed.
 * EEXIST when the name is taken or a tunnel with the same endpoints exists; EOPNOTSUPP when the
 * kernel has no such tunnel kind.
 */
export async function createTunnel(sock: RtnlSocket, name: string, kind: TunnelKind, local?: string): Promise<void> {
  await rtnlRequest(sock, createTunnelMessage(name, kind, local), `creating ${kind} tunnel device ${name}`);
}

export async function deleteLink(sock: RtnlSocket, link: { index: number; name: string }): Promise<void> {
  const req = rtnlMessage(RTM_DELLINK, 0, { fields: IFINFOMSG, value: { family: AF_UNSPEC, index: link.index } }, linkAttrs, {});
  await rtnlRequest(sock, req, `deleting interface ${link.name}`);
}

/** Sets IFF_UP on or off, touching no other flag (ifi_change = IFF_UP). */
export async function setLinkUp(sock: RtnlSocket, link: { index: number; name: string }, up: boolean): Promise<void> {
  const req = rtnlMessage(RTM_NEWLINK, 0, { fields: IFINFOMSG, value: { family: AF_UNSPEC, index: link.index, flags: up ? IFF_UP : 0, change: IFF_UP } }, linkAttrs, {});
  await rtnlRequest(sock, req, `setting interface ${link.name} ${up ? 'up' : 'down'}`);
}
