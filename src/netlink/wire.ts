// Netlink framing: nlmsghdr, nlattr TLVs, 4-byte alignment, host vs network byte order.
// Constants as defined in linux/netlink.h. Knows no protocol family above plain netlink.
import { endianness } from 'os';
import { MalformedMessageError } from '../errors';

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;

// linux/netlink.h message types
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_MIN_TYPE = 0x10;

// linux/netlink.h nlmsg_flags
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
export const NLM_F_ROOT = 0x100; // GET requests
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100; // NEW requests
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
export const NLM_F_CAPPED = 0x100; // ACK flags
export const NLM_F_ACK_TLVS = 0x200;

// linux/netlink.h nlattr
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

// linux/netlink.h enum nlmsgerr_attrs (extended ACK TLVs after struct nlmsgerr)
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

// linux/netlink.h protocols and socket options
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
export const NETLINK_EXT_ACK = 11;

export const HOST_LE = endianness() === 'LE';

export function align4(n: number): number {
  return (n + 3) & ~3;
}

export interface MessageHeader {
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** One netlink message: its header and the bytes after it (a view, not a copy). */
export interface Message {
  header: MessageHeader;
  payload: Buffer;
}

export interface RawAttr {
  /** attribute type without the NESTED/NET_BYTEORDER flag bits */
  type: number;
  /** the NLA_F_* flag bits as received */
  flags: number;
  value: Buffer;
}

export function readHeader(buf: Buffer, offset: number): MessageHeader {
  return {
    length: readU32Host(buf, offset),
    type: readU16Host(buf, offset + 4),
    flags: readU16Host(buf, offset + 6),
    seq: readU32Host(buf, offset + 8),
    pid: readU32Host(buf, offset + 12),
  };
}

/** The end of the message at `off` in a receive buffer; rejects truncated or overlong lengths. */
export function messageEnd(buf: Buffer, off: number): number {
  if (buf.length - off < NLMSG_HDRLEN) {
    throw new MalformedMessageError(`netlink message at offset ${off}: ${buf.length - off} bytes left, header needs ${NLMSG_HDRLEN}`);
  }
  const length = u32HostAt(buf, off);
  if (length < NLMSG_HDRLEN || length > buf.length - off) {
    throw new MalformedMessageError(`netlink message at offset ${off}: length ${length} does not fit in ${buf.length - off} bytes`);
  }
  return off + length;
}

/** Splits a receive buffer into messages; rejects truncated or overlong lengths. */
export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off < buf.length) {
    const end = messageEnd(buf, off);
    out.push({ header: readHeader(buf, off), payload: buf.subarray(off + NLMSG_HDRLEN, end) });
    off += align4(end - off);
  }
  return out;
}

/** Splits a run of attributes; each length is checked against its container, never trusted. */
export function parseAttrs(buf: Buffer, where = 'attributes'): RawAttr[] {
  const out: RawAttr[] = [];
  let off = 0;
  while (buf.length - off >= NLA_HDRLEN) {
    const len = readU16Host(buf, off);
    const rawType = readU16Host(buf, off + 2);
    if (len < NLA_HDRLEN || len > buf.length - off) {
      throw new MalformedMessageError(
        `${where}: attribute type ${rawType & NLA_TYPE_MASK} at offset ${off} has length ${len}, ${buf.length - off} bytes left`,
      );
    }
    out.push({ type: rawType & NLA_TYPE_MASK, flags: rawType & ~NLA_TYPE_MASK & 0xffff, value: buf.subarray(off + NLA_HDRLEN, off + len) });
    off += align4(len);
  }
  // Fewer than 4 bytes left over is tolerated, as the kernel does (trailing padding).
  return out;
}

// Host-order reads by byte arithmetic, for offsets already checked to be inside the buffer: a
// dump has 50,000 message headers, and a Buffer method per read (with checks of its own) cost
// more than the rest of walking them.
export function u16HostAt(b: Uint8Array, o: number): number {
  return HOST_LE ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}
export function u32HostAt(b: Uint8Array, o: number): number {
  return HOST_LE ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000 : b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

// Host-order integer access (netlink integers are in host order unless marked otherwise).
export const readU16Host = HOST_LE ? (b: Buffer, o: number) => b.readUInt16LE(o) : (b: Buffer, o: number) => b.readUInt16BE(o);
export const readU32Host = HOST_LE ? (b: Buffer, o: number) => b.readUInt32LE(o) : (b: Buffer, o: number) => b.readUInt32BE(o);
export const readS32Host = HOST_LE ? (b: Buffer, o: number) => b.readInt32LE(o) : (b: Buffer, o: number) => b.readInt32BE(o);
export const readU64Host = HOST_LE ? (b: Buffer, o: number) => b.readBigUInt64LE(o) : (b: Buffer, o: number) => b.readBigUInt64BE(o);

/**
 * Growable byte writer for messages and attributes. Nests and messages are opened with begin*()
 * and closed with end*(), which patch the length in place; several messages may share one writer.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.pos;
  }

  /** The current buffer (replaced when it grows: take it after reserve()). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Makes room for n bytes and returns their offset; the caller fills all of them. */
  reserve(n: number): number {
    return this.room(n);
  }

  /** Writes again the bytes already written at from..to (an attribute repeated across messages). */
  repeat(from: number, to: number): void {
    const at = this.room(to - from);
    this.buf.copyWithin(at, from, to);
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private pad(): void {
    const n = align4(this.pos) - this.pos;
    if (n) {
      const at = this.room(n);
      for (let i = 0; i < n; i++) this.buf[at + i] = 0;
    }
  }

  // room() may replace this.buf: always take the offset before touching the buffer.
  u8(v: number): void {
    const at = this.room(1);
    this.buf[at] = v;
  }
  u16(v: number): void {
    const at = this.room(2);
    // plain byte stores for a valid value; Buffer's method (with its checks and error) otherwise
    if (v >= 0 && v <= 0xffff && v % 1 === 0) this.store16(at, v);
    else if (HOST_LE) this.buf.writeUInt16LE(v, at);
    else this.buf.writeUInt16BE(v, at);
  }
  u32(v: number): void {
    this.store32(this.room(4), v >>> 0);
  }
  s32(v: number): void {
    const at = this.room(4);
    if (HOST_LE) this.buf.writeInt32LE(v, at);
    else this.buf.writeInt32BE(v, at);
  }
  u64(v: bigint): void {
    const at = this.room(8);
    if (HOST_LE) this.buf.writeBigUInt64LE(v, at);
    else this.buf.writeBigUInt64BE(v, at);
  }
  u16be(v: number): void {
    const at = this.room(2);
    this.buf.writeUInt16BE(v, at);
  }
  u32be(v: number): void {
    const at = this.room(4);
    this.buf.writeUInt32BE(v >>> 0, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.room(b.length);
    this.buf.set(b, at);
  }

  /** Opens a netlink message; seq and pid are 0 until the socket stamps them. */
  beginMessage(type: number, flags: number): number {
    const at = this.room(NLMSG_HDRLEN);
    this.store32(at, 0);
    this.store32(at + 4, HOST_LE ? (type | (flags << 16)) >>> 0 : ((type << 16) | flags) >>> 0);
    this.store32(at + 8, 0);
    this.store32(at + 12, 0);
    return at;
  }
  endMessage(at: number): void {
    this.pad();
    this.patchU32(at, this.pos - at);
  }

  /** UTF-8 text without terminator; returns its byte length. */
  utf8(s: string): number {
    const max = s.length * 3;
    const at = this.room(max);
    const n = this.buf.write(s, at, 'utf8');
    this.pos = at + n;
    return n;
  }

  /** Opens an attribute (type may carry NLA_F_* bits); endAttr fixes its length and pads. */
  beginAttr(type: number): number {
    const at = this.room(NLA_HDRLEN);
    this.patchU16(at + 2, type);
    return at;
  }
  endAttr(at: number): void {
    this.patchU16(at, this.pos - at);
    this.pad();
  }
  /** Writes one attribute header, lets body() fill it, then fixes the length and pads. */
  attr(type: number, body: () => void): void {
    const at = this.beginAttr(type);
    body();
    this.endAttr(at);
  }
  beginNest(type: number): number {
    const at = this.room(NLA_HDRLEN);
    this.patchU16(at + 2, type | NLA_F_NESTED);
    return at;
  }
  endNest(at: number): void {
    this.patchU16(at, this.pos - at);
  }

  private patchU16(at: number, v: number): void {
    this.store16(at, v);
  }
  private patchU32(at: number, v: number): void {
    this.store32(at, v >>> 0);
  }

  // Host-order stores of a value known to fit, byte by byte: Buffer's write methods check their
  // arguments in JavaScript, which costs more than the store until V8 optimizes them.
  private store16(at: number, v: number): void {
    const b = this.buf;
    if (HOST_LE) {
      b[at] = v & 0xff;
      b[at + 1] = v >>> 8;
    } else {
      b[at] = v >>> 8;
      b[at + 1] = v & 0xff;
    }
  }
  private store32(at: number, v: number): void {
    const b = this.buf;
    if (HOST_LE) {
      b[at] = v;
      b[at + 1] = v >>> 8;
      b[at + 2] = v >>> 16;
      b[at + 3] = v >>> 24;
    } else {
      b[at] = v >>> 24;
      b[at + 1] = v >>> 16;
      b[at + 2] = v >>> 8;
      b[at + 3] = v;
    }
  }

  /** A copy of what was written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** What was written, without copying (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Writes seq and pid into an encoded message (the socket stamps them at send time). */
export function stampMessage(msg: Buffer, seq: number, pid = 0): void {
  if (HOST_LE) {
    msg.writeUInt32LE(seq >>> 0, 8);
    msg.writeUInt32LE(pid >>> 0, 12);
  } else {
    msg.writeUInt32BE(seq >>> 0, 8);
    msg.writeUInt32BE(pid >>> 0, 12);
  }
}

/** Decoded NLMSG_ERROR payload: errno (positive), the echoed request header, extended-ACK text. */
export interface ErrorPayload {
  errno: number;
  request: MessageHeader;
  extack?: string;
  extackOffset?: number;
}

export function parseErrorPayload(msg: Message): ErrorPayload {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new MalformedMessageError(`NLMSG_ERROR payload of ${p.length} bytes, needs ${4 + NLMSG_HDRLEN}`);
  const error = readS32Host(p, 0);
  const request = readHeader(p, 4);
  const out: ErrorPayload = { errno: error === 0 ? 0 : -error, request }; // never -0
  if (msg.header.flags & NLM_F_ACK_TLVS) {
    // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
    const echoed = msg.header.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(request.length);
    const tlvStart = 4 + echoed;
    if (tlvStart <= p.length) Object.assign(out, parseExtack(p.subarray(tlvStart)));
  }
  return out;
}

/** NLMSG_DONE carries an int (0 or -errno) and, with NLM_F_ACK_TLVS, extended-ACK TLVs. */
export function parseDonePayload(msg: Message): { errno: number; extack?: string } {
  const p = msg.payload;
  if (p.length < 4) return { errno: 0 }; // some families send an empty DONE
  const error = readS32Host(p, 0);
  const out: { errno: number; extack?: string } = { errno: error === 0 ? 0 : -error };
  if (msg.header.flags & NLM_F_ACK_TLVS) Object.assign(out, parseExtack(p.subarray(4)));
  return out;
}

function parseExtack(tlvs: Buffer): { extack?: string; extackOffset?: number } {
  const out: { extack?: string; extackOffset?: number } = {};
  for (const a of parseAttrs(tlvs, 'extended ACK')) {
    if (a.type === NLMSGERR_ATTR_MSG) out.extack = cString(a.value);
    else if (a.type === NLMSGERR_ATTR_OFFS && a.value.length >= 4) out.extackOffset = readU32Host(a.value, 0);
  }
  return out;
}

/** A NUL-terminated (or unterminated) string attribute value. */
export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul === -1 ? b.length : nul);
}
