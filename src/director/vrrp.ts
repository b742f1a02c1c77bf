// The director's failover: the VRRP router (src/vrrp) with what tracks it from the director's side:
// tracking scripts (run by src/health with rise/fall), services below their quorum, notify hooks,
// and the role the IPVS sync daemon follows.
import type pino from 'pino';
import type { VrrpConfig, VrrpInstanceConfig } from '../config/director';
import { InputError } from '../errors';
import { HealthMonitor, type Watch } from '../health/core';
import { ExecChecker } from '../health/exec';
import { describePasswordSource, loadPassword, type PasswordSource } from '../health/mysql/credentials';
import { simplePasswordKey } from '../vrrp/packet';
import { VrrpRouter, releaseAddresses, type TransitionEvent } from '../vrrp/router';
import type { VrrpInstanceView } from './api';
import { Hooks } from './notify';

export interface DirectorVrrpOptions {
  config: VrrpConfig;
  log: pino.Logger;
  /** called with an instance's state on every transition (the sync daemon follows one) */
  onTransition?(event: TransitionEvent): void;
}

export class DirectorVrrp {
  private readonly monitor = new HealthMonitor({ log: false });
  private readonly hooks: Hooks;
  private readonly scriptWatches: { script: string; watch: Watch }[] = [];
  private readonly belowQuorum = new Set<string>();

  /** set once the router has started: its first transitions (init -> backup) come during its start */
  private router!: VrrpRouter;

  private constructor(
    private readonly opts: DirectorVrrpOptions,
    /** the auth keys in use, by instance: compared on reload, never shown */
    private readonly authKeys: ReadonlyMap<string, Buffer>,
  ) {
    this.hooks = new Hooks(opts.log);
  }

  /** Removes the virtual addresses a crashed earlier run left behind (see releaseAddresses). */
  static async release(config: VrrpConfig, log: pino.Logger): Promise<void> {
    const removed = await releaseAddresses(config.instances);
    if (removed.length) log.warn({ component: 'vrrp', removed }, `vrrp: removed ${removed.join(', ')}, left by an earlier run; VRRP decides who holds them`);
  }

  static async start(opts: DirectorVrrpOptions): Promise<DirectorVrrp> {
    const c = opts.config;
    const authKeys = new Map<string, Buffer>();
    for (const i of c.instances) {
      if (!i.authPass) continue;
      const { key, truncated } = authKeyOf(i.name, i.authPass);
      // keepalived cuts auth_pass to 8 bytes with a warning and runs; a peer given the whole password agrees
      if (truncated) opts.log.warn({ instance: i.name }, `vrrp ${i.name}: the password in ${describePasswordSource(i.authPass)} is longer than 8 bytes: only its first 8 are sent and checked, as keepalived does`);
      authKeys.set(i.name, key);
    }
    const vrrp = new DirectorVrrp(opts, authKeys);
    vrrp.router = await VrrpRouter.start({
      instances: c.instances.map((i) => ({
        name: i.name,
        interface: i.interface,
        vrid: i.vrid,
        priority: i.priority,
        advertIntervalMs: i.advertIntervalMs,
        version: i.version,
        family: i.family,
        initialState: i.initialState,
        preempt: i.preempt,
        preemptDelayMs: i.preemptDelayMs,
        addresses: i.addresses,
        ...(i.unicastSource ? { unicastSource: i.unicastSource } : {}),
        unicastPeers: i.unicastPeers,
        trackInterfaces: i.trackInterfaces,
        ...(authKeys.has(i.name) ? { authKey: authKeys.get(i.name)! } : {}),
      })),
      syncGroups: c.syncGroups.map((g) => ({ name: g.name, instances: g.instances })),
      log: opts.log.child({ component: 'vrrp' }),
      // keepalived notifies BACKUP at start too, and the sync daemon follows from the first state
      onTransition: (e) => vrrp.onTransition(e),
    });
    vrrp.startScripts();
    return vrrp;
  }

  /** Tells the instances that track `service` whether it is below its quorum. */
  serviceQuorum(service: string, lost: boolean): void {
    if (lost === this.belowQuorum.has(service)) return;
    if (lost) this.belowQuorum.add(service);
    else this.belowQuorum.delete(service);
    for (const i of this.opts.config.instances) {
      for (const t of i.trackServices) {
        if (t.service !== service) continue;
        const tracker = `service ${service}`;
        if (t.weight === 0) this.router.setFault(i.name, tracker, lost ? `${service} is below its quorum` : undefined);
        else this.router.setAdjustment(i.name, tracker, lost ? t.weight : 0);
      }
    }
  }

  /**
   * For a reload with an unchanged vrrp section: the instances whose password source now holds
   * another password (or cannot be read), in words without the password. Applying it needs a
   * restart, as any vrrp change does.
   */
  authChanges(config: VrrpConfig): string[] {
    const changes: string[] = [];
    for (const i of config.instances) {
      if (!i.authPass) continue;
      let key: Buffer;
      try {
        key = authKeyOf(i.name, i.authPass).key;
      } catch (err) {
        changes.push((err as Error).message);
        continue;
      }
      const running = this.authKeys.get(i.name);
      if (!running || !running.equals(key)) changes.push(`vrrp instance ${i.name}: the password in ${describePasswordSource(i.authPass)} changed`);
    }
    return changes;
  }

  state(instance: string): string {
    return this.router.state(instance);
  }

  status(): VrrpInstanceView[] {
    return this.router.status();
  }

  /** The masters hand over (priority 0) and remove their addresses; the notify programs get STOP. */
  async stop(): Promise<void> {
    await this.monitor.stop();
    await this.router.stop();
  }

  private startScripts(): void {
    const c = this.opts.config;
    const used = new Set(c.instances.flatMap((i) => i.trackScripts.map((t) => t.name)));
    for (const script of c.scripts) {
      if (!used.has(script.name)) continue;
      const checker = new ExecChecker({ host: '127.0.0.1', port: 0, path: script.path, args: script.args, ...(script.user ? { user: script.user } : {}) });
      // keepalived starts a script as failing until it has passed rise times, and then reports its state
      const watch = this.monitor.watch(`vrrp script ${script.name}`, checker, {
        intervalMs: script.intervalMs,
        timeoutMs: script.timeoutMs,
        rise: script.rise,
        fall: script.fall,
        initialState: 'fully-down',
        jitter: 0,
      });
      this.scriptWatches.push({ script: script.name, watch });
      this.applyScript(script.name, watch.state === 'up');
    }
    this.monitor.on('transition', (t) => {
      const entry = this.scriptWatches.find((s) => s.watch === t.watch);
      if (!entry) return;
      this.opts.log.info({ script: entry.script, state: t.to }, `vrrp script ${entry.script} is ${t.to === 'up' ? 'passing' : 'failing'}: ${t.result.reason}`);
      this.applyScript(entry.script, t.to === 'up');
    });
  }

  /** keepalived's track_script: weight 0 failing = FAULT; negative counts while failing, positive while passing. */
  private applyScript(name: string, passing: boolean): void {
    for (const i of this.opts.config.instances) {
      for (const t of i.trackScripts) {
        if (t.name !== name) continue;
        const tracker = `script ${name}`;
        if (t.weight === 0) this.router.setFault(i.name, tracker, passing ? undefined : `script ${name} is failing`);
        else if (t.weight < 0) this.router.setAdjustment(i.name, tracker, passing ? 0 : t.weight);
        else this.router.setAdjustment(i.name, tracker, passing ? t.weight : 0);
      }
    }
  }

  private onTransition(e: TransitionEvent): void {
    this.opts.onTransition?.(e);
    const state = NOTIFY_STATE[e.to];
    if (!state) return;
    const instance = this.opts.config.instances.find((i) => i.name === e.instance);
    if (instance?.notify) this.notify(instance.notify, ['INSTANCE', e.instance, state, String(e.priority)]);
    for (const g of this.opts.config.syncGroups) {
      // a group's hook runs once per group change: when its first member reports the new state
      if (!g.notify || g.instances[0] !== e.instance) continue;
      this.notify(g.notify, ['GROUP', g.name, state, '0']);
    }
  }

  private notify(path: string, args: string[]): void {
    this.hooks.run(path, args);
  }
}

/** The 8 auth data bytes from an instance's password source; errors name the source, never the content. */
function authKeyOf(instance: string, source: PasswordSource): { key: Buffer; truncated: boolean } {
  try {
    return simplePasswordKey(loadPassword(source));
  } catch (err) {
    throw new InputError(`vrrp instance ${instance}: auth_pass: ${(err as Error).message}`);
  }
}

/** keepalived's notify words ($3); init is never a state an instance enters. */
const NOTIFY_STATE: Partial<Record<TransitionEvent['to'], string>> = { master: 'MASTER', backup: 'BACKUP', fault: 'FAULT', stopped: 'STOP' };

export function syncRoleOf(state: string): 'master' | 'backup' {
  return state === 'master' ? 'master' : 'backup';
}

export type { VrrpInstanceConfig };
