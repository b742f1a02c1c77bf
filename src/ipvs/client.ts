// IpvsClient over generic netlink. One socket for requests (batched by the socket layer) and a
// small pool for destination dumps, because the kernel runs one dump per socket at a time.
import { GenlSocket, genlAttrsStart, genlMessage, parseGenl } from '../netlink/genl';
import { Decoded, decode, decodeFrom, decodeView, encode } from '../netlink/schema';
import { RequestOptions, SocketOptions } from '../netlink/socket';
import { dumpEach } from '../netlink/dumps';
import { Message, NETLINK_GENERIC, Writer, parseMessages } from '../netlink/wire';
import {
  daemonAttrsOf,
  daemonFromAttrs,
  realServerAttrsOf,
  realServerFromAttrs,
  realServerKeyAttrs,
  serviceAttrsOf,
  serviceFromAttrs,
  serviceKeyAttrs,
  writeRealServer,
  writeService,
  writeServiceKey,
} from './codec';
import { IpvsRequest, ipvsError, openError } from './errors';
import { MalformedMessageError } from '../errors';
import { Cmd, DaemonState, IPVS_GENL_NAME, IPVS_GENL_VERSION, cmdAttrs, destAttrs, infoAttrs, serviceAttrs } from './spec';
import type {
  ApplyOptions,
  ApplyResult,
  IpvsClient,
  IpvsInfo,
  IpvsOp,
  ObservedRealServer,
  ObservedService,
  RealServer,
  RealServerKey,
  RealServerSummary,
  ServiceKey,
  SyncDaemon,
  SyncDaemonState,
  TableEntry,
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

/** The request message of one op (exported for tests and fixtures). */
export function opMessage(familyId: number, op: IpvsOp): Buffer {
  return Buffer.from(writeOps(familyId, [op]).buf);
}

/**
 * The messages of many ops, back to back in one buffer; message i ends at ends[i]. A restore
 * names each service on several messages in a row: its attribute is encoded once and repeated.
 */
export function writeOps(familyId: number, ops: readonly IpvsOp[]): { buf: Buffer; ends: Uint32Array } {
  // 144 bytes: a little more than an IPv4 NEW_DEST (140), so that a restore's buffer never grows
  const w = new Writer(Math.max(256, ops.length * 144));
  const ends = new Uint32Array(ops.length);
  let last: ServiceKey | undefined;
  let lastFrom = 0;
  let lastTo = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const key = opServiceKey(op);
    const at = w.beginMessage(familyId, 0);
    w.u8(OP_CMD[op.kind]);
    w.u8(IPVS_GENL_VERSION);
    w.u16(0);
    // IPVS_CMD_ATTR_SERVICE comes first in cmdAttrs, so writing it on its own gives the same bytes
    if (key && last && sameService(key, last)) w.repeat(lastFrom, lastTo);
    else if (key) {
      lastFrom = w.length;
      const nest = w.beginNest(CMD_SERVICE.type);
      writeServiceKey(w, key, IN_SERVICE);
      w.endNest(nest);
      lastTo = w.length;
      last = key;
    }
    // the commands of a restore written from their values; the others as attribute objects
    if (op.kind === 'add-service' || op.kind === 'edit-service') {
      const nest = w.beginNest(CMD_SERVICE.type);
      writeService(w, op.service, IN_SERVICE);
      w.endNest(nest);
    } else if ((op.kind === 'add-server' || op.kind === 'edit-server') && op.server.forward !== 'tunnel') {
      const nest = w.beginNest(CMD_DEST.type);
      writeRealServer(w, op.server, IN_DEST);
      w.endNest(nest);
    } else encode(w, cmdAttrs, opAttrs(op));
    w.endMessage(at);
    ends[i] = w.length;
  }
  return { buf: w.view(), ends };
}

const CMD_SERVICE = cmdAttrs.attrs.find((a) => a.name === 'service')!;
const CMD_DEST = cmdAttrs.attrs.find((a) => a.name === 'dest')!;
// where encode() would name them in errors
const IN_SERVICE = `${cmdAttrs.name} > ${CMD_SERVICE.kernel}`;
const IN_DEST = `${cmdAttrs.name} > ${CMD_DEST.kernel}`;

function sameService(a: ServiceKey, b: ServiceKey): boolean {
  return a === b || (a.family === b.family && a.fwmark === b.fwmark && a.protocol === b.protocol && a.port === b.port && a.address === b.address);
}

/** The messages of many ops, as views into one buffer. */
export function opMessages(familyId: number, ops: readonly IpvsOp[]): Buffer[] {
  const { buf, ends } = writeOps(familyId, ops);
  return Array.from(ends, (end, i) => buf.subarray(i ? ends[i - 1] : 0, end));
}

const OP_CMD: Record<IpvsOp['kind'], number> = {
  'add-service': Cmd.NEW_SERVICE,
  'edit-service': Cmd.SET_SERVICE,
  'delete-service': Cmd.DEL_SERVICE,
  'add-server': Cmd.NEW_DEST,
  'edit-server': Cmd.SET_DEST,
  'delete-server': Cmd.DEL_DEST,
  zero: Cmd.ZERO,
  flush: Cmd.FLUSH,
  'set-timeouts': Cmd.SET_CONFIG,
  'start-daemon': Cmd.NEW_DAEMON,
  'stop-daemon': Cmd.DEL_DAEMON,
};

/** The service key an op's IPVS_CMD_ATTR_SERVICE holds, when it holds only the key. */
function opServiceKey(op: IpvsOp): ServiceKey | undefined {
  switch (op.kind) {
    case 'delete-service':
    case 'add-server':
    case 'edit-server':
    case 'delete-server':
    case 'zero':
      return op.service;
    default:
      return undefined;
  }
}

/** An op's attributes other than a key-only IPVS_CMD_ATTR_SERVICE. */
function opAttrs(op: IpvsOp): CmdAttrs {
  switch (op.kind) {
    case 'add-service':
    case 'edit-service':
      return { service: serviceAttrsOf(op.service) };
    case 'add-server':
    case 'edit-server':
      return { dest: realServerAttrsOf(op.server) };
    case 'delete-server':
      return { dest: realServerKeyAttrs(op.server) };
    case 'set-timeouts':
      return { timeoutTcp: op.timeouts.tcp, timeoutTcpFin: op.timeouts.tcpFin, timeoutUdp: op.timeouts.udp };
    case 'start-daemon':
      return { daemon: daemonAttrsOf(op.daemon) };
    case 'stop-daemon':
      return { daemon: { state: DaemonState[op.state] } };
    default:
      return NO_ATTRS;
  }
}

const NO_ATTRS: CmdAttrs = Object.freeze({});

function attrsOf(m: Message): CmdAttrs {
  return decode(cmdAttrs, parseGenl(m).attrs);
}

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

/** n GET_DEST dump requests in one buffer (not one buffer each); writeKey writes service i's key attributes. */
function destDumpRequests(familyId: number, n: number, writeKey: (w: Writer, i: number) => void): { buf: Buffer; ends: Uint32Array } {
  const w = new Writer(Math.max(256, n * 64));
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const at = w.beginMessage(familyId, 0);
    w.u8(Cmd.GET_DEST);
    w.u8(IPVS_GENL_VERSION);
    w.u16(0);
    const nest = w.beginNest(CMD_SERVICE.type);
    writeKey(w, i);
    w.endNest(nest);
    w.endMessage(at);
    ends[i] = w.length;
  }
  return { buf: w.view(), ends };
}

/** A service dump's parts, the services (exported for the replay bench: the listing's decoding). */
export function servicesOf(parts: readonly Message[]): ObservedService[] {
  return parts.map((m) => serviceFromAttrs(countedAttrsOf(m).service ?? {}));
}

/** A destination dump's parts, the real servers of the service `key` (exported as servicesOf). */
export function realServersOf(parts: readonly Message[], key: ServiceKey): ObservedRealServer[] {
  return parts.map((m) => realServerFromAttrs(countedAttrsOf(m).dest ?? {}, key.family));
}

export class NetlinkIpvsClient implements IpvsClient {
  private readonly dumpPool: GenlSocket[] = [];
  private readonly poolSize: number;

  constructor(
    private readonly sock: GenlSocket,
    readonly familyId: number,
    private readonly opts: IpvsClientOptions = {},
  ) {
    this.poolSize = Math.max(1, opts.dumpSockets ?? 8);
  }

  private async request(req: IpvsRequest, cmd: number, attrs: CmdAttrs = {}, opts: RequestOptions = {}): Promise<Message[]> {
    try {
      return await this.sock.request(genlMessage(this.familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs), opts);
    } catch (err) {
      throw ipvsError(req, err);
    }
  }

  /** A GET that is not a dump: the kernel answers with its one reply (or an error), no ACK. */
  private async get(req: IpvsRequest, cmd: number, attrs: CmdAttrs = {}): Promise<Message> {
    const [reply] = await this.request(req, cmd, attrs, { oneReply: true });
    if (!reply) throw new MalformedMessageError(`IPVS command ${cmd}: the kernel answered without a reply`);
    return reply;
  }

  private async dump(req: IpvsRequest, cmd: number, attrs: CmdAttrs = {}, sock = this.sock, msg?: Buffer): Promise<Message[]> {
    try {
      return await sock.dump(msg ?? genlMessage(this.familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs));
    } catch (err) {
      throw ipvsError(req, err);
    }
  }

  private async run(op: IpvsOp): Promise<void> {
    try {
      await this.sock.request(opMessage(this.familyId, op));
    } catch (err) {
      throw ipvsError(op, err);
    }
  }

  async info(): Promise<IpvsInfo> {
    const reply = await this.get({ kind: 'info' }, Cmd.GET_INFO);
    const a = decode(infoAttrs, parseGenl(reply).attrs);
    return { version: a.version ?? 0, connectionTableSize: a.connTabSize ?? 0 };
  }

  async listServices(): Promise<ObservedService[]> {
    return servicesOf(await this.dump({ kind: 'list-services' }, Cmd.GET_SERVICE));
  }

  async getService(key: ServiceKey): Promise<ObservedService> {
    const reply = await this.get({ kind: 'get-service', service: key }, Cmd.GET_SERVICE, { service: serviceKeyAttrs(key) });
    return serviceFromAttrs(countedAttrsOf(reply).service ?? {});
  }

  addService(svc: VirtualService): Promise<void> {
    return this.run({ kind: 'add-service', service: svc });
  }
  editService(svc: VirtualService): Promise<void> {
    return this.run({ kind: 'edit-service', service: svc });
  }
  deleteService(key: ServiceKey): Promise<void> {
    return this.run({ kind: 'delete-service', service: key });
  }

  async listRealServers(key: ServiceKey): Promise<ObservedRealServer[]> {
    return this.destsOf(key, this.sock);
  }

  private async destsOf(key: ServiceKey, sock: GenlSocket, msg?: Buffer): Promise<ObservedRealServer[]> {
    const parts = await this.dump({ kind: 'list-servers', service: key }, Cmd.GET_DEST, { service: serviceKeyAttrs(key) }, sock, msg);
    return realServersOf(parts, key);
  }

  addRealServer(svc: ServiceKey, rs: RealServer): Promise<void> {
    return this.run({ kind: 'add-server', service: svc, server: rs });
  }
  editRealServer(svc: ServiceKey, rs: RealServer): Promise<void> {
    return this.run({ kind: 'edit-server', service: svc, server: rs });
  }
  deleteRealServer(svc: ServiceKey, rs: RealServerKey): Promise<void> {
    return this.run({ kind: 'delete-server', service: svc, server: rs });
  }

  async getTimeouts(): Promise<Timeouts> {
    const reply = await this.get({ kind: 'get-timeouts' }, Cmd.GET_CONFIG);
    const a = attrsOf(reply);
    return { tcp: a.timeoutTcp ?? 0, tcpFin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
  }
  setTimeouts(t: Timeouts): Promise<void> {
    return this.run({ kind: 'set-timeouts', timeouts: t });
  }

  async listSyncDaemons(): Promise<SyncDaemon[]> {
    const parts = await this.dump({ kind: 'list-daemons' }, Cmd.GET_DAEMON);
    return parts.map((m) => daemonFromAttrs(attrsOf(m).daemon ?? {}));
  }
  async startSyncDaemon(d: SyncDaemon): Promise<void> {
    await this.request({ kind: 'start-daemon', daemon: d }, Cmd.NEW_DAEMON, { daemon: daemonAttrsOf(d) });
  }
  async stopSyncDaemon(state: SyncDaemonState): Promise<void> {
    await this.request({ kind: 'stop-daemon', state }, Cmd.DEL_DAEMON, { daemon: { state: DaemonState[state] } });
  }

  zero(key?: ServiceKey): Promise<void> {
    return this.run({ kind: 'zero', service: key });
  }
  flush(): Promise<void> {
    return this.run({ kind: 'flush' });
  }

  /** One service dump, then destination dumps spread over a pool of sockets. */
  async listTable(): Promise<TableEntry[]> {
    const services = await this.listServices();
    const out: TableEntry[] = services.map((service) => ({ service, realServers: [] }));
    await this.fillRealServers(out);
    return out;
  }

  /**
   * Destination dumps for the given services (full ObservedRealServers, so TableEntry[] fits
   * too): in C one after another when it is built, else spread over a pool of sockets.
   */
  private async fillRealServers(out: readonly { service: { key: ServiceKey }; realServers: RealServerSummary[] }[]): Promise<void> {
    if (out.length === 0) return;
    const { buf: requests, ends } = destDumpRequests(this.familyId, out.length, (w, i) => writeServiceKey(w, out[i].service.key, IN_SERVICE));
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
  async apply(ops: readonly IpvsOp[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    const { buf, ends } = writeOps(this.familyId, ops);
    const run = await this.sock.sendRun(buf, ends, { stopOnError: opts.stopOnError });
    const failed = run.failures.map((f) => ({ index: f.index, op: ops[f.index], error: ipvsError(ops[f.index], f.error) }));
    return { applied: run.sent - failed.length, failed, skipped: ops.length - run.sent };
  }

  close(): void {
    this.sock.close();
    for (const s of this.dumpPool.splice(0)) s.close();
  }
}
