// Request/response over the `netlink` package's raw socket: sequence numbers, ACKs, multipart
// dumps, many requests in flight, and batching (messages queued in the same tick go out in one
// sendmsg; each outcome, success or error, is mapped back to the message that caused it).
import { getSystemErrorMap } from 'util';
// the raw layer only: the package's index also loads its rtnetlink/nl80211/wireguard codecs
import type { RawNetlinkSocket } from 'netlink/dist/raw';
import { MalformedMessageError, NetlinkError } from '../errors';
import {
  Message,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  HOST_LE,
  parseDonePayload,
  parseErrorPayload,
  align4,
  messageEnd,
  readHeader,
  readU16Host,
  readU32Host,
  stampMessage,
} from './wire';

/** A message that carries data (a dump part), not one of netlink's own control messages. */
export function isPart(type: number): boolean {
  return type !== NLMSG_ERROR && type !== NLMSG_DONE && type !== NLMSG_NOOP && type !== NLMSG_OVERRUN;
}

export interface SocketOptions {
  /** SO_RCVBUF wish; the kernel caps it at net.core.rmem_max (and doubles it). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** most requests awaiting an answer at once (default 4096); the receive buffer bounds it too */
  window?: number;
  /** reject everything in flight when the kernel says nothing for this long (default 120 s) */
  timeoutMs?: number;
  /** bytes read per recvmsg (default 32 KiB); a longer datagram fails what is in flight as truncated */
  messageBufferSize?: number;
}

/** What NetlinkSocket uses of the netlink package's RawNetlinkSocket. */
export type RawSocket = Pick<RawNetlinkSocket, 'on' | 'send' | 'close' | 'ref' | 'unref' | 'address' | 'getRecvBufferSize' | 'getSendBufferSize'>;

export interface RequestOptions {
  /**
   * false: do not ask the kernel for an ACK of this message. Success is then known when a later
   * message of the same send is acknowledged (the kernel handles a send in order); errors are
   * still reported for this message. Cuts the reply traffic of big batches.
   */
  ack?: boolean;
  /**
   * true: the kernel answers this request with exactly one message, its reply or an error (a
   * GET that is not a dump). No ACK is asked for: the answer completes the request, one datagram
   * back instead of two.
   */
  oneReply?: boolean;
}

/** Outcome of one message of a batch. */
export type BatchOutcome = { ok: true; replies: Message[] } | { ok: false; error: NetlinkError };

/** What became of a run of messages (sendRun): which failed, by index, and how many were sent. */
export interface RunResult {
  /** messages handed to the kernel (all, unless stopOnError stopped the run early) */
  sent: number;
  /** the messages that failed, in index order; every other sent message succeeded */
  failures: { index: number; error: NetlinkError }[];
}

/**
 * Messages laid out back to back in one buffer, sent in chunks (one sendmsg each, only the last
 * message acknowledged). Bookkeeping is per chunk: a failed message is found from its seq.
 */
interface Run {
  buf: Buffer;
  /** message i ends at ends[i] (and starts where message i - 1 ends) */
  ends: ArrayLike<number>;
  /** index of the next message to send */
  next: number;
  stopOnError: boolean;
  /** chunks sent and not yet answered */
  chunks: number;
  failures: { index: number; error: NetlinkError }[];
  resolve(r: RunResult): void;
}

interface Pending {
  msg: Buffer;
  seq: number;
  dump: boolean;
  ack: boolean;
  /** answered by exactly one message (RequestOptions.oneReply) */
  oneReply?: boolean;
  order: number;
  replies: Message[] | undefined;
  /** a dump whose replies are kept as bytes (dumpBytes), not as messages */
  parts?: Buffer[];
  interrupted: boolean;
  done: boolean;
  /** receive-buffer bytes its answers may take */
  cost: number;
  /** a single request's promise, or its place in a batch */
  resolve?(replies: Message[]): void;
  reject?(err: Error): void;
  group?: BatchGroup;
  index?: number;
  /** a queued run (not yet fully sent), or a sent chunk of one: messages first..first+count-1 */
  run?: Run;
  first?: number;
  count?: number;
  firstSeq?: number;
}

interface BatchGroup {
  outcomes: BatchOutcome[];
  left: number;
  resolve(outcomes: BatchOutcome[]): void;
}

function openRaw(protocol: number, opts: SocketOptions): RawSocket {
  const { RawNetlinkSocket: Raw } = require('netlink/dist/raw') as typeof import('netlink/dist/raw');
  return new Raw(protocol, {
    recvBufferSize: opts.recvBufferSize ?? 32 << 20,
    sendBufferSize: opts.sendBufferSize ?? 4 << 20,
    messagePeeking: false,
    msgBufferSize: opts.messageBufferSize ?? 32 << 10,
  });
}

const NO_REPLIES: Message[] = Object.freeze([]) as unknown as Message[];

function settle(g: BatchGroup, i: number, result: Message[] | Error): void {
  g.outcomes[i] = Array.isArray(result)
    ? { ok: true, replies: result }
    : { ok: false, error: result instanceof NetlinkError ? result : netlinkError(EBADF, undefined, String(result)) };
  if (--g.left === 0) g.resolve(g.outcomes);
}

const errnoMap = getSystemErrorMap();

/** What a dump's NLMSG_DONE says went wrong, if anything; interrupted: a part had NLM_F_DUMP_INTR. */
export function dumpDoneError(done: Message, interrupted: boolean): NetlinkError | undefined {
  const d = parseDonePayload(done);
  const seq = done.header.seq;
  if (d.errno) return netlinkError(d.errno, seq, d.extack, 'netlink dump failed');
  if (interrupted) return netlinkError(EINTR, seq, undefined, 'netlink dump was interrupted by a concurrent change (NLM_F_DUMP_INTR); retry');
  return undefined;
}

/** "EEXIST (file already exists)" for an errno; used in NetlinkError messages. */
export function errnoText(errno: number): string {
  const e = errnoMap.get(-errno);
  return e ? `${e[0]} (${e[1]})` : `errno ${errno}`;
}

export function netlinkError(errno: number, seq?: number, extack?: string, what = 'netlink request failed'): NetlinkError {
  const text = `${what}: ${errnoText(errno)}${extack ? `: ${extack}` : ''}`;
  return new NetlinkError(text, errno, { extack, seq });
}

/**
 * Receive-buffer bytes (skb truesize, about) one message's answers may take: an acknowledged
 * request gets its reply (if any, trimmed by the kernel to its size) and an ACK; a silent one
 * only an error echoing the request.
 */
const REPLY_COST = { ack: 4096, silent: 1024 };

const ENOBUFS = 105;
const ETIMEDOUT = 110;
const EINTR = 4;
const EBADF = 9;

export class NetlinkSocket {
  private readonly raw: RawSocket;
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<number, Pending>();
  private readonly silent: Pending[] = []; // sent without ACK, in send order
  private readonly chunks: Pending[] = []; // run chunks in flight (a handful)
  private dumpRunning = false;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private order = 0;
  private flushScheduled = false;
  private closed = false;
  private referenced = true;
  private watchdog?: NodeJS.Timeout;
  /** most messages in flight (answers are bounded separately, by the receive-buffer budget) */
  readonly window: number;
  private readonly budget: number;
  private budgetUsed = 0;
  private readonly maxSendBytes: number;
  private readonly timeoutMs: number;

  constructor(readonly protocol: number, opts: SocketOptions = {}) {
    // One recvmsg per datagram into a fixed buffer, instead of the package's default of peeking
    // at each datagram's size first (two syscalls each). A buffer this size also lets the kernel
    // pack up to 32 KiB of dump parts into one datagram (it sizes dump skbs by the reader's
    // buffer, capped at 32 KiB), so a big dump takes far fewer round trips.
    // Loaded on first use, not at import: the native binding must not load while the CLI's
    // start-up snapshot is built (scripts/build-snapshot.js).
    this.raw = openRaw(protocol, opts);
    // Keep every possible answer of the messages in flight within the receive buffer: the kernel
    // would drop the rest (ENOBUFS), and netlink@0.3.0 aborts the process on that recvmsg error.
    const rcv = this.raw.getRecvBufferSize();
    this.budget = Math.max(REPLY_COST.ack, Math.floor(rcv * 0.75));
    this.maxSendBytes = Math.max(4096, this.raw.getSendBufferSize() / 2 - 1024);
    this.window = opts.window ?? 4096;
    this.timeoutMs = opts.timeoutMs ?? 120_000; // a flush of 50,000 entries under emulation takes tens of seconds
    this.raw.on('message', (buf) => this.onData(buf));
    this.raw.on('truncatedMessage', () => this.failAll(netlinkError(ENOBUFS, undefined, undefined, 'netlink reply truncated; results of requests in flight are unknown')));
    this.raw.on('error', (err) => {
      const errno = typeof err.errno === 'number' ? err.errno : EBADF;
      const what = errno === ENOBUFS ? 'netlink replies were lost (receive buffer overflow); results of requests in flight are unknown' : 'netlink socket error';
      this.failAll(netlinkError(errno, undefined, undefined, what));
    });
    this.setReferenced(false);
  }

  /** How many unacknowledged (silent) messages may be in flight at once. */
  get silentCapacity(): number {
    return Math.max(1, Math.min(this.window, Math.floor(this.budget / REPLY_COST.silent)));
  }

  /** The local port the kernel addresses replies to. */
  get port(): number {
    return this.raw.address().port;
  }

  /**
   * Sends one request (NLM_F_REQUEST, NLM_F_ACK added) and resolves with the replies that came
   * before its ACK. The message's seq/pid fields are stamped in place.
   */
  request(msg: Buffer, opts: RequestOptions = {}): Promise<Message[]> {
    return this.enqueue(msg, false, opts.ack ?? true, undefined, opts.oneReply);
  }

  /** Sends a dump request (NLM_F_REQUEST|NLM_F_DUMP) and resolves with every part until NLMSG_DONE. */
  dump(msg: Buffer): Promise<Message[]> {
    return this.enqueue(msg, true, false);
  }

  /**
   * dump(), the parts kept as the bytes they came in (parseMessages splits them into what dump()
   * gives): a dump of 10,000 parts then makes no object per part.
   */
  async dumpBytes(msg: Buffer): Promise<Buffer> {
    const parts: Buffer[] = [];
    await this.enqueue(msg, true, false, parts);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * Sends many requests, as few sendmsg calls as the window allows; resolves once all are
   * answered, with one outcome per message, in order; never rejects. No promise per message:
   * a restore sends tens of thousands.
   */
  batch(msgs: Buffer[], opts: RequestOptions = { ack: false }): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = new Array(msgs.length);
    if (msgs.length === 0) return Promise.resolve(outcomes);
    return new Promise<BatchOutcome[]>((resolve) => {
      const group: BatchGroup = { outcomes, left: msgs.length, resolve };
      const ack = opts.ack ?? true;
      for (let i = 0; i < msgs.length; i++) {
        if (this.closed || msgs[i].length < 16) {
          settle(group, i, netlinkError(EBADF, undefined, undefined, this.closed ? 'netlink socket closed' : 'request has no header'));
          continue;
        }
        this.queue.push({ msg: msgs[i], seq: 0, dump: false, ack, order: 0, replies: undefined, interrupted: false, done: false, cost: 0, group, index: i });
      }
      this.scheduleFlush();
    });
  }

  /**
   * Sends many requests written back to back into one buffer (message i ends at ends[i]), in
   * as few sendmsg calls as the receive budget allows, only the last message of each send
   * acknowledged; never rejects. With stopOnError nothing more is sent once a message has
   * failed (what is in flight completes). For tens of thousands of table changes: no object,
   * promise or map entry per message.
   */
  sendRun(buf: Buffer, ends: ArrayLike<number>, opts: { stopOnError?: boolean } = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      const run: Run = { buf, ends, next: 0, stopOnError: opts.stopOnError ?? false, chunks: 0, failures: [], resolve };
      if (this.closed) this.failRun(run, netlinkError(EBADF, undefined, undefined, 'netlink socket closed'));
      else if (ends.length === 0) this.endRun(run);
      else {
        this.queue.push({ msg: buf, seq: 0, dump: false, ack: true, order: 0, replies: undefined, interrupted: false, done: false, cost: 0, run });
        this.scheduleFlush();
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // an error costs a stack trace: make one only for requests that are still waiting
    if (this.inflight.size > 0 || this.queue.length > 0) this.failAll(netlinkError(EBADF, undefined, undefined, 'netlink socket closed'));
    if (this.watchdog) clearTimeout(this.watchdog);
    this.raw.close();
  }

  private enqueue(msg: Buffer, dump: boolean, ack: boolean, parts?: Buffer[], oneReply?: boolean): Promise<Message[]> {
    if (this.closed) return Promise.reject(netlinkError(EBADF, undefined, undefined, 'netlink socket closed'));
    if (msg.length < 16) return Promise.reject(new MalformedMessageError(`request of ${msg.length} bytes has no header`));
    return new Promise<Message[]>((resolve, reject) => {
      this.queue.push({ msg, seq: 0, dump, ack, oneReply, order: 0, replies: undefined, parts, interrupted: false, done: false, cost: 0, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * Sends queued requests while their possible answers fit the receive buffer (see REPLY_COST);
   * a dump goes alone, once nothing else is in flight (the kernel writes its first part at once).
   */
  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length && !this.closed) {
      const head = this.queue[0];
      if (head.dump) {
        if (this.inflight.size > 0) return;
        this.send([this.queue.shift()!]);
        continue;
      }
      const free = this.budget - this.budgetUsed;
      // refill in bulk, not one message per answer: fewer, fuller sends
      const room = this.window - this.inflight.size;
      if (this.inflight.size > 0 && (this.dumpRunning || free < this.budget / 2 || room < this.window / 2)) return;
      if (head.run) {
        this.sendChunk(head.run, free);
        continue;
      }
      const chunk: Pending[] = [];
      let bytes = 0;
      let cost = REPLY_COST.ack; // the last message of a send is always acknowledged
      // one sendmsg takes at most UIO_MAXIOV (1024) buffers and sk_sndbuf bytes
      while (this.queue.length && chunk.length < Math.min(1024, room)) {
        const q = this.queue[0];
        const c = q.ack || q.oneReply ? REPLY_COST.ack : REPLY_COST.silent;
        if (q.dump || bytes + q.msg.length > this.maxSendBytes || (chunk.length > 0 && cost + c > free)) break;
        bytes += q.msg.length;
        cost += c;
        chunk.push(this.queue.shift()!);
      }
      if (chunk.length === 0) {
        if (this.inflight.size > 0) return;
        chunk.push(this.queue.shift()!); // alone and oversized: the kernel will say why
      }
      this.send(chunk);
    }
  }

  /** Sends the next chunk of a run: as many messages as the free reply budget and sk_sndbuf allow. */
  private sendChunk(run: Run, free: number): void {
    const { buf, ends } = run;
    if (run.next >= ends.length || (run.stopOnError && run.failures.length > 0)) {
      this.queue.shift();
      if (run.chunks === 0) this.endRun(run);
      return;
    }
    const first = run.next;
    const start = first ? ends[first - 1] : 0;
    // the last message is acknowledged, the others answer only when they fail
    const most = Math.max(1, Math.min(ends.length - first, 1 + Math.floor((free - REPLY_COST.ack) / REPLY_COST.silent)));
    let count = 1;
    while (count < most && ends[first + count] - start <= this.maxSendBytes) count++;
    // consecutive seqs, never wrapping inside a chunk (a failure is found by seq - firstSeq)
    let firstSeq = (this.seq + 1) >>> 0 || 1;
    if (firstSeq + count - 1 > 0xffffffff) firstSeq = 1;
    let seq = firstSeq;
    for (let i = first; i < first + count; i++) {
      const at = i ? ends[i - 1] : 0;
      const flags = NLM_F_REQUEST | (i === first + count - 1 ? NLM_F_ACK : 0);
      if (HOST_LE) {
        buf.writeUInt16LE(buf.readUInt16LE(at + 6) | flags, at + 6);
        buf.writeUInt32LE(seq, at + 8);
      } else {
        buf.writeUInt16BE(buf.readUInt16BE(at + 6) | flags, at + 6);
        buf.writeUInt32BE(seq, at + 8);
      }
      this.seq = seq;
      seq++;
    }
    run.next = first + count;
    run.chunks++;
    if (run.next >= ends.length) this.queue.shift(); // all sent: the run ends with its last answer
    const p: Pending = {
      msg: buf.subarray(start, ends[first + count - 1]),
      seq: this.seq,
      dump: false,
      ack: true,
      order: ++this.order,
      replies: undefined,
      interrupted: false,
      done: false,
      cost: REPLY_COST.ack + (count - 1) * REPLY_COST.silent,
      run,
      first,
      count,
      firstSeq,
    };
    this.chunks.push(p);
    this.transmit([p], p.msg);
  }

  /** Records the failure of message `index` of a run. */
  private runFailure(run: Run, index: number, error: NetlinkError): void {
    run.failures.push({ index, error });
  }

  private endRun(run: Run): void {
    run.failures.sort((a, b) => a.index - b.index);
    run.resolve({ sent: run.next, failures: run.failures });
  }

  /** Fails every message of a run not sent yet (socket closed or broken). */
  private failRun(run: Run, err: Error): void {
    const e = err instanceof NetlinkError ? err : netlinkError(EBADF, undefined, String(err));
    for (let i = run.next; i < run.ends.length; i++) this.runFailure(run, i, e);
    run.next = run.ends.length;
    if (run.chunks === 0) this.endRun(run);
  }

  private send(chunk: Pending[]): void {
    const bufs: Buffer[] = [];
    chunk.forEach((p, i) => {
      const last = i === chunk.length - 1;
      p.seq = this.seq = (this.seq + 1) >>> 0 || 1;
      p.order = ++this.order;
      // the last message of a send closes the silent ones: with its ACK, or with its one reply
      p.ack = !p.dump && !p.oneReply && (p.ack || last);
      const flags = NLM_F_REQUEST | (p.dump ? NLM_F_DUMP : 0) | (p.ack ? NLM_F_ACK : 0);
      const cur = HOST_LE ? p.msg.readUInt16LE(6) : p.msg.readUInt16BE(6);
      if (HOST_LE) p.msg.writeUInt16LE(cur | flags, 6);
      else p.msg.writeUInt16BE(cur | flags, 6);
      stampMessage(p.msg, p.seq);
      p.cost = p.dump ? 0 : p.ack || p.oneReply ? REPLY_COST.ack : REPLY_COST.silent;
      if (p.dump) this.dumpRunning = true;
      if (!p.ack && !p.dump && !p.oneReply) this.silent.push(p);
      bufs.push(p.msg);
    });
    this.transmit(chunk, bufs.length === 1 ? bufs[0] : bufs);
  }

  private transmit(chunk: Pending[], data: Buffer | Buffer[]): void {
    for (const p of chunk) {
      this.budgetUsed += p.cost;
      this.inflight.set(p.seq, p);
    }
    this.setReferenced(true);
    this.armWatchdog();
    this.raw.send(data, undefined, (err) => {
      if (!err) return;
      const e = netlinkError(err.errno ?? EBADF, undefined, undefined, 'netlink send failed');
      for (const p of chunk) this.finish(p, e);
      this.scheduleFlush(); // what was queued behind this send must not wait for the watchdog
    });
  }

  // Called from the native binding: nothing may throw out of here (the addon would abort).
  private onData(buf: Buffer): void {
    try {
      let off = 0;
      while (off < buf.length) {
        const end = messageEnd(buf, off);
        const p = this.inflight.get(readU32Host(buf, off + 8));
        if (p?.parts && isPart(readU16Host(buf, off + 4))) off = this.keepParts(p, buf, off);
        else {
          this.onMessage({ header: readHeader(buf, off), payload: buf.subarray(off + 16, end) });
          off += align4(end - off);
        }
      }
      this.watchdog?.refresh();
      this.flush();
    } catch (err) {
      this.failAll(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The run of p's dump parts from `off` on, kept as one view of buf; returns where it ends. */
  private keepParts(p: Pending, buf: Buffer, off: number): number {
    const start = off;
    while (off < buf.length) {
      const end = messageEnd(buf, off);
      if (readU32Host(buf, off + 8) !== p.seq || !isPart(readU16Host(buf, off + 4))) break;
      if (readU16Host(buf, off + 6) & NLM_F_DUMP_INTR) p.interrupted = true;
      off = Math.min(buf.length, off + align4(end - off));
    }
    p.parts!.push(buf.subarray(start, off));
    return off;
  }

  private onMessage(m: Message): void {
    const p = this.inflight.get(m.header.seq);
    const t = m.header.type;
    if (!p) {
      // an unacknowledged message of a run chunk: only its failure matters
      if (t === NLMSG_ERROR) this.onRunError(m);
      return; // else not ours (late answer after a timeout, or a notification)
    }
    if (t === NLMSG_ERROR) {
      let e;
      try {
        e = parseErrorPayload(m);
      } catch (err) {
        this.finish(p, err as Error);
        return;
      }
      this.finish(p, e.errno === 0 ? undefined : netlinkError(e.errno, p.seq, e.extack));
    } else if (t === NLMSG_DONE && p.dump) {
      this.finish(p, dumpDoneError(m, p.interrupted));
    } else if (t === NLMSG_NOOP || t === NLMSG_OVERRUN) {
      return;
    } else {
      if (m.header.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      (p.replies ??= []).push(m);
      if (!p.dump && !(m.header.flags & NLM_F_MULTI) && !p.ack) this.finish(p);
    }
  }

  private onRunError(m: Message): void {
    const seq = m.header.seq;
    for (const c of this.chunks) {
      const d = (seq - c.firstSeq!) >>> 0;
      if (d >= c.count!) continue;
      const e = parseErrorPayload(m);
      if (e.errno !== 0) this.runFailure(c.run!, c.first! + d, netlinkError(e.errno, seq, e.extack));
      return;
    }
  }

  /** Completes one request; every silent request sent before it has then succeeded. */
  private finish(p: Pending, err?: Error): void {
    if (p.done) return;
    p.done = true;
    if (this.inflight.delete(p.seq)) this.budgetUsed -= p.cost;
    if (p.dump) this.dumpRunning = false;
    if (p.run) this.finishChunk(p, err);
    else if (p.group) settle(p.group, p.index!, err ?? p.replies ?? NO_REPLIES);
    else if (err) p.reject!(err);
    else p.resolve!(p.replies ?? NO_REPLIES);
    while (this.silent.length && (this.silent[0].done || this.silent[0].order < p.order)) {
      const s = this.silent.shift()!;
      if (!s.done) this.finish(s);
    }
    // An acknowledged request sent before p and still unanswered never will be: the kernel
    // handles a socket's sends in order, and netlink_rcv_skb sends no ACK for a request whose
    // handler returned -EINTR (IPVS stopping a sync daemon whose thread had not run yet).
    let skipped: Pending[] | undefined;
    for (const q of this.inflight.values()) {
      if (q.order >= p.order) break;
      if (!q.done && !q.dump) (skipped ??= []).push(q);
    }
    if (skipped) for (const q of skipped) this.finish(q, netlinkError(EINTR, q.seq, undefined, 'the kernel sent no answer (it sends none for EINTR)'));
    if (this.inflight.size === 0 && this.queue.length === 0) {
      if (this.watchdog) clearTimeout(this.watchdog);
      this.watchdog = undefined;
      this.setReferenced(false);
    }
  }

  /**
   * A chunk is answered: the kernel handles a send in order, so its last message's ACK (or error)
   * comes after every failure of the messages before it. With a socket-level error (`err` not
   * from the kernel for the last message) the fate of the chunk's other messages is unknown.
   */
  private finishChunk(p: Pending, err?: Error): void {
    const run = p.run!;
    this.chunks.splice(this.chunks.indexOf(p), 1);
    run.chunks--;
    if (err) {
      const e = err instanceof NetlinkError ? err : netlinkError(EBADF, undefined, err.message);
      const known = err instanceof NetlinkError && err.seq === p.seq;
      const failed = new Set(run.failures.map((f) => f.index));
      for (let i = known ? p.first! + p.count! - 1 : p.first!; i < p.first! + p.count!; i++) if (!failed.has(i)) this.runFailure(run, i, e);
    }
    const queued = this.queue.some((q) => q.run === run);
    if (run.chunks === 0 && !queued) this.endRun(run);
  }

  private failAll(err: Error): void {
    for (const p of [...this.inflight.values()]) this.finish(p, err);
    for (const p of this.queue.splice(0)) {
      p.done = true;
      if (p.run) this.failRun(p.run, err);
      else if (p.group) settle(p.group, p.index!, err);
      else p.reject!(err);
    }
  }

  private armWatchdog(): void {
    if (this.watchdog) {
      this.watchdog.refresh();
      return;
    }
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.failAll(netlinkError(ETIMEDOUT, undefined, undefined, `no netlink answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  // An idle socket must not keep the process alive; one with requests in flight must.
  private setReferenced(on: boolean): void {
    if (this.closed || on === this.referenced) return;
    this.referenced = on;
    if (on) this.raw.ref();
    else this.raw.unref();
  }
}
