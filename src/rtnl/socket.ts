// An rtnetlink socket and the one message shape rtnetlink uses: nlmsghdr, a fixed family header
// (ifaddrmsg, ifinfomsg), then attributes. Encoding and decoding come from the descriptions in spec.ts.
import { NetlinkError } from '../errors';
import { decode, decodeStruct, encode, encodeStruct, type AttrSet, type Decoded, type StructField, type StructOf } from '../netlink/schema';
import { NetlinkSocket, netlinkError, type SocketOptions } from '../netlink/socket';
import { NETLINK_ROUTE, Writer, type Message } from '../netlink/wire';

export class RtnlSocket extends NetlinkSocket {
  constructor(opts: SocketOptions = {}) {
    // Replies here are small (one host's links and addresses): no need for the 32 MiB default.
    super(NETLINK_ROUTE, { recvBufferSize: 1 << 20, ...opts });
  }
}

export function rtnlMessage<F extends readonly StructField[], S extends AttrSet>(
  type: number,
  flags: number,
  header: { fields: F; value: Partial<StructOf<F>> },
  set: S,
  attrs: Decoded<S>,
): Buffer {
  const w = new Writer(128);
  const at = w.beginMessage(type, flags);
  encodeStruct(w, header.fields, header.value, set.name);
  encode(w, set, attrs);
  w.endMessage(at);
  return w.finish();
}

export function parseRtnl<F extends readonly StructField[], S extends AttrSet>(msg: Message, fields: F, set: S): { header: StructOf<F>; attrs: Decoded<S> } {
  const { value, rest } = decodeStruct(fields, msg.payload, set.name);
  return { header: value, attrs: decode(set, rest) };
}

/** Runs a request; a kernel error becomes a NetlinkError that says what was being done. */
export async function rtnlRequest(sock: NetlinkSocket, msg: Buffer, what: string): Promise<Message[]> {
  try {
    return await sock.request(msg);
  } catch (err) {
    if (err instanceof NetlinkError) throw netlinkError(err.errno, err.seq, err.extack, what);
    throw err;
  }
}

export async function rtnlDump(sock: NetlinkSocket, msg: Buffer, what: string): Promise<Message[]> {
  try {
    return await sock.dump(msg);
  } catch (err) {
    if (err instanceof NetlinkError) throw netlinkError(err.errno, err.seq, err.extack, what);
    throw err;
  }
}
