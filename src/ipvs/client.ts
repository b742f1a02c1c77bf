// The kernel's IPVS over generic netlink: the Ipvs interface (reads, and apply, the one way a
// change reaches the kernel), plus the two reads a listing needs in its own shape. One socket
// for requests (batched by the socket layer) and a small pool for destination dumps, because
// the kernel runs one dump per socket at a time.
import { GenlSocket, genlAttrsStart, genlMessage, parseGenl } from '../netlink/genl';
import { Decoded, decode, decodeFrom, decodeView } from '../netlink/schema';
import { RequestOptions, SocketOptions } from '../netlink/socket';
import { dumpEach } from '../netlink/dumps';
import { Message, NETLINK_GENERIC, parseMessages } from '../netlink/wire';
import { daemonFromAttrs, realServerFromAttrs, serviceFromAttrs, serviceKeyRequest, writeOps } from './codec';
import { IpvsRequest, ipvsError, openError } from './errors';
import { Serial } from './serial';
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
  ServiceEntry,
  ServiceKey,
  SyncDaemon,
  TableEntry,
  Timeouts,
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

/** A service or destination reply's attributes; the 32-bit counters only where no 64-bit ones came (exported for tests). */
export function countedAttrsOf(m: Message): CmdAttrs {
  const a = decodeFrom(cmdAttrsNoStats32, m.payload, genlAttrsStart(m));
  const counted = a.service ?? a.dest;
  return counted && !counted.stats64 ? attrsOf(m) : a;
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
export function servicesOf(parts: readonly Message[]): ObservedService[] {
  return parts.map((m) => serviceFromAttrs(countedAttrsOf(m).service ?? {}));
}

/** A destination dump's parts, the real servers of the service `key` (exported as servicesOf). */
export function realServersOf(parts: readonly Message[], key: ServiceKey): ObservedRealServer[] {
  return parts.map((m) => realServerFromAttrs(countedAttrsOf(m).dest ?? {}, key.family));
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

  /** Every service with its real servers, identity apart from counters. */
  async readTable(): Promise<ServiceEntry[]> {
    return (await this.listTable()).map(({ service: { stats, ...service }, realServers }) => ({
      service,
      observed: { stats },
      realServers: realServers.map(({ activeConns, inactiveConns, persistentConns, stats, ...server }) => ({
        server,
        observed: { activeConns, inactiveConns, persistentConns, stats },
      })),
    }));
  }

  async readTimeouts(): Promise<Timeouts> {
    const a = attrsOf(await this.get({ kind: 'get-timeouts' }, this.bare(Cmd.GET_CONFIG)));
    return { tcp: a.timeoutTcp ?? 0, tcpFin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
  }

  async readSyncDaemons(): Promise<SyncDaemon[]> {
    const parts = await this.dump({ kind: 'list-daemons' }, this.bare(Cmd.GET_DAEMON));
    return parts.map((m) => daemonFromAttrs(attrsOf(m).daemon ?? {}));
  }

  /**
   * Every service with its real servers in the listing's shape (counters beside settings): one
   * service dump, then destination dumps spread over a pool of sockets.
   */
  async listTable(): Promise<TableEntry[]> {
    const services = servicesOf(await this.dump({ kind: 'list-services' }, this.bare(Cmd.GET_SERVICE)));
    const out: TableEntry[] = services.map((service) => ({ service, realServers: [] }));
    await this.fillRealServers(out);
    return out;
  }

  /**
   * Destination dumps for the given services (full ObservedRealServers, so TableEntry[] fits
   * too): in C one after another when it is built, else spread over a pool of sockets.
   */
  private async fillRealServers(out: readonly TableEntry[]): Promise<void> {
    if (out.length === 0) return;
    const { buf: requests, ends } = destDumpRequests(this.familyId, out.map((e) => e.service.key));
    const replies = await dumpEach(NETLINK_GENERIC, requests, ends);
    if (replies) {
      for (let i = 0; i < out.length; i++) {
        const key = out[i].service.key;
        const r = replies[i];
        if (!r.ok) throw ipvsError({ kind: 'list-servers', service: key }, r.error);
        out[i].realServers = realServersOf(parseMessages(r.parts), key);
      }
      return;
    }
    while (this.dumpPool.length < Math.min(this.poolSize, out.length)) this.dumpPool.push(new GenlSocket(this.opts));
    let next = 0;
    const worker = async (sock: GenlSocket) => {
      while (next < out.length) {
        const i = next++;
        const msg = requests.subarray(i ? ends[i - 1] : 0, ends[i]);
        out[i].realServers = await this.destsOf(out[i].service.key, sock, msg);
      }
    };
    await Promise.all(this.dumpPool.slice(0, Math.min(this.poolSize, out.length)).map(worker));
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
