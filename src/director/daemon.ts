// The director: wires config, health checks, the reconciler, the state file and the operator's
// controls. Health transitions, reloads, overrides and timers only mark services dirty; one
// reconciler pass then brings the kernel in line (reconciler.ts is the single writer).
import { createHash } from 'node:crypto';
import cron from 'node-cron';
import type pino from 'pino';
import { DEFAULT_WATCH_OPTIONS, HealthMonitor, type Transition, type Watch } from '../health/core';
import type { Clock } from '../health/deadline';
import { loadPassword } from '../health/mysql/credentials';
import { createChecker, type CheckSpec } from '../health/spec';
import type { Checker, CheckResult } from '../health/types';
import type { Ipvs, IpvsOp, RealServerEntry, SyncDaemon, Timeouts } from '../ipvs/types';
import { SVC_F_PERSISTENT } from '../ipvs/flags';
import { logger } from '../log';
import type {
  CheckView,
  ControlResult,
  CountersView,
  DirectorControl,
  DirectorStatus,
  ReloadResult,
  ServerSelector,
  ServerView,
  ServiceView,
} from './api';
import { decideService, nextRampAt, type DecideInput, type Override, type ServerRuntime, type ServiceDecision } from './desired';
import type { CheckDef, DirectorSettings, LoadedConfig, ServerSpec, ServiceSpec } from './model';
import { Hooks } from './notify';
import { RecordingIpvs, type PlanStep } from './plan';
import { sameServiceSpec } from './spec';
import { Reconciler, type DesiredService } from './reconciler';
import { emptyState, readState, writeState, type DirectorState } from './state';
import { DirectorVrrp, syncRoleOf } from './vrrp';

export type { DirectorSettings, LoadedConfig } from './model';

export interface DirectorOptions {
  ipvs: Ipvs;
  /**
   * loads and validates the config; throws an error listing every problem. On reload `previous`
   * is the running config: a service whose parsed config is unchanged may hand back its spec object.
   */
  load(previous?: LoadedConfig): LoadedConfig;
  configPath: string;
  version?: string;
  log?: pino.Logger;
  /** health checks' clock (tests) */
  clock?: Clock;
  /** makes checkers (tests may give their own); default src/health's createChecker */
  checker?: (spec: CheckSpec) => Checker;
  now?: () => number;
  /** how often the kernel is read again while servers drain (default 1 s) */
  drainPollMs?: number;
  /** plan only: no checks, no timers, no state written, nothing sent to the kernel */
  dryRun?: boolean;
}

const NO_WATCHES: readonly Watch[] = Object.freeze([]);

/** The record of the server a running check belongs to (Watch.owner; undefined once stopped). */
function ownerOf(watch: Watch): ServerRecord | undefined {
  return watch.owner as ServerRecord | undefined;
}

/**
 * A configured server: its spec, its running checks and what the director knows of it at run time.
 * One object per server (at 40,000 servers each extra object per server costs ~2 MiB).
 */
class ServerRecord implements ServerRuntime {
  health: 'up' | 'down';
  upSince: number | undefined;
  downSince: number | undefined;
  dynamicWeight: number | undefined;
  lastTransitionAt: number | undefined;
  /** the running check of each of spec.checks, in the same order */
  watches: readonly Watch[] = NO_WATCHES;

  /** `before`: the server's record under the previous config, whose run-time state it keeps */
  constructor(
    readonly serviceId: string,
    readonly spec: ServerSpec,
    before: ServerRecord | undefined,
  ) {
    this.health = before ? before.health : spec.checks.length ? 'down' : 'up';
    this.upSince = before?.upSince;
    this.downSince = before?.downSince;
    this.dynamicWeight = before?.dynamicWeight;
    this.lastTransitionAt = before?.lastTransitionAt;
  }
}

interface MaintenanceEntry {
  until: number;
}

export class Director implements DirectorControl {
  private readonly ipvs: Ipvs;
  private readonly opts: DirectorOptions;
  private readonly log: pino.Logger;
  private readonly now: () => number;
  private readonly monitor: HealthMonitor;
  private config!: LoadedConfig;
  private services = new Map<string, ServiceSpec>();
  private servers = new Map<string, ServerRecord>(); // "serviceId/serverId"
  /**
   * watchKey(def) of each running check that reads a secret (MySQL), from when it was made: a
   * changed password file must give another key. Other keys are made again when a reload needs them.
   */
  private readonly secretKeys = new Map<Watch, string>();
  private readonly quorumLost = new Map<string, boolean>();
  /** active: one services: the server that serves, by service id */
  private readonly active = new Map<string, string>();
  /**
   * active: one services started with no server serving: until this time (ms) their first checks
   * may still be running, so list order picks the server (no stickiness), whichever check ends first
   */
  private readonly choosingUntil = new Map<string, number>();
  /**
   * services with a server in slow start: when their next step is due. Decisions themselves are
   * not kept (at 40,000 servers they cost ~6 MiB); the status page decides again.
   */
  private readonly rampAt = new Map<string, number>();
  private readonly maintenance = new Map<string, MaintenanceEntry>(); // "serviceId/serverId"
  private state: DirectorState = emptyState();
  private reconciler!: Reconciler;
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private cronTasks: { stop(): void | Promise<void> }[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private rampTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = new Date();
  private loadedAt = new Date();
  private lastReload: DirectorStatus['lastReload'];
  private readonly reloads = { ok: 0, failed: 0 };
  /** when a service's health changed and the kernel has not yet been told (performance.now()) */
  private readonly transitionAt = new Map<string, number>();
  private readonly transitionLatency = { last: 0, max: 0 };
  private passes: Promise<unknown> = Promise.resolve();
  private vrrp: DirectorVrrp | undefined;
  /** the sync daemon's state while it follows a VRRP instance */
  private syncRole: 'master' | 'backup' = 'backup';
  private globalsQueue: Promise<void> = Promise.resolve();
  private readonly hooks: Hooks;

  constructor(opts: DirectorOptions) {
    this.opts = opts;
    this.ipvs = opts.dryRun ? new RecordingIpvs(opts.ipvs) : opts.ipvs;
    this.log = opts.log ?? logger('director');
    this.hooks = new Hooks(this.log);
    this.now = opts.now ?? Date.now;
    this.monitor = new HealthMonitor({ clock: opts.clock });
    this.monitor.on('transition', (t) => this.onTransition(t));
    this.monitor.on('result', (w, r) => this.onResult(w, r));
  }

  /** Loads the config, adopts what the kernel holds, starts checks and converges. */
  async start(): Promise<void> {
    this.config = this.opts.load();
    this.loadedAt = new Date();
    this.state = readState(this.config.settings.stateFile);
    this.reconciler = new Reconciler({
      ipvs: this.ipvs,
      desired: (ids) => this.desired(ids),
      configured: () => new Set(this.services.keys()),
      owned: this.state.owned,
      now: this.now,
      log: this.log.child({ component: 'reconciler' }),
      onOwnedChange: (owned) => this.saveState({ owned: [...owned] }),
    });
    // first: a VIP left by a crashed run must not answer beside the peer's while checks warm up
    if (this.config.vrrp && !this.opts.dryRun) await DirectorVrrp.release(this.config.vrrp, this.log);
    this.indexServices(this.config.services);
    await this.applyGlobals(this.config.settings, undefined);
    // Read the kernel before any check starts. In a service the kernel already holds, it says how
    // each server was left: one it gives weight starts as up, so a restart with nothing changed
    // writes nothing; one it holds at weight 0 or not at all starts down, also where the config
    // starts servers up (keepalived's way: an imported config would otherwise put back, on taking
    // over keepalived's table, a server keepalived had removed as failed).
    const table = await this.ipvs.readTable();
    const kernelWeight = new Map<string, number>();
    const kernelServices = new Set<string>();
    for (const e of table) {
      kernelServices.add(serviceKeyId(e));
      for (const rs of e.realServers) kernelWeight.set(`${serviceKeyId(e)}/${rs.server.key.address}|${rs.server.key.port}`, rs.server.weight);
    }
    // active: one: the server the kernel weights keeps serving, so a restart moves no writer
    for (const svc of this.services.values()) {
      if (svc.active !== 'one') continue;
      const serving = svc.servers.find((s) => (kernelWeight.get(recordKey(svc.id, s.id)) ?? 0) > 0);
      if (serving) this.active.set(svc.id, serving.id);
    }
    for (const [key, rec] of this.servers) {
      const start: StartAs = (kernelWeight.get(key) ?? 0) > 0 ? 'up' : kernelServices.has(rec.serviceId) ? 'not-up' : 'as-configured';
      if (this.opts.dryRun) rec.health = start === 'up' || (start === 'as-configured' && rec.spec.checks.every((c) => startsUp(c))) ? 'up' : 'down';
      else this.startChecks(rec, start);
    }
    if (!this.opts.dryRun) this.scheduleCron();
    await this.runPass({ observe: true });
    // VRRP last: the table is in place on every director before one of them takes the addresses
    if (this.config.vrrp && !this.opts.dryRun) await this.startVrrp();
    this.log.info({ services: this.services.size, servers: this.servers.size, vrrp: this.config.vrrp?.instances.length }, 'director started');
  }

  /** The settings and operations a start would apply now (dryRun only); nothing is sent or written. */
  async plan(): Promise<PlanStep[]> {
    if (!(this.ipvs instanceof RecordingIpvs)) throw new Error('plan() needs a director made with dryRun');
    await this.start();
    return this.ipvs.steps;
  }

  /** Stops checks and timers. The kernel table stays as it is unless flushOnExit. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // first hand the addresses over (priority 0), while this table still serves
    await this.vrrp?.stop().catch((err) => this.log.error(`vrrp stop: ${(err as Error).message}`));
    for (const t of this.cronTasks) await t.stop();
    for (const t of this.timers) clearTimeout(t);
    if (this.rampTimer) clearTimeout(this.rampTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    await this.monitor.stop();
    await this.passes.catch(() => undefined);
    if (this.config?.settings.flushOnExit && this.reconciler) {
      const ops: IpvsOp[] = [];
      for (const id of this.reconciler.ownedServices()) {
        const e = this.reconciler.observedService(id);
        if (e) ops.push({ kind: 'delete-service', service: e.service.key });
      }
      if (ops.length) {
        const res = await this.ipvs.apply(ops);
        this.log.info({ deleted: ops.length - res.failed.length }, 'flush_on_exit: deleted the services this director owns');
        this.saveState({ owned: [] });
      }
    }
    this.log.info('director stopped');
  }

  // ---- reload ----

  async reload(): Promise<ReloadResult> {
    let next: LoadedConfig;
    try {
      next = this.opts.load(this.config);
    } catch (err) {
      const errors = errorLines(err);
      this.lastReload = { at: new Date().toISOString(), ok: false, errors };
      this.reloads.failed++;
      this.log.error({ errors }, 'reload rejected: the running config keeps serving');
      return { ok: false, errors, ops: 0 };
    }
    const vrrpChanged = JSON.stringify(next.vrrp) !== JSON.stringify(this.config.vrrp);
    // the same section may name a password file whose content changed
    const authChanges = !vrrpChanged && next.vrrp && this.vrrp ? this.vrrp.authChanges(next.vrrp) : [];
    if (vrrpChanged || authChanges.length) {
      // restarting VRRP would hand the addresses back and forth; the running instances keep their state
      const errors = [
        ...authChanges,
        `vrrp: the vrrp ${vrrpChanged ? 'section' : 'password'} changed: restart lvsd (systemctl restart lvsd-director) to apply it; a reload applies services only`,
      ];
      this.lastReload = { at: new Date().toISOString(), ok: false, errors };
      this.reloads.failed++;
      this.log.error({ errors }, 'reload rejected: the running config keeps serving');
      return { ok: false, errors, ops: 0 };
    }
    const before = this.reconciler.opsTotal;
    const previous = this.config;
    this.config = next;
    this.loadedAt = new Date();
    const oldServices = this.services;
    // A service that asks for exactly what it asked before keeps its spec, records, checks and
    // decision as they are: at 10,000 services, remaking them all costs more than the write.
    // One with MySQL checks is always remade (a changed password file makes a new checker).
    const kept = new Set<string>();
    for (const svc of next.services) {
      const old = oldServices.get(svc.id);
      if (old && !hasMysqlCheck(svc) && sameServiceSpec(old, svc)) kept.add(svc.id);
    }
    this.services = new Map(next.services.map((s) => [s.id, kept.has(s.id) ? oldServices.get(s.id)! : s]));
    // the other services' records are taken out, then made again from their new specs
    const oldServers = new Map<string, ServerRecord>();
    for (const [id, svc] of oldServices) {
      if (kept.has(id)) continue;
      for (const s of svc.servers) {
        const key = recordKey(id, s.id);
        const rec = this.servers.get(key);
        if (!rec) continue;
        oldServers.set(key, rec);
        this.servers.delete(key);
      }
      this.rampAt.delete(id);
    }
    // services a pass must look at: changed or new
    const touched = new Set<string>();
    for (const svc of this.services.values()) {
      if (kept.has(svc.id)) continue;
      touched.add(svc.id);
      for (const s of svc.servers) {
        const key = recordKey(svc.id, s.id);
        const old = oldServers.get(key);
        const rec = new ServerRecord(svc.id, s, old);
        this.servers.set(key, rec);
        // checks of unchanged servers keep running with their state; others start or stop
        const keep = new Map((old?.watches ?? []).map((w, i) => [this.secretKeys.get(w) ?? watchKey(old!.spec.checks[i]), w]));
        rec.watches = s.checks.map((def) => {
          const k = watchKey(def);
          const reuse = keep.get(k);
          if (!reuse) return this.newWatch(rec, def, def.kind === 'mysql' ? k : undefined, old?.health === 'up' ? 'up' : 'as-configured');
          keep.delete(k);
          reuse.owner = rec;
          return reuse;
        });
        for (const w of keep.values()) this.stopWatch(w);
        rec.health = this.healthOf(rec);
      }
    }
    for (const [key, old] of oldServers) {
      if (!this.servers.has(key)) for (const w of old.watches) this.stopWatch(w);
    }
    for (const id of [...this.quorumLost.keys()]) if (!this.services.has(id)) this.quorumLost.delete(id);
    for (const id of [...this.active.keys()]) if (!this.services.has(id)) this.active.delete(id);
    for (const id of [...this.choosingUntil.keys()]) if (!this.services.has(id)) this.choosingUntil.delete(id);
    await this.applyGlobals(next.settings, previous.settings);
    this.scheduleCron();
    // With the same services, only the changed ones need a pass (the others' desired state cannot
    // have moved). A service added or removed: a full pass, as at start.
    let ids: Set<string> | undefined;
    if (oldServices.size === this.services.size && [...this.services.keys()].every((id) => oldServices.has(id))) {
      ids = touched;
      for (const id of this.reconciler.errors.keys()) ids.add(id); // a refused service is tried again
    } else {
      this.rampAt.clear();
    }
    await this.runPass({ ids });
    const ops = this.reconciler.opsTotal - before;
    this.lastReload = { at: new Date().toISOString(), ok: true };
    this.reloads.ok++;
    this.log.info({ ops }, 'config reloaded');
    return { ok: true, ops };
  }

  // ---- operator controls ----

  drain(sel: ServerSelector): Promise<ControlResult> {
    return this.override(sel, { kind: 'drain' }, 'drained');
  }

  enable(sel: ServerSelector): Promise<ControlResult> {
    return this.override(sel, undefined, 'enabled');
  }

  setWeight(sel: ServerSelector, weight: number): Promise<ControlResult> {
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) {
      return Promise.resolve({ ok: false, message: `weight ${weight}: must be an integer from 0 to 65535`, matched: [] });
    }
    return this.override(sel, { kind: 'weight', weight }, `set weight ${weight} on`);
  }

  private async override(sel: ServerSelector, value: Override | undefined, verb: string): Promise<ControlResult> {
    const matched = this.select(sel);
    if (matched.length === 0) {
      return { ok: false, message: `no configured real server matches ${sel.server}${sel.service ? ` in ${sel.service}` : ''}`, matched: [] };
    }
    const overrides = { ...this.state.overrides };
    for (const rec of matched) {
      const key = `${rec.serviceId}/${rec.spec.id}`;
      if (value) overrides[key] = value;
      else delete overrides[key];
      this.dirty.add(rec.serviceId);
    }
    this.saveState({ overrides });
    await this.runPass({ ids: new Set(matched.map((r) => r.serviceId)) });
    const names = matched.map((r) => `${this.services.get(r.serviceId)!.name}/${r.spec.name}`);
    this.log.info({ matched: names }, `${verb} ${names.join(', ')}`);
    return { ok: true, message: `${verb} ${names.join(', ')}`, matched: names };
  }

  private select(sel: ServerSelector): ServerRecord[] {
    const wanted = parseServerText(sel.server);
    const out: ServerRecord[] = [];
    for (const rec of this.servers.values()) {
      const svc = this.services.get(rec.serviceId)!;
      if (sel.service !== undefined && sel.service !== svc.name && sel.service !== serviceAddress(svc)) continue;
      const key = rec.spec.server.key;
      if (wanted.address !== key.address.toLowerCase()) continue;
      if (wanted.port !== undefined && wanted.port !== key.port) continue;
      out.push(rec);
    }
    return out;
  }

  // ---- status ----

  status(): DirectorStatus {
    const services: ServiceView[] = [];
    for (const svc of this.services.values()) services.push(this.serviceView(svc));
    const r = this.reconciler;
    return {
      version: this.opts.version ?? '0.0.0',
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      config: { path: this.opts.configPath, loadedAt: this.loadedAt.toISOString() },
      lastReload: this.lastReload,
      reloads: { ...this.reloads },
      reconcile: {
        lastAt: r?.lastAt !== undefined ? new Date(r.lastAt).toISOString() : undefined,
        opsTotal: r?.opsTotal ?? 0,
        lastOps: r?.lastOps ?? 0,
        failuresTotal: r?.failuresTotal ?? 0,
        lastError: r?.lastError,
        transitionToKernelMs: { last: round2(this.transitionLatency.last), max: round2(this.transitionLatency.max) },
      },
      services,
      ...(this.vrrp ? { vrrp: this.vrrp.status() } : {}),
    };
  }

  private serviceView(svc: ServiceSpec): ServiceView {
    const d = this.quorumLost.has(svc.id) ? decideService(svc, this.decideInput(svc, this.now())) : this.decide(svc);
    const got = this.reconciler?.observedService(svc.id);
    const inKernel = new Map<string, RealServerEntry>();
    for (const e of got?.realServers ?? []) inKernel.set(`${e.server.key.address}|${e.server.key.port}`, e);
    const servers: ServerView[] = d.servers.map((s) => {
      const rec = this.servers.get(`${svc.id}/${s.spec.id}`)!;
      const k = inKernel.get(s.spec.id);
      return {
        name: s.spec.name,
        address: s.spec.server.key.address,
        port: s.spec.server.key.port,
        forward: k?.server.forward ?? s.spec.server.forward,
        state: s.state,
        health: rec.health,
        configuredWeight: s.spec.server.weight,
        weight: s.present ? s.weight : 0,
        kernelWeight: k?.server.weight,
        override: s.override,
        activeConns: k?.observed.activeConns ?? 0,
        inactiveConns: k?.observed.inactiveConns ?? 0,
        persistentConns: k?.observed.persistentConns ?? 0,
        counters: countersView(k?.observed.stats),
        checks: rec.watches.map((w, i) => checkView(rec.spec.checks[i], w)),
        lastTransitionAt: rec.lastTransitionAt !== undefined ? new Date(rec.lastTransitionAt).toISOString() : undefined,
      };
    });
    if (d.sorryActive && svc.sorry) {
      const id = `${svc.sorry.key.address}|${svc.sorry.key.port}`;
      const k = inKernel.get(id);
      servers.push({
        name: serverNameOf(svc.sorry.key.address, svc.sorry.key.port),
        address: svc.sorry.key.address,
        port: svc.sorry.key.port,
        forward: k?.server.forward ?? svc.sorry.forward,
        state: 'sorry',
        health: 'up',
        configuredWeight: svc.sorry.weight,
        weight: svc.sorry.weight,
        kernelWeight: k?.server.weight,
        activeConns: k?.observed.activeConns ?? 0,
        inactiveConns: k?.observed.inactiveConns ?? 0,
        persistentConns: k?.observed.persistentConns ?? 0,
        counters: countersView(k?.observed.stats),
        checks: [],
      });
    }
    const persistent = (svc.service.flags & 1) !== 0;
    return {
      name: svc.name,
      address: serviceAddress(svc),
      scheduler: svc.service.scheduler,
      persistence: persistent ? svc.service.timeout : undefined,
      upWeight: d.upWeight,
      quorum: { weight: svc.quorum, hysteresis: svc.hysteresis, met: !d.quorumLost },
      sorryServerActive: d.sorryActive,
      error: this.reconciler?.errors.get(svc.id),
      counters: countersView(got?.observed.stats),
      servers,
    };
  }

  // ---- health ----

  private onTransition(t: Transition): void {
    const rec = ownerOf(t.watch);
    if (!rec) return;
    this.updateHealth(rec);
  }

  private onResult(watch: Watch, result: CheckResult): void {
    const rec = ownerOf(watch);
    if (!rec || result.weight === undefined) return;
    if (rec.dynamicWeight === result.weight) return;
    rec.dynamicWeight = result.weight;
    this.markDirty(rec.serviceId);
  }

  private updateHealth(rec: ServerRecord): void {
    const health = this.healthOf(rec);
    if (health === rec.health) return;
    const now = this.now();
    rec.health = health;
    rec.lastTransitionAt = now;
    if (health === 'up') {
      rec.upSince = now;
    } else {
      rec.downSince = now;
      rec.upSince = undefined;
    }
    const svc = this.services.get(rec.serviceId);
    const reasons: string[] = [];
    rec.watches.forEach((w, i) => {
      if (w.state === 'down') reasons.push(`${rec.spec.checks[i].describe}: ${w.lastResult?.reason ?? 'no result yet'}`);
    });
    this.log.info({ service: svc?.name, server: rec.spec.name, health }, `${rec.spec.name} in ${svc?.name} is ${health}${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
    if (svc?.notify) this.hooks.run(svc.notify, ['SERVER', svc.name, rec.spec.name, health.toUpperCase()]);
    if (!this.transitionAt.has(rec.serviceId)) this.transitionAt.set(rec.serviceId, performance.now());
    this.markDirty(rec.serviceId);
  }

  /** Up only when every check passes; a server without checks is always up. */
  private healthOf(rec: ServerRecord): 'up' | 'down' {
    return rec.watches.every((w) => w.state === 'up') ? 'up' : 'down';
  }

  private startChecks(rec: ServerRecord, start: StartAs): void {
    rec.watches = rec.spec.checks.map((def) => this.newWatch(rec, def, def.kind === 'mysql' ? watchKey(def) : undefined, start));
    rec.health = this.healthOf(rec);
  }

  /** `secretKey`: watchKey(def), for a check that reads a secret (see secretKeys) */
  private newWatch(rec: ServerRecord, def: CheckDef, secretKey: string | undefined, start: StartAs): Watch {
    const checker = (this.opts.checker ?? createChecker)(def.spec);
    const options =
      start === 'up' ? { ...def.watch, initialState: 'fully-up' as const } : start === 'not-up' && startsUp(def) ? { ...def.watch, initialState: 'down' as const } : def.watch;
    // join(): one flat string, kept for every check (a template literal keeps a rope of its parts)
    const watch = this.monitor.watch([this.services.get(rec.serviceId)?.name, rec.spec.name, def.kind].join('/'), checker, options);
    watch.owner = rec;
    if (secretKey !== undefined) this.secretKeys.set(watch, secretKey);
    return watch;
  }

  private stopWatch(watch: Watch): void {
    watch.owner = undefined;
    this.secretKeys.delete(watch);
    watch.stop();
  }

  // ---- desired state ----

  /** At start: a record for every configured server. */
  private indexServices(specs: readonly ServiceSpec[]): void {
    this.services = new Map(specs.map((s) => [s.id, s]));
    this.servers = new Map();
    for (const svc of specs) {
      for (const s of svc.servers) this.servers.set(recordKey(svc.id, s.id), new ServerRecord(svc.id, s, undefined));
    }
    this.rampAt.clear();
  }

  private decideInput(svc: ServiceSpec, now: number): DecideInput {
    return {
      runtime: (sid) => this.servers.get(`${svc.id}/${sid}`)!,
      override: (sid) => this.state.overrides[`${svc.id}/${sid}`],
      inMaintenance: (sid) => {
        const m = this.maintenance.get(`${svc.id}/${sid}`);
        return m !== undefined && m.until > now;
      },
      quorumLostBefore: this.quorumLost.get(svc.id),
      activeBefore: (this.choosingUntil.get(svc.id) ?? 0) > now ? undefined : this.active.get(svc.id),
      now,
    };
  }

  private decide(svc: ServiceSpec): ServiceDecision {
    if (svc.active === 'one' && !this.active.has(svc.id) && !this.choosingUntil.has(svc.id)) {
      this.choosingUntil.set(svc.id, this.now() + firstVerdictsMs(svc));
    }
    const input = this.decideInput(svc, this.now());
    const d = decideService(svc, input);
    const before = this.quorumLost.get(svc.id);
    if (before !== d.quorumLost) {
      this.quorumLost.set(svc.id, d.quorumLost);
      if (before !== undefined || d.quorumLost) {
        this.log.warn({ service: svc.name, upWeight: d.upWeight, quorum: svc.quorum }, `${svc.name}: quorum ${d.quorumLost ? 'lost' : 'regained'} (up weight ${d.upWeight}, quorum ${svc.quorum})`);
        // a change, not the first verdict after a start or reload
        if (svc.notify && before !== undefined && !this.opts.dryRun) this.hooks.run(svc.notify, ['QUORUM', svc.name, d.quorumLost ? 'DOWN' : 'UP']);
      }
      this.vrrp?.serviceQuorum(svc.name, d.quorumLost);
    }
    if (svc.active === 'one' && d.active !== this.active.get(svc.id)) this.activeChanged(svc, this.active.get(svc.id), d.active);
    const at = nextRampAt(d, input);
    if (at === undefined) this.rampAt.delete(svc.id);
    else this.rampAt.set(svc.id, at);
    return d;
  }

  private activeChanged(svc: ServiceSpec, before: string | undefined, now: string | undefined): void {
    if (now === undefined) this.active.delete(svc.id);
    else this.active.set(svc.id, now);
    const name = (id: string | undefined) => svc.servers.find((s) => s.id === id)?.name ?? 'none';
    const msg = `${svc.name}: ${now === undefined ? 'no server is up to serve' : `${name(now)} serves`} (active: one; was ${name(before)})`;
    if (now === undefined) this.log.warn({ service: svc.name, was: name(before) }, msg);
    else this.log.info({ service: svc.name, server: name(now), was: name(before) }, msg);
  }

  private desired(ids?: ReadonlySet<string>): Map<string, DesiredService> {
    const out = new Map<string, DesiredService>();
    for (const svc of this.services.values()) {
      if (ids && !ids.has(svc.id)) continue;
      const d = this.decide(svc);
      const known = new Set(svc.servers.map((s) => s.id));
      if (svc.sorry) known.add(`${svc.sorry.key.address}|${svc.sorry.key.port}`);
      out.set(svc.id, { service: svc.service, servers: d.desired, known, drainDeadlineMs: svc.drainDeadlineMs });
    }
    return out;
  }

  // ---- passes and timers ----

  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.dirty.size === 0 || this.stopped) return;
      const ids = new Set(this.dirty);
      this.dirty.clear();
      void this.runPass({ ids });
    });
  }

  private runPass(opts: { observe?: boolean; ids?: ReadonlySet<string> }): Promise<void> {
    // health transitions this pass carries to the kernel, for the verdict-to-kernel latency
    const carried: number[] = [];
    for (const [id, at] of this.transitionAt) {
      if (opts.ids && !opts.ids.has(id)) continue;
      carried.push(at);
      this.transitionAt.delete(id);
    }
    const p = this.reconciler
      .pass(opts)
      .then((res) => {
        if (res.ops.length) this.log.debug({ ops: res.ops.length, failed: res.failed.length, observed: res.observed }, 'pass applied');
        const now = performance.now();
        for (const at of carried) {
          this.transitionLatency.last = now - at;
          this.transitionLatency.max = Math.max(this.transitionLatency.max, now - at);
        }
        this.afterPass();
      })
      .catch((err: Error) => {
        this.log.error({ err: err.message }, `reconcile failed: ${err.message}`);
      });
    this.passes = p;
    return p;
  }

  private afterPass(): void {
    if (this.stopped || this.opts.dryRun) return;
    // slow start: recompute when the next step is due
    let next: number | undefined;
    const now = this.now();
    for (const at of this.rampAt.values()) next = next === undefined ? at : Math.min(next, at);
    if (this.rampTimer) clearTimeout(this.rampTimer);
    this.rampTimer = undefined;
    if (next !== undefined) {
      this.rampTimer = setTimeout(() => {
        this.rampTimer = undefined;
        for (const id of this.rampAt.keys()) this.markDirty(id);
      }, Math.max(10, next - now));
    }
    // draining: read the kernel's connection counts again until the drains end
    if (this.reconciler.pendingRemovals > 0 && !this.drainTimer) {
      this.drainTimer = setTimeout(() => {
        this.drainTimer = undefined;
        void this.runPass({ observe: true });
      }, this.opts.drainPollMs ?? 1000);
    }
  }

  private scheduleCron(): void {
    for (const t of this.cronTasks) void t.stop();
    this.cronTasks = [];
    this.every(this.config.settings.resync, () => void this.runPass({ observe: true }));
    for (const svc of this.services.values()) {
      for (const w of svc.maintenance) {
        this.every(w.schedule, (lateMs) => {
          const left = w.durationMs - lateMs;
          if (left <= 0) {
            this.log.warn({ service: svc.name, servers: w.servers }, `maintenance window missed: the process was busy for its whole ${w.durationMs / 1000} s`);
            return;
          }
          const until = this.now() + left;
          for (const sid of w.servers) this.maintenance.set(`${svc.id}/${sid}`, { until });
          this.log.info({ service: svc.name, servers: w.servers }, `maintenance window opens for ${Math.round(left) / 1000} s`);
          this.markDirty(svc.id);
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.markDirty(svc.id);
          }, left + 5);
          this.timers.add(t);
        });
      }
    }
  }

  /** Runs fn on a cron schedule, late rather than never when the process was busy: node-cron
   * skips a second its timer woke up too late for, reporting it as missed except for a task's
   * first run, which a guard timer of ours covers (a window is not lost to a reload). */
  private every(schedule: string, fn: (lateMs: number) => void): void {
    let ran = false;
    const task = cron.schedule(schedule, () => {
      ran = true;
      fn(0);
    });
    task.on('execution:missed', (ctx) => fn(Math.max(0, Date.now() - ctx.date.getTime())));
    this.cronTasks.push(task);
    const first = task.getNextRun()?.getTime();
    if (first === undefined || first - Date.now() > 86_400_000) return;
    const guard = setTimeout(() => {
      this.timers.delete(guard);
      if (!ran && !this.stopped && this.cronTasks.includes(task)) fn(Math.max(0, Date.now() - first));
    }, first - Date.now() + 1500);
    this.timers.add(guard);
  }

  /** IPVS settings, timeouts and the sync daemon, when the config names them (written only when different). */
  private async applyGlobals(s: DirectorSettings, before: DirectorSettings | undefined): Promise<void> {
    // at start and on reload; not again when only the sync daemon's role changed
    if (s !== before) await this.applySysctls(s.ipvsSysctl);
    const ops: IpvsOp[] = [];
    if (s.timeouts && Object.values(s.timeouts).some((v) => v !== undefined)) {
      const now = await this.ipvs.readTimeouts();
      const want: Timeouts = { tcp: s.timeouts.tcp ?? 0, tcpFin: s.timeouts.tcpFin ?? 0, udp: s.timeouts.udp ?? 0 };
      if ((want.tcp && want.tcp !== now.tcp) || (want.tcpFin && want.tcpFin !== now.tcpFin) || (want.udp && want.udp !== now.udp)) {
        ops.push({ kind: 'set-timeouts', timeouts: want });
      }
    }
    const running = await this.ipvs.readSyncDaemons();
    const want = s.syncDaemon && (s.syncDaemonFollows ? { ...s.syncDaemon, state: this.syncRole } : s.syncDaemon);
    if (want) {
      const same = running.find((d) => d.state === want.state);
      if (!same || !sameDaemon(same, want)) {
        if (same) ops.push({ kind: 'stop-daemon', state: same.state });
        ops.push({ kind: 'start-daemon', daemon: want });
      }
      // following a role: the daemon of the other role stops
      const other = s.syncDaemonFollows ? running.find((d) => d.state !== want.state) : undefined;
      if (other) ops.push({ kind: 'stop-daemon', state: other.state });
    } else if (before?.syncDaemon && running.some((d) => d.state === before.syncDaemon!.state)) {
      ops.push({ kind: 'stop-daemon', state: before.syncDaemon.state });
    }
    if (ops.length === 0) return;
    const res = await this.ipvs.apply(ops);
    this.reconciler.opsTotal += ops.length;
    for (const f of res.failed) this.log.error({ op: f.op.kind }, f.error.message);
  }

  /** net.ipv4.vs.* as configured; a failure is logged and the rest still runs (the table matters more). */
  private async applySysctls(want: Readonly<Record<string, number>>): Promise<void> {
    let quiescentTemplates: number | undefined;
    for (const [name, value] of Object.entries(want)) {
      try {
        const now = await this.ipvs.readSysctl(name);
        if (now !== value) {
          await this.ipvs.writeSysctl(name, value);
          this.log.info({ sysctl: `net.ipv4.vs.${name}`, from: now, to: value }, 'IPVS setting changed');
        }
        if (name === 'expire_quiescent_template') quiescentTemplates = value;
      } catch (err) {
        this.log.error((err as Error).message);
      }
    }
    // as ldirectord does: weight 0 does not stop a persistent client without this setting
    if (quiescentTemplates === 0) {
      const names = [...this.services.values()].filter((svc) => svc.onFailure === 'weight-0' && svc.service.flags & SVC_F_PERSISTENT).map((svc) => svc.name);
      if (names.length > 0) {
        this.log.warn(
          { services: names.slice(0, 10), count: names.length },
          'expire_quiescent_template is 0: persistent clients of a failed server (weight 0) keep going to it until their persistence timeout ends',
        );
      }
    }
  }

  private async startVrrp(): Promise<void> {
    const follows = this.config.settings.syncDaemonFollows;
    this.vrrp = await DirectorVrrp.start({
      config: this.config.vrrp!,
      log: this.log,
      onTransition: (e) => {
        if (e.instance !== follows || this.stopped) return;
        const role = syncRoleOf(e.to);
        if (role === this.syncRole) return;
        this.syncRole = role;
        // one change at a time, in order: a quick master/backup flap ends in the last role
        this.globalsQueue = this.globalsQueue
          .then(() => this.applyGlobals(this.config.settings, this.config.settings))
          .catch((err) => this.log.error(`sync daemon: ${(err as Error).message}`));
      },
    });
    for (const svc of this.services.values()) {
      const lost = this.quorumLost.get(svc.id);
      if (lost !== undefined) this.vrrp.serviceQuorum(svc.name, lost);
    }
  }

  private saveState(change: Partial<DirectorState>): void {
    this.state = { ...this.state, ...change };
    if (this.opts.dryRun) return;
    try {
      writeState(this.config.settings.stateFile, this.state);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, `cannot write the state file ${this.config.settings.stateFile}: ${(err as Error).message}`);
    }
  }
}

// ---- helpers ----

/**
 * A server's run-time state with every field present from the start: fields added later went to a
 * property array of their own (~50 bytes more per server).
 */
/** "serviceId/serverId", the key of a server's record: join() makes one flat string (kept). */
function recordKey(serviceId: string, serverId: string): string {
  return [serviceId, serverId].join('/');
}

function serviceKeyId(e: { service: { key: import('../ipvs/types').ServiceKey } }): string {
  const k = e.service.key;
  return k.fwmark !== undefined ? `fwmark|${k.family}|${k.fwmark}` : `${k.protocol}|${k.address}|${k.port}`;
}

/** Identity of a check for reload: its spec, timing, and (without keeping it) the secret it uses. */
function watchKey(def: CheckDef): string {
  const h = createHash('sha256').update(JSON.stringify([def.spec, def.watch], (_k, v: unknown) => (v instanceof RegExp ? v.toString() : v)));
  if (def.spec.kind === 'mysql') {
    try {
      h.update(loadPassword(def.spec.options.password)); // a changed password file makes a new checker
    } catch {
      h.update('\0unreadable');
    }
  }
  return h.digest('hex');
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function hasMysqlCheck(svc: ServiceSpec): boolean {
  return svc.servers.some((s) => s.checks.some((c) => c.kind === 'mysql'));
}

/** How a server's checks start: up (the kernel weights it), not up (its service is in the kernel without it), or as configured. */
type StartAs = 'up' | 'not-up' | 'as-configured';

/** The longest a server of the service takes to its first verdict: interval × (rise + 2) with jitter (a late first probe under load), plus the timeout. */
function firstVerdictsMs(svc: ServiceSpec): number {
  let most = 0;
  for (const server of svc.servers) {
    for (const c of server.checks) {
      const w = { ...DEFAULT_WATCH_OPTIONS, ...c.watch };
      most = Math.max(most, w.intervalMs * (w.rise + 2) * (1 + w.jitter) + w.timeoutMs);
    }
  }
  return most;
}

function startsUp(def: CheckDef): boolean {
  return def.watch.initialState === 'up' || def.watch.initialState === 'fully-up';
}

function sameDaemon(a: SyncDaemon, b: SyncDaemon): boolean {
  return a.mcastInterface === b.mcastInterface && a.syncId === b.syncId && (b.maxLength === undefined || a.maxLength === b.maxLength) && (b.mcastGroup === undefined || a.mcastGroup === b.mcastGroup) && (b.mcastPort === undefined || a.mcastPort === b.mcastPort) && (b.mcastTtl === undefined || a.mcastTtl === b.mcastTtl);
}

export function serviceAddress(svc: ServiceSpec): string {
  const k = svc.service.key;
  if (k.fwmark !== undefined) return `fwmark ${k.fwmark}${k.family === 'inet6' ? ' (IPv6)' : ''}`;
  return `${serverNameOf(k.address, k.port)}/${k.protocol}`;
}

function serverNameOf(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function parseServerText(text: string): { address: string; port?: number } {
  const t = text.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) return { address: v6[1], port: v6[2] !== undefined ? Number(v6[2]) : undefined };
  if (t.split(':').length > 2) return { address: t }; // a bare IPv6 address
  const [address, port] = t.split(':');
  return { address, port: port !== undefined ? Number(port) : undefined };
}

function countersView(s: RealServerEntry['observed']['stats'] | undefined): CountersView {
  const n = (v: bigint | undefined): number => Number(v ?? 0n);
  return {
    conns: n(s?.conns),
    inPackets: n(s?.inPackets),
    outPackets: n(s?.outPackets),
    inBytes: n(s?.inBytes),
    outBytes: n(s?.outBytes),
    cps: n(s?.cps),
    inPps: n(s?.inPps),
    outPps: n(s?.outPps),
    inBps: n(s?.inBps),
    outBps: n(s?.outBps),
  };
}

function checkView(def: CheckDef, watch: Watch): CheckView {
  const r = watch.lastResult;
  return {
    kind: def.kind,
    target: def.describe,
    state: watch.state,
    lastReason: r?.reason,
    lastLatencyMs: r ? Math.round(r.latencyMs * 10) / 10 : undefined,
    configError: watch.configError || undefined,
  };
}

/** The lines of a config error (every problem), or its message. */
export function errorLines(err: unknown): string[] {
  const e = err as { errors?: unknown; message?: string };
  if (Array.isArray(e?.errors) && e.errors.length) return e.errors.map((x) => (typeof x === 'string' ? x : String((x as { message?: string }).message ?? x)));
  return [e?.message ?? String(err)];
}
