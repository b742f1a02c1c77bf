// Generic netlink: the genlmsghdr and family resolution through the nlctrl family
// (CTRL_CMD_GETFAMILY), cached per socket. Constants as defined in linux/genetlink.h.
import { NetlinkError } from '../errors';
import { AttrSet, Decoded, attrSet, decode, decodeView, encode } from './schema';
import { NetlinkSocket, SocketOptions, netlinkError } from './socket';
import { Message, NETLINK_GENERIC, NLMSG_HDRLEN, Writer, align4, messageEnd } from './wire';
import { MalformedMessageError } from '../errors';
import { constants } from 'node:os';

const { ENOENT } = constants.errno;

export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;

const ctrlOp = attrSet('ctrl-op', [
  { name: 'id', kernel: 'CTRL_ATTR_OP_ID', type: 1, kind: 'u32' },
  { name: 'flags', kernel: 'CTRL_ATTR_OP_FLAGS', type: 2, kind: 'u32' },
] as const);

const ctrlMcastGroup = attrSet('ctrl-mcast-group', [
  { name: 'name', kernel: 'CTRL_ATTR_MCAST_GRP_NAME', type: 1, kind: 'string' },
  { name: 'id', kernel: 'CTRL_ATTR_MCAST_GRP_ID', type: 2, kind: 'u32' },
] as const);

/** nlctrl attributes (enum ctrl_attrs); policy attributes are left to the unknown list. */
export const ctrlAttrs = attrSet('ctrl', [
  { name: 'familyId', kernel: 'CTRL_ATTR_FAMILY_ID', type: 1, kind: 'u16' },
  { name: 'familyName', kernel: 'CTRL_ATTR_FAMILY_NAME', type: 2, kind: 'string', maxLen: 15 },
  { name: 'version', kernel: 'CTRL_ATTR_VERSION', type: 3, kind: 'u32' },
  { name: 'hdrSize', kernel: 'CTRL_ATTR_HDRSIZE', type: 4, kind: 'u32' },
  { name: 'maxAttr', kernel: 'CTRL_ATTR_MAXATTR', type: 5, kind: 'u32' },
  { name: 'ops', kernel: 'CTRL_ATTR_OPS', type: 6, kind: 'array', nested: ctrlOp },
  { name: 'mcastGroups', kernel: 'CTRL_ATTR_MCAST_GROUPS', type: 7, kind: 'array', nested: ctrlMcastGroup },
] as const);

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  maxAttr: number;
  mcastGroups: Map<string, number>;
}

/** Writes one generic netlink request into `w`: nlmsghdr, genlmsghdr, then `attrs` described by `set`. */
export function writeGenl<S extends AttrSet>(w: Writer, familyId: number, cmd: number, version: number, set?: S, attrs?: Decoded<S>): void {
  const at = w.beginMessage(familyId, 0);
  w.u8(cmd);
  w.u8(version);
  w.u16(0);
  if (set && attrs) encode(w, set, attrs);
  w.endMessage(at);
}

/** One generic netlink request in a buffer of its own. */
export function genlMessage<S extends AttrSet>(familyId: number, cmd: number, version: number, set?: S, attrs?: Decoded<S>): Buffer {
  const w = new Writer(128);
  writeGenl(w, familyId, cmd, version, set, attrs);
  return w.finish();
}

/** Where a generic netlink message's attributes start in its payload (after the genlmsghdr). */
export function genlAttrsStart(msg: Message): number {
  if (msg.payload.length < GENL_HDRLEN) throw new MalformedMessageError(`generic netlink message of ${msg.payload.length} bytes has no genlmsghdr`);
  return GENL_HDRLEN;
}

/**
 * fn(buf, start, end) for each generic netlink message in buf (a dump's parts, back to back),
 * buf[start..end) being its attributes: no Message or view per message (a table read has 50,000).
 */
export function mapGenlAttrs<T>(buf: Buffer, fn: (buf: Buffer, start: number, end: number) => T): T[] {
  const out: T[] = [];
  for (let off = 0; off < buf.length; ) {
    const end = messageEnd(buf, off);
    if (end - off < NLMSG_HDRLEN + GENL_HDRLEN) throw new MalformedMessageError(`generic netlink message of ${end - off - NLMSG_HDRLEN} bytes has no genlmsghdr`);
    out.push(fn(buf, off + NLMSG_HDRLEN + GENL_HDRLEN, end));
    off += align4(end - off);
  }
  return out;
}

/** Splits a generic netlink reply into command, version and its attribute bytes. */
export function parseGenl(msg: Message): { cmd: number; version: number; attrs: Buffer } {
  return { cmd: msg.payload[0], version: msg.payload[1], attrs: msg.payload.subarray(genlAttrsStart(msg)) };
}

// A family's reply lists every command it has (CTRL_ATTR_OPS); nothing here uses them, and
// decoding the list was most of a small command's netlink work in the lab.
const ctrlReply = decodeView(ctrlAttrs, { skip: ['ops'] });

/** A netlink socket for NETLINK_GENERIC that knows family ids by name. */
export class GenlSocket extends NetlinkSocket {
  private readonly families = new Map<string, Promise<GenlFamily>>();

  constructor(opts: SocketOptions = {}) {
    super(NETLINK_GENERIC, opts);
  }

  /** Resolves a family by name; NetlinkError with errno ENOENT when the kernel has none. */
  family(name: string): Promise<GenlFamily> {
    let f = this.families.get(name);
    if (!f) {
      f = this.lookup(name);
      this.families.set(name, f);
      f.catch(() => this.families.delete(name)); // a module may be loaded later
    }
    return f;
  }

  private async lookup(name: string): Promise<GenlFamily> {
    let replies: Message[];
    try {
      replies = await this.request(genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, ctrlAttrs, { familyName: name }), { oneReply: true });
    } catch (err) {
      if (err instanceof NetlinkError && err.errno === ENOENT) {
        throw netlinkError(ENOENT, err.seq, err.extack, `generic netlink family "${name}" not found`);
      }
      throw err;
    }
    if (replies.length !== 1) throw new MalformedMessageError(`CTRL_CMD_GETFAMILY "${name}": ${replies.length} replies, expected 1`);
    const a = decode(ctrlReply, parseGenl(replies[0]).attrs);
    if (a.familyId === undefined) throw new MalformedMessageError(`CTRL_CMD_GETFAMILY "${name}": reply without CTRL_ATTR_FAMILY_ID`);
    return {
      id: a.familyId,
      name: a.familyName ?? name,
      version: a.version ?? 0,
      maxAttr: a.maxAttr ?? 0,
      mcastGroups: new Map((a.mcastGroups ?? []).map((g) => [g.name ?? '', g.id ?? 0])),
    };
  }
}
