// The kernel's IPVS over generic netlink: the Ipvs interface (reads, and apply, the one way a
// change reaches the kernel), plus the reads a listing needs in its own shape. One socket for
// requests (batched by the socket layer) and a small pool for destination dumps, because the
// kernel runs one dump per socket at a time (or the C transport, which runs them one after another).
import { GenlSocket, genlAttrsStart, genlMessage, mapGenlAttrs, parseGenl } from '../netlink/genl';
import { Decoded, decode, decodeSpan, decodeView } from '../netlink/schema';
import { RequestOptions, SocketOptions } from '../netlink/socket';
import { dumpReplies, replyOutcome, type DumpReplies } from '../netlink/dumps';
import { Message, NETLINK_GENERIC } from '../netlink/wire';
import { daemonFromAttrs, realServerFromAttrs, realServerSettingsFromAttrs, serviceFromAttrs, serviceKeyRequest, virtualServiceFromAttrs, writeOps } from './codec';
import { IpvsRequest, ipvsError, openError } from './errors';
import { Serial } from './serial';
import { readIpvsSysctl, writeIpvsSysctl } from './sysctl';
import { MalformedMessageError } from '../errors';
import { Cmd, IPVS_GENL_NAME, IPVS_GENL_VERSION, cmdAttrs, destAttrs, infoAttrs, serviceAttrs } from './spec';
import type {
  ApplyOptions,
  ApplyResult,
  Ipvs,
  IpvsInfo,
  IpvsOp,
  ObservedRealServer,
  ObservedService,
  RealServerSummary,
  ServiceEntry,
  ServiceKey,
  SyncDaemon,
  TableEntry,
  TableView,
  Timeouts,
  VirtualService,
} from './types';

type CmdAttrs = Decoded<typeof cmdAttrs>;

export interface IpvsClientOptions extends SocketOptions {
  /** sockets used side by side for destination dumps in listTable (default 8) */
  dumpSockets?: number;
}

/** Opens a client; rejects with IpvsUnavailableError when the kernel has no IPVS family. */
export async function openIpvs(opts: IpvsClientOptions = {}): Promise<NetlinkIpvsClient> {
  const sock = new GenlSocket(opts);
  try {
    const family = await sock.family(IPVS_GENL_NAME);
    return new NetlinkIpvsClient(sock, family.id, opts);
  } catch (err) {
    sock.close();
    throw openError(err);
  }
}

/** The request message of one op (for tests and fixtures). */
export function opMessage(familyId: number, op: IpvsOp): Buffer {
  return Buffer.from(writeOps(familyId, [op]).buf);
}

/** The messages of many ops, as views into one buffer. */
export function opMessages(familyId: number, ops: readonly IpvsOp[]): Buffer[] {
  const { buf, ends } = writeOps(familyId, ops);
  return Array.from(ends, (end, i) => buf.subarray(i ? ends[i - 1] : 0, end));
}

function attrsOf(m: Message): CmdAttrs {
  return decode(cmdAttrs, parseGenl(m).attrs);
}

const EINTR = 4;

// Kernels since 4.1 send every counter set twice, 32- and 64-bit; codec.ts reads the 64-bit one.
const cmdAttrsNoStats32 = decodeView(cmdAttrs, {
  nested: { service: decodeView(serviceAttrs, { skip: ['stats'] }), dest: decodeView(destAttrs, { skip: ['stats'] }) },
});

/** A service or destination reply's attributes, buf[start..end); the 32-bit counters only where no 64-bit ones came. */
function countedAttrs(buf: Buffer, start: number, end: number): CmdAttrs {
  const a = decodeSpan(cmdAttrsNoStats32, buf, start, end);
  const counted = a.service ?? a.dest;
  return counted && !counted.stats64 ? decodeSpan(cmdAttrs, buf, start, end) : a;
}

// The default listing shows no counters: its services and real servers are decoded without them.
const cmdAttrsNoStats = decodeView(cmdAttrs, {
  nested: { service: decodeView(serviceAttrs, { skip: ['stats', 'stats64'] }), dest: decodeView(destAttrs, { skip: ['stats', 'stats64'] }) },
});

/** One message's attributes without counters. */
function settingsAttrsOf(m: Message): CmdAttrs {
  return decodeSpan(cmdAttrsNoStats, m.payload, genlAttrsStart(m), m.payload.length);
}

/** countedAttrs of one message (exported for tests). */
export function countedAttrsOf(m: Message): CmdAttrs {
  return countedAttrs(m.payload, genlAttrsStart(m), m.payload.length);
}

/** GET_DEST dump requests for the given services, back to back in one buffer. */
function destDumpRequests(familyId: number, keys: readonly ServiceKey[]): { buf: Buffer; ends: Uint32Array } {
  const msgs = keys.map((k) => serviceKeyRequest(familyId, Cmd.GET_DEST, k));
  const ends = new Uint32Array(msgs.length);
  let end = 0;
  msgs.forEach((m, i) => (ends[i] = end += m.length));
  return { buf: Buffer.concat(msgs), ends };
}

/** A service dump's parts, the services (exported for the replay bench: the listing's decoding). */
export function servicesOf(parts: readonly Message[]): Promise<ObservedService[]> {
  return mapInTurns(parts, (m) => serviceFromAttrs(countedAttrsOf(m).service ?? {}));
}

/** servicesOf without counters. */
export function serviceSettingsOf(parts: readonly Message[]): Promise<VirtualService[]> {
  return mapInTurns(parts, (m) => virtualServiceFromAttrs(settingsAttrsOf(m).service ?? {}));
}

/** A destination dump's parts, the real servers of the service `key`. */
export function realServersOf(parts: readonly Message[], key: ServiceKey): ObservedRealServer[] {
  return parts.map((m) => realServerFromAttrs(countedAttrsOf(m).dest ?? {}, key.family));
}

/** realServersOf a destination dump's parts as they came, back to back in one buffer. */
function realServersIn(parts: Buffer, key: ServiceKey): ObservedRealServer[] {
  return mapGenlAttrs(parts, (buf, start, end) => realServerFromAttrs(countedAttrs(buf, start, end).dest ?? {}, key.family));
}

/** realServersIn without counters. */
function realServerSettingsIn(parts: Buffer, key: ServiceKey): RealServerSummary[] {
  return mapGenlAttrs(parts, (buf, start, end) => realServerSettingsFromAttrs(decodeSpan(cmdAttrsNoStats, buf, start, end).dest ?? {}, key.family));
}

/**
 * The table of `services` whose destination dumps answered `replies` (in the same order): service
 * i's real servers are decoded from its reply on each call (exported for the replay bench). A
 * failed dump fails here, before any line is printed.
 */
export async function tableOfReplies(services: ObservedService[], replies: DumpReplies): Promise<TableView> {
  const parts = await replyParts(services, replies);
  return { services, realServers: (i) => realServersIn(parts[i], services[i].key) };
}

/** tableOfReplies without counters. */
export async function summaryOfReplies(services: VirtualService[], replies: DumpReplies): Promise<TableView<VirtualService, RealServerSummary>> {
  const parts = await replyParts(services, replies);
  return { services, realServers: (i) => realServerSettingsIn(parts[i], services[i].key) };
}

function replyParts(services: readonly VirtualService[], replies: DumpReplies): Promise<Buffer[]> {
  return mapInTurns(services, (service, i) => {
    const r = replyOutcome(replies, i);
    if (!r.ok) throw ipvsError({ kind: 'list-servers', service: service.key }, r.error);
    return r.parts;
  });
}

/** Wall time a table read decodes for before it lets the event loop run (a director's checks wait meanwhile). */
const DECODE_TURN_MS = 5;

/**
 * items.map(fn), letting the event loop run every DECODE_TURN_MS: a table read decodes 50,000
 * entries, a few hundred ms of work, too long to hold a director's checks.
 */
async function mapInTurns<T, U>(items: readonly T[], fn: (item: T, i: number) => U): Promise<U[]> {
  const out: U[] = new Array(items.length);
  let turn = performance.now();
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i], i);
    if ((i & 15) === 15 && performance.now() - turn > DECODE_TURN_MS) {
      await new Promise(setImmediate);
      turn = performance.now();
    }
  }
  return out;
}

/** A table's entries with identity apart from counters, what readTable returns (exported for the replay bench). */
export function entriesOf(table: TableView): Promise<ServiceEntry[]> {
  return mapInTurns(table.services, ({ stats, ...service }, i) => ({
    service,
    observed: { stats },
    realServers: table.realServers(i).map(({ activeConns, inactiveConns, persistentConns, stats, ...server }) => ({
      server,
      observed: { activeConns, inactiveConns, persistentConns, stats },
    })),
  }));
}

export class NetlinkIpvsClient implements Ipvs {
  private readonly dumpPool: GenlSocket[] = [];
  private readonly writes = new Serial();
  private readonly poolSize: number;

  constructor(
    private readonly sock: GenlSocket,
    readonly familyId: number,
    private readonly opts: IpvsClientOptions = {},
  ) {
    this.poolSize = Math.max(1, opts.dumpSockets ?? 8);
  }

  /** A request without attributes (GET_INFO, GET_CONFIG, a GET_SERVICE or GET_DAEMON dump). */
  private bare(cmd: number): Buffer {
    return genlMessage(this.familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, {});
  }

  /** A GET that is not a dump: the kernel answers with its one reply (or an error), no ACK. */
  private async get(req: IpvsRequest, msg: Buffer, opts: RequestOptions = { oneReply: true }): Promise<Message> {
    let reply: Message | undefined;
    try {
      [reply] = await this.sock.request(msg, opts);
    } catch (err) {
      throw ipvsError(req, err);
    }
    if (!reply) throw new MalformedMessageError(`IPVS ${req.kind}: the kernel answered without a reply`);
    return reply;
  }

  private async dump(req: IpvsRequest, msg: Buffer, sock = this.sock): Promise<Message[]> {
    try {
      return await sock.dump(msg);
    } catch (err) {
      throw ipvsError(req, err);
    }
  }

  async info(): Promise<IpvsInfo> {
    const reply = await this.get({ kind: 'info' }, this.bare(Cmd.GET_INFO));
    const a = decode(infoAttrs, parseGenl(reply).attrs);
    return { version: a.version ?? 0, connectionTableSize: a.connTabSize ?? 0 };
  }

  /** One service with its real servers, in the listing's shape (a listing of one service). */
  async listService(key: ServiceKey): Promise<TableEntry> {
    const [reply, realServers] = await Promise.all([
      this.get({ kind: 'get-service', service: key }, serviceKeyRequest(this.familyId, Cmd.GET_SERVICE, key)),
      this.destsOf(key, this.sock),
    ]);
    return { service: serviceFromAttrs(countedAttrsOf(reply).service ?? {}), realServers };
  }

  private async destsOf(key: ServiceKey, sock: GenlSocket, msg?: Buffer): Promise<ObservedRealServer[]> {
    const parts = await this.dump({ kind: 'list-servers', service: key }, msg ?? serviceKeyRequest(this.familyId, Cmd.GET_DEST, key), sock);
    return realServersOf(parts, key);
  }

  private async destSettingsOf(key: ServiceKey, sock: GenlSocket, msg: Buffer): Promise<RealServerSummary[]> {
    const parts = await this.dump({ kind: 'list-servers', service: key }, msg, sock);
    return parts.map((m) => realServerSettingsFromAttrs(settingsAttrsOf(m).dest ?? {}, key.family));
  }

  /** Every service with its real servers, identity apart from counters. */
  async readTable(): Promise<ServiceEntry[]> {
    return entriesOf(await this.readListing());
  }

  async readTimeouts(): Promise<Timeouts> {
    const a = attrsOf(await this.get({ kind: 'get-timeouts' }, this.bare(Cmd.GET_CONFIG)));
    return { tcp: a.timeoutTcp ?? 0, tcpFin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
  }

  async readSyncDaemons(): Promise<SyncDaemon[]> {
    const parts = await this.dump({ kind: 'list-daemons' }, this.bare(Cmd.GET_DAEMON));
    return parts.map((m) => daemonFromAttrs(attrsOf(m).daemon ?? {}));
  }

  readSysctl(name: string): Promise<number> {
    return readIpvsSysctl(name);
  }

  /** serialised with apply(): a setting changes between batches, not during one */
  writeSysctl(name: string, value: number): Promise<void> {
    return this.writes.run(() => writeIpvsSysctl(name, value));
  }

  /** Every service with its real servers in the listing's shape (counters beside settings). */
  async listTable(): Promise<TableEntry[]> {
    const table = await this.readListing();
    return table.services.map((service, i) => ({ service, realServers: [...table.realServers(i)] }));
  }

  /**
   * The table as a listing prints it: one service dump, then a destination dump per service, run
   * in C one after another when it is built (their replies decoded per service when asked), else
   * spread over a pool of sockets. With counters false (the default columns), nothing decodes
   * the counters: a third less decoding, and none of their BigInts.
   */
  readListing(): Promise<TableView>;
  readListing(opts: { counters: false }): Promise<TableView<VirtualService, RealServerSummary>>;
  async readListing(opts: { counters?: boolean } = {}): Promise<TableView<VirtualService, RealServerSummary>> {
    const counters = opts.counters !== false;
    const dump = await this.dump({ kind: 'list-services' }, this.bare(Cmd.GET_SERVICE));
    const services = counters ? await servicesOf(dump) : await serviceSettingsOf(dump);
    if (services.length === 0) return { services, realServers: () => [] };
    const { buf: requests, ends } = destDumpRequests(this.familyId, services.map((s) => s.key));
    const replies = await dumpReplies(NETLINK_GENERIC, requests, ends);
    if (replies) return counters ? tableOfReplies(services as ObservedService[], replies) : summaryOfReplies(services, replies);
    while (this.dumpPool.length < Math.min(this.poolSize, services.length)) this.dumpPool.push(new GenlSocket(this.opts));
    const realServers: RealServerSummary[][] = new Array(services.length);
    let next = 0;
    const worker = async (sock: GenlSocket) => {
      while (next < services.length) {
        const i = next++;
        const msg = requests.subarray(i ? ends[i - 1] : 0, ends[i]);
        realServers[i] = counters ? await this.destsOf(services[i].key, sock, msg) : await this.destSettingsOf(services[i].key, sock, msg);
      }
    };
    await Promise.all(this.dumpPool.slice(0, Math.min(this.poolSize, services.length)).map(worker));
    return { services, realServers: (i) => realServers[i] };
  }

  /**
   * Sends ops in order, many per sendmsg, without an ACK per op (success of an op is known from
   * the ACK of the last one of its send); reports each failure by index. Every op is encoded
   * before any is sent, so bad input applies nothing. With stopOnError nothing more is sent
   * once an op has failed; what was already sent completes (at most one send's worth).
   */
  apply(ops: readonly IpvsOp[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    // one batch at a time: a second caller's ops reach the kernel after the first's have completed
    return this.writes.run(async () => {
      const { buf, ends } = writeOps(this.familyId, ops);
      const sent = this.sock.sendRun(buf, ends, { stopOnError: opts.stopOnError });
      // Stopping a sync daemon whose kernel thread has not run yet stops it and returns -EINTR,
      // which netlink answers with nothing at all: a GET_INFO sent after the run ends the wait
      // (the socket then reports the unanswered op as EINTR).
      const stops = ops.some((op) => op.kind === 'stop-daemon');
      if (stops) void this.sock.request(this.bare(Cmd.GET_INFO), { oneReply: true }).catch(() => undefined);
      const run = await sent;
      const failures = stops ? run.failures.filter((f) => !(ops[f.index].kind === 'stop-daemon' && f.error.errno === EINTR)) : run.failures;
      const failed = failures.map((f) => ({ index: f.index, op: ops[f.index], error: ipvsError(ops[f.index], f.error) }));
      return { applied: run.sent - failed.length, failed, skipped: ops.length - run.sent };
    });
  }

  close(): void {
    this.sock.close();
    for (const s of this.dumpPool.splice(0)) s.close();
  }
}
