// IpvsClient over generic netlink. One socket for requests (batched by the socket layer) and a
// small pool for destination dumps, because the kernel runs one dump per socket at a time.
import { GenlSocket, genlMessage, parseGenl, writeGenl } from '../netlink/genl';
import { Decoded, decode } from '../netlink/schema';
import { SocketOptions } from '../netlink/socket';
import { Message, Writer } from '../netlink/wire';
import {
  daemonAttrsOf,
  daemonFromAttrs,
  realServerAttrsOf,
  realServerFromAttrs,
  realServerKeyAttrs,
  serviceAttrsOf,
  serviceFromAttrs,
  serviceKeyAttrs,
} from './codec';
import { IpvsRequest, ipvsError, openError } from './errors';
import { Cmd, DaemonState, IPVS_GENL_NAME, IPVS_GENL_VERSION, cmdAttrs, infoAttrs } from './spec';
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
  const [cmd, attrs] = opCommand(op);
  return genlMessage(familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs);
}

/** The messages of many ops, written into one buffer (one allocation for a whole restore). */
export function opMessages(familyId: number, ops: readonly IpvsOp[]): Buffer[] {
  const w = new Writer(Math.max(256, ops.length * 96));
  const ends: number[] = [];
  for (const op of ops) {
    const [cmd, attrs] = opCommand(op);
    writeGenl(w, familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs);
    ends.push(w.length);
  }
  const all = w.view();
  return ends.map((end, i) => all.subarray(i ? ends[i - 1] : 0, end));
}

function opCommand(op: IpvsOp): [number, CmdAttrs] {
  switch (op.kind) {
    case 'add-service':
      return [Cmd.NEW_SERVICE, { service: serviceAttrsOf(op.service) }];
    case 'edit-service':
      return [Cmd.SET_SERVICE, { service: serviceAttrsOf(op.service) }];
    case 'delete-service':
      return [Cmd.DEL_SERVICE, { service: serviceKeyAttrs(op.service) }];
    case 'add-server':
      return [Cmd.NEW_DEST, { service: serviceKeyAttrs(op.service), dest: realServerAttrsOf(op.server) }];
    case 'edit-server':
      return [Cmd.SET_DEST, { service: serviceKeyAttrs(op.service), dest: realServerAttrsOf(op.server) }];
    case 'delete-server':
      return [Cmd.DEL_DEST, { service: serviceKeyAttrs(op.service), dest: realServerKeyAttrs(op.server) }];
    case 'zero':
      return [Cmd.ZERO, op.service ? { service: serviceKeyAttrs(op.service) } : {}];
    case 'flush':
      return [Cmd.FLUSH, {}];
    case 'set-timeouts':
      return [Cmd.SET_CONFIG, { timeoutTcp: op.timeouts.tcp, timeoutTcpFin: op.timeouts.tcpFin, timeoutUdp: op.timeouts.udp }];
  }
}

function attrsOf(m: Message): CmdAttrs {
  return decode(cmdAttrs, parseGenl(m).attrs);
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

  private async request(req: IpvsRequest, cmd: number, attrs: CmdAttrs = {}): Promise<Message[]> {
    try {
      return await this.sock.request(genlMessage(this.familyId, cmd, IPVS_GENL_VERSION, cmdAttrs, attrs));
    } catch (err) {
      throw ipvsError(req, err);
    }
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
    const [reply] = await this.request({ kind: 'info' }, Cmd.GET_INFO);
    const a = decode(infoAttrs, parseGenl(reply).attrs);
    return { version: a.version ?? 0, connectionTableSize: a.connTabSize ?? 0 };
  }

  async listServices(): Promise<ObservedService[]> {
    const parts = await this.dump({ kind: 'list-services' }, Cmd.GET_SERVICE);
    return parts.map((m) => serviceFromAttrs(attrsOf(m).service ?? {}));
  }

  async getService(key: ServiceKey): Promise<ObservedService> {
    const [reply] = await this.request({ kind: 'get-service', service: key }, Cmd.GET_SERVICE, { service: serviceKeyAttrs(key) });
    return serviceFromAttrs(attrsOf(reply).service ?? {});
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
    return parts.map((m) => realServerFromAttrs(attrsOf(m).dest ?? {}, key.family));
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
    const [reply] = await this.request({ kind: 'get-timeouts' }, Cmd.GET_CONFIG);
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
    while (this.dumpPool.length < Math.min(this.poolSize, services.length)) this.dumpPool.push(new GenlSocket(this.opts));
    const out: TableEntry[] = services.map((service) => ({ service, realServers: [] }));
    // every destination dump request, written into one buffer (not one buffer per request)
    const w = new Writer(Math.max(256, services.length * 64));
    const ends = services.map((svc) => {
      writeGenl(w, this.familyId, Cmd.GET_DEST, IPVS_GENL_VERSION, cmdAttrs, { service: serviceKeyAttrs(svc.key) });
      return w.length;
    });
    const requests = w.view();
    let next = 0;
    const worker = async (sock: GenlSocket) => {
      while (next < out.length) {
        const i = next++;
        const msg = requests.subarray(i ? ends[i - 1] : 0, ends[i]);
        out[i].realServers = await this.destsOf(out[i].service.key, sock, msg);
      }
    };
    await Promise.all(this.dumpPool.slice(0, Math.min(this.poolSize, services.length)).map(worker));
    return out;
  }

  /**
   * Sends ops in order, many per sendmsg, without an ACK per op (success of an op is known from
   * the ACK of a later one); reports each failure by index. Every op is encoded before any is
   * sent, so bad input applies nothing. With stopOnError, ops go in half-window slices with one
   * slice in reserve, so at most one slice beyond the first failure has been sent.
   */
  async apply(ops: readonly IpvsOp[], opts: ApplyOptions = {}): Promise<ApplyResult> {
    const msgs = opMessages(this.familyId, ops);
    const result: ApplyResult = { applied: 0, failed: [], skipped: 0 };
    const slice = opts.stopOnError ? Math.max(1, Math.floor(this.sock.silentCapacity / 2)) : Math.max(1, ops.length);
    let next = 0;
    const launch = () => {
      const first = next;
      next += slice;
      return this.sock.batch(msgs.slice(first, first + slice), { ack: false }).then((outcomes) => ({ first, outcomes }));
    };
    const inFlight = [launch()];
    if (next < ops.length) inFlight.push(launch());
    while (inFlight.length) {
      const { first, outcomes } = await inFlight.shift()!;
      outcomes.forEach((o, i) => {
        if (o.ok) result.applied++;
        else result.failed.push({ index: first + i, op: ops[first + i], error: ipvsError(ops[first + i], o.error) });
      });
      const stop = opts.stopOnError && result.failed.length > 0;
      if (!stop && next < ops.length) inFlight.push(launch());
    }
    result.failed.sort((a, b) => a.index - b.index);
    result.skipped = Math.max(0, ops.length - next);
    return result;
  }

  close(): void {
    this.sock.close();
    for (const s of this.dumpPool.splice(0)) s.close();
  }
}
