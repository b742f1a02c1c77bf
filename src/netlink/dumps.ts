// Many dumps in a row, each answered in full before the next is sent: a listing with counters
// makes one destination dump per service. native/netlink_dumps.c runs them on a socket of its
// own on a thread of libuv's pool, with no JavaScript per datagram; this file reads the replies.
import { MalformedMessageError, NetlinkError } from '../errors';
import { loadNative } from '../native';
import { dumpDoneError, isPart, netlinkError } from './socket';
import { Message, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP_INTR, align4, messageEnd, parseErrorPayload, readHeader, u16HostAt, u32HostAt } from './wire';

interface NativeDumps {
  dumpEach(protocol: number, requests: Uint8Array, ends: Uint32Array): Promise<{ bytes: Buffer; ends: Uint32Array } | undefined>;
}

/** A dump's parts as the bytes they came in (parseMessages splits them), or what failed. */
export type DumpOutcome = { ok: true; parts: Buffer } | { ok: false; error: NetlinkError };

/** Every reply as received, back to back: request i's is bytes[ends[i - 1] .. ends[i]], NLMSG_DONE or NLMSG_ERROR last. */
export interface DumpReplies {
  bytes: Buffer;
  ends: Uint32Array;
}

/**
 * Runs request i (requests[ends[i - 1] .. ends[i]], a whole message; its flags, seq and pid are
 * set for it) as a dump, one after another. Undefined when the C transport is not built or its
 * socket had trouble: the caller then runs the dumps on its own sockets, which name the problem.
 */
export async function dumpReplies(protocol: number, requests: Buffer, ends: ArrayLike<number>): Promise<DumpReplies | undefined> {
  const native = loadNative<NativeDumps>('netlink_dumps');
  return native && (await native.dumpEach(protocol, requests, ends instanceof Uint32Array ? ends : Uint32Array.from(ends)));
}

/** dumpReplies, each reply read into its outcome. */
export async function dumpEach(protocol: number, requests: Buffer, ends: ArrayLike<number>): Promise<DumpOutcome[] | undefined> {
  const replies = await dumpReplies(protocol, requests, ends);
  if (!replies) return undefined;
  const out: DumpOutcome[] = new Array(ends.length);
  for (let i = 0; i < out.length; i++) out[i] = replyOutcome(replies, i);
  return out;
}

/** Reply i's outcome. */
export function replyOutcome(replies: DumpReplies, i: number): DumpOutcome {
  return dumpOutcome(replies.bytes.subarray(i ? replies.ends[i - 1] : 0, replies.ends[i]));
}

/** One dump's reply, read as NetlinkSocket reads it: its parts, then NLMSG_DONE or NLMSG_ERROR. */
export function dumpOutcome(reply: Buffer): DumpOutcome {
  let interrupted = false;
  for (let off = 0; off < reply.length; ) {
    const end = messageEnd(reply, off);
    const type = u16HostAt(reply, off + 4); // inside: messageEnd checked the header
    if (isPart(type)) {
      if (u16HostAt(reply, off + 6) & NLM_F_DUMP_INTR) interrupted = true;
      off += align4(end - off);
      continue;
    }
    if (type !== NLMSG_DONE && type !== NLMSG_ERROR) throw new MalformedMessageError(`netlink message type ${type} inside a dump's reply`);
    if (align4(end - off) + off < reply.length) throw new MalformedMessageError("netlink messages after the end of a dump's reply");
    // the usual end, a DONE with error 0 (or none), read without a Message: a table read has 10,000
    if (type === NLMSG_DONE && !interrupted && (end - off < NLMSG_HDRLEN + 4 || u32HostAt(reply, off + NLMSG_HDRLEN) === 0)) {
      return { ok: true, parts: reply.subarray(0, off) };
    }
    const m: Message = { header: readHeader(reply, off), payload: reply.subarray(off + NLMSG_HDRLEN, end) };
    let error: NetlinkError | undefined;
    if (type === NLMSG_DONE) error = dumpDoneError(m, interrupted);
    else {
      const e = parseErrorPayload(m);
      if (e.errno) error = netlinkError(e.errno, m.header.seq, e.extack);
    }
    return error ? { ok: false, error } : { ok: true, parts: reply.subarray(0, off) };
  }
  throw new MalformedMessageError('netlink dump reply ends without NLMSG_DONE');
}
