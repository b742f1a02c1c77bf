// The single writer of the director's IPVS services. Keeps a model of what the kernel holds (the
// last read, plus every operation it applied since), turns desired against it into operations
// (diff.ts), and applies them in one batch per pass. Passes never overlap.
//
// Safety rules:
// - only services it owns (created or adopted, recorded in the state file) are ever changed;
// - a real server or service it did not ask for is drained (weight 0) before it is deleted, and is
//   deleted only when two reads in a row have shown it, never on the strength of one dump;
// - an operation refused because the kernel differs from the model (EEXIST, ENOENT, ESRCH) makes
//   it read the kernel again and converge; any other refusal is reported on its service.
import { constants } from 'node:os';
import type pino from 'pino';
import { IpvsError } from '../errors';
import type { Ipvs, IpvsOp, RealServer, RealServerEntry, ServiceEntry, ServiceKey, VirtualService } from '../ipvs/types';
import { diffService } from './diff';
import { serverId, serviceId } from './model';

const { EEXIST, ENOENT, ESRCH } = constants.errno;

/** What one configured service must look like in the kernel. */
export interface DesiredService {
  service: VirtualService;
  /** real servers that must be in the kernel, by server id */
  servers: Map<string, RealServer>;
  /** ids of servers the director knows (configured, sorry): deleted at once when not wanted */
  known: Set<string>;
  /** how long a server no longer in the config may drain before it is deleted */
  drainDeadlineMs: number;
}

export interface ReconcilerOptions {
  ipvs: Ipvs;
  /** the desired state of the given configured services (all when ids is undefined) */
  desired(ids?: ReadonlySet<string>): Map<string, DesiredService>;
  /** ids of every configured service */
  configured(): ReadonlySet<string>;
  /** services owned at start (from the state file) */
  owned?: Iterable<string>;
  /** drain deadline for a service no longer in the config */
  retireDeadlineMs?: number;
  now?: () => number;
  log?: pino.Logger;
  /** called when the set of owned services changed (to persist it) */
  onOwnedChange?: (owned: ReadonlySet<string>) => void;
}

export interface PassResult {
  ops: IpvsOp[];
  failed: { op: IpvsOp; error: Error }[];
  observed: boolean;
}

interface Removal {
  since: number;
  deadlineMs: number;
  /** the kernel has been read since the drain began, so its counters say what is left */
  counted: boolean;
}

export class Reconciler {
  private readonly ipvs: Ipvs;
  private readonly opts: ReconcilerOptions;
  private readonly now: () => number;
  /** the kernel as last read, plus what was applied since, for owned and configured services */
  private actual = new Map<string, ServiceEntry>();
  /**
   * services present in the previous read and in the last one, each with its server ids joined by
   * commas: one string per service, not one per server (at 40,000 servers that was ~3 MiB)
   */
  private seenBefore = new Map<string, string>();
  private seenNow = new Map<string, string>();
  private readonly owned: Set<string>;
  private readonly removals = new Map<string, Removal>();
  /** the kernel's refusal of a service's operation, in words, until it converges */
  readonly errors = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();
  private everRead = false;
  /** the owned set changed in this pass: persisted once at its end, not once per operation */
  private ownedChanged = false;

  opsTotal = 0;
  lastOps = 0;
  failuresTotal = 0;
  lastAt: number | undefined;
  lastError: string | undefined;

  constructor(opts: ReconcilerOptions) {
    this.opts = opts;
    this.ipvs = opts.ipvs;
    this.now = opts.now ?? Date.now;
    this.owned = new Set(opts.owned ?? []);
  }

  /** Owned services (created or adopted by this director). */
  ownedServices(): ReadonlySet<string> {
    return this.owned;
  }

  /** The kernel's view of a service as the model holds it. */
  observedService(id: string): ServiceEntry | undefined {
    return this.actual.get(id);
  }

  /** Drains still waiting for connections to end (the daemon reads the kernel again while any is). */
  get pendingRemovals(): number {
    return this.removals.size;
  }

  /**
   * One pass, after every pass already asked for. `observe` reads the kernel first (needed at
   * start, on resync and while draining); `ids` limits the pass to those configured services.
   */
  pass(opts: { observe?: boolean; ids?: ReadonlySet<string> } = {}): Promise<PassResult> {
    const run = this.chain.then(() => this.runPass(opts.observe === true || !this.everRead, opts.ids));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Reads the kernel: every owned or configured service into the model. */
  private async observe(): Promise<void> {
    const table = await this.ipvs.readTable();
    const configured = this.opts.configured();
    const actual = new Map<string, ServiceEntry>();
    const seen = new Map<string, string>();
    for (const e of table) {
      const id = serviceId(e.service.key);
      if (!configured.has(id) && !this.owned.has(id)) continue; // not ours: never looked at again
      actual.set(id, e);
      // join(): one flat string, kept until the read after next (concatenation keeps a rope)
      seen.set(id, ['', ...e.realServers.map((rs) => serverId(rs.server.key)), ''].join(','));
    }
    this.actual = actual;
    for (const r of this.removals.values()) r.counted = true;
    this.seenBefore = this.everRead ? this.seenNow : seen;
    this.seenNow = seen;
    // adopt every configured service found in the kernel
    let changed = false;
    for (const id of actual.keys()) {
      if (configured.has(id) && !this.owned.has(id)) {
        this.owned.add(id);
        changed = true;
      }
    }
    if (changed) this.opts.onOwnedChange?.(this.owned);
    this.everRead = true;
  }

  private async runPass(observe: boolean, ids: ReadonlySet<string> | undefined): Promise<PassResult> {
    if (observe) await this.observe();
    let result = await this.converge(ids);
    // the kernel differed from the model: read it again and converge once more
    if (result.failed.some((f) => isDrift(f.op, f.error))) {
      await this.observe();
      const again = await this.converge(ids);
      result = { ops: [...result.ops, ...again.ops], failed: again.failed, observed: true };
    }
    if (this.ownedChanged) {
      this.ownedChanged = false;
      this.opts.onOwnedChange?.(this.owned);
    }
    this.lastAt = this.now();
    this.lastOps = result.ops.length;
    return { ...result, observed: result.observed || observe };
  }

  private async converge(ids: ReadonlySet<string> | undefined): Promise<PassResult> {
    const now = this.now();
    const desired = this.opts.desired(ids);
    const configured = this.opts.configured();
    const ops: IpvsOp[] = [];
    const opService: string[] = [];
    const push = (id: string, list: IpvsOp[]): void => {
      for (const op of list) {
        ops.push(op);
        opService.push(id);
      }
    };

    for (const [id, want] of desired) {
      const got = this.actual.get(id);
      const servers = new Map(want.servers);
      if (got) {
        for (const e of got.realServers) {
          const sid = serverId(e.server.key);
          if (servers.has(sid) || want.known.has(sid)) {
            this.removals.delete(`${id}/${sid}`);
            continue;
          }
          // in the kernel, not in the config: drain, then delete
          if (!this.draining(id, sid, [e], want.drainDeadlineMs, now)) continue;
          servers.set(sid, { ...e.server, weight: 0 });
        }
      }
      const list = diffService(
        {
          service: want.service,
          servers,
          deletable: (sid, e) => this.seenTwice(id, sid) || (want.known.has(sid) && !servers.has(sid) && e !== undefined),
        },
        got,
      );
      push(id, list);
    }

    // owned services no longer in the config: drain all their servers, then delete the service
    if (ids === undefined) {
      for (const id of this.owned) {
        if (configured.has(id)) continue;
        const got = this.actual.get(id);
        if (!got) {
          this.forget(id);
          continue;
        }
        const deadline = this.opts.retireDeadlineMs ?? 300_000;
        if (this.draining(id, undefined, got.realServers, deadline, now)) {
          const zeroed = got.realServers.filter((e) => e.server.weight !== 0).map((e): IpvsOp => ({ kind: 'edit-server', service: got.service.key, server: { ...e.server, weight: 0 } }));
          push(id, zeroed);
        } else if (this.seenTwice(id, undefined)) {
          push(id, [{ kind: 'delete-service', service: got.service.key }]);
        }
      }
    }

    if (ops.length === 0) return { ops, failed: [], observed: false };
    const res = await this.ipvs.apply(ops);
    this.opsTotal += ops.length;
    const failedAt = new Set(res.failed.map((f) => f.index));
    // a service's first refusal is its error; what failed after it in the batch follows from it
    const firstError = new Map<string, { op: IpvsOp; error: Error }>();
    for (const f of res.failed) {
      const id = opService[f.index];
      this.failuresTotal++;
      if (firstError.has(id)) continue;
      firstError.set(id, { op: f.op, error: f.error });
      this.errors.set(id, f.error.message);
      this.lastError = f.error.message;
      this.opts.log?.warn({ service: id, op: f.op.kind }, f.error.message);
    }
    for (let i = 0; i < ops.length; i++) {
      if (failedAt.has(i)) continue;
      this.record(opService[i], ops[i]);
    }
    for (const id of new Set(opService)) if (!firstError.has(id)) this.errors.delete(id);
    return { ops, failed: [...firstError.values()], observed: false };
  }

  /** True while a removal drains (weight 0, connections left, deadline not passed). */
  private draining(id: string, sid: string | undefined, servers: readonly RealServerEntry[], deadlineMs: number, now: number): boolean {
    const key = sid === undefined ? id : `${id}/${sid}`;
    const conns = servers.reduce((n, e) => n + e.observed.activeConns + e.observed.inactiveConns, 0);
    let r = this.removals.get(key);
    if (!r) {
      r = { since: now, deadlineMs, counted: false };
      this.removals.set(key, r);
      this.opts.log?.info({ removal: key, conns }, `draining ${key} before deleting it (${conns} connections)`);
    }
    // connections are counted only from a read after the drain began: the model's counters may be old
    const done = (r.counted && conns === 0) || now - r.since >= r.deadlineMs;
    // a first sighting never deletes: keep it at weight 0 until a second read agrees
    return !(done && this.seenTwice(id, sid));
  }

  /** in the last two reads: the service, or (with `sid`) that server of it */
  private seenTwice(id: string, sid: string | undefined): boolean {
    const now = this.seenNow.get(id);
    const before = this.seenBefore.get(id);
    if (now === undefined || before === undefined) return false;
    return sid === undefined || (now.includes(`,${sid},`) && before.includes(`,${sid},`));
  }

  private forget(id: string): void {
    if (this.owned.delete(id)) this.ownedChanged = true;
    this.removals.delete(id);
    for (const k of [...this.removals.keys()]) if (k.startsWith(`${id}/`)) this.removals.delete(k);
    this.errors.delete(id);
  }

  /** Brings the model in line with an operation the kernel accepted. */
  private record(id: string, op: IpvsOp): void {
    switch (op.kind) {
      case 'add-service':
        this.actual.set(id, { service: op.service, observed: ZERO_SERVICE, realServers: [] });
        if (!this.owned.has(id)) {
          this.owned.add(id);
          this.ownedChanged = true;
        }
        return;
      case 'edit-service': {
        const e = this.actual.get(id);
        if (e) e.service = op.service;
        return;
      }
      case 'delete-service':
        this.actual.delete(id);
        this.forget(id);
        return;
      case 'add-server':
      case 'edit-server': {
        const e = this.actual.get(id);
        if (!e) return;
        const sid = serverId(op.server.key);
        const at = e.realServers.findIndex((r) => serverId(r.server.key) === sid);
        const observed = at >= 0 ? e.realServers[at].observed : ZERO_COUNTERS;
        const local = at >= 0 && e.realServers[at].server.forward === 'local' && op.server.forward !== 'local';
        // the op's own server object (the desired state's, often the spec's): one copy per server
        const entry: RealServerEntry = { server: local ? { ...op.server, forward: 'local' } : op.server, observed };
        if (at >= 0) e.realServers[at] = entry;
        else e.realServers.push(entry);
        return;
      }
      case 'delete-server': {
        const e = this.actual.get(id);
        if (!e) return;
        const sid = serverId(op.server);
        e.realServers = e.realServers.filter((r) => serverId(r.server.key) !== sid);
        this.removals.delete(`${id}/${sid}`);
        return;
      }
      default:
        return;
    }
  }
}

/** A refusal that says the kernel differs from the model (not that the request was bad). */
function isDrift(op: IpvsOp, err: Error): boolean {
  if (!(err instanceof IpvsError)) return false;
  // ENOENT on a service op is a scheduler or persistence engine the kernel cannot load
  if (err.errno === ENOENT) return op.kind !== 'add-service' && op.kind !== 'edit-service';
  return err.errno === EEXIST || err.errno === ESRCH;
}

// Counters of what the model added itself until the next read: one shared frozen value, as the
// model never changes an entry's counters in place.
const ZERO_STATS: ServiceEntry['observed']['stats'] = Object.freeze({ conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n });
const ZERO_SERVICE: ServiceEntry['observed'] = Object.freeze({ stats: ZERO_STATS });
const ZERO_COUNTERS: RealServerEntry['observed'] = Object.freeze({ activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: ZERO_STATS });

export type { ServiceKey };
