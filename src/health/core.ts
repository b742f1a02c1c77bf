// The one scheduler for every check kind: interval, deadline, start jitter, rise/fall, initial
// state, back-off on checker-side faults, and deduplication of equal probes. Checkers only probe.
//
// Dedup: a Probe is one timer + one checker, shared by every Watch whose checker has the same
// key and the same timing (interval, timeout, jitter, back-off). Each Watch keeps its own
// rise/fall counters, initial state and state.
import { EventEmitter } from 'node:events';
import { InputError } from '../errors';
import { logger } from '../log';
import { Clock, realClock, runWithDeadline } from './deadline';
import { Scheduler, type Scheduled } from './scheduler';
import type { Checker, CheckResult } from './types';

export type HealthState = 'up' | 'down';

/**
 * Where a watch starts (HAProxy's init-state):
 * - down: down; the first pass brings it up (default)
 * - fully-down: down; needs `rise` passes
 * - up: up; the first failure takes it down
 * - fully-up: up; needs `fall` failures
 */
export type InitialState = 'down' | 'fully-down' | 'up' | 'fully-up';

export interface WatchOptions {
  /** time between the starts of two probes */
  intervalMs: number;
  /** overall deadline of one probe */
  timeoutMs: number;
  /** consecutive passes to go up */
  rise: number;
  /** consecutive failures to go down */
  fall: number;
  initialState: InitialState;
  /** each delay is interval × (1 - up to jitter), so probes drift apart rather than line up, never later than the interval */
  jitter: number;
  /** back-off after configuration errors doubles the delay up to this */
  backoffMaxMs: number;
}

/** idle controllers kept at most: about the probes in flight at once on a busy director */
const MAX_IDLE_CONTROLLERS = 1024;

export const DEFAULT_WATCH_OPTIONS: Readonly<WatchOptions> = Object.freeze({
  intervalMs: 2000,
  timeoutMs: 1000,
  rise: 2,
  fall: 3,
  initialState: 'down',
  jitter: 0.1,
  backoffMaxMs: 60_000,
});

export interface Transition {
  watch: Watch;
  from: HealthState;
  to: HealthState;
  /** the result that completed the transition */
  result: CheckResult;
}

export interface HealthMonitorOptions {
  clock?: Clock;
  /** log transitions (default true); never logs checker parameters, only the watch id and reason */
  log?: boolean;
}

/** One subscriber's view of a shared probe: its own hysteresis and state. */
export class Watch {
  state: HealthState;
  /** the last result seen, for status output */
  lastResult: CheckResult | undefined;
  /** the last result was a checker-side fault (bad credentials, TLS, unknown plugin) */
  configError = false;
  /** whatever the caller ties to this watch (the director: its server's record), so it needs no map */
  owner: unknown = undefined;
  private passes = 0;
  private fails = 0;

  constructor(
    readonly id: string,
    readonly kind: Checker['kind'],
    readonly options: Readonly<WatchOptions>,
    private readonly probe: Probe,
  ) {
    const initial = options.initialState;
    this.state = initial === 'up' || initial === 'fully-up' ? 'up' : 'down';
    // 'down' and 'up' are one result away from changing, as in HAProxy.
    if (initial === 'down') this.passes = options.rise - 1;
    if (initial === 'up') this.fails = options.fall - 1;
  }

  /** Stops this watch; the probe stops when its last watch does. */
  stop(): void {
    this.probe.remove(this);
  }

  /** Applies one result; returns the previous state when it changed. */
  apply(result: CheckResult): HealthState | undefined {
    this.lastResult = result;
    this.configError = result.configError === true;
    const pass = result.ok && !this.configError;
    if (pass) {
      this.passes++;
      this.fails = 0;
      if (this.state === 'down' && this.passes >= this.options.rise) return this.flip('up');
    } else {
      this.fails++;
      this.passes = 0;
      if (this.state === 'up' && this.fails >= this.options.fall) return this.flip('down');
    }
    return undefined;
  }

  private flip(to: HealthState): HealthState {
    const from = this.state;
    this.state = to;
    return from;
  }
}

/** One checker, run when the monitor's scheduler says it is due, feeding every watch that shares it. */
class Probe implements Scheduled {
  /** the watches it feeds: nearly always one, so that one is kept without an array (~2 MiB at 40,000) */
  private watch: Watch | undefined;
  private others: Watch[] | undefined;
  dueAt = 0;
  slot = -1;
  /** the run's controller, from the monitor's idle ones, while a run is in flight */
  private controller: AbortController | undefined;
  private inFlight: Promise<void> | undefined;
  private startedAt = 0;
  private configErrors = 0;
  private stopped = false;

  constructor(
    /** the monitor's probes of this timing, by checker key, this one among them */
    readonly home: Map<string, Probe>,
    readonly checker: Checker,
    private readonly options: Readonly<WatchOptions>,
    private readonly monitor: HealthMonitor,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    // Start somewhere in the first interval so probes never fire together.
    scheduler.add(this, clock.now() + clock.random() * options.intervalMs);
  }

  add(watch: Watch): void {
    if (this.watch === undefined) this.watch = watch;
    else (this.others ??= []).push(watch);
  }

  remove(watch: Watch): void {
    if (this.watch === watch) this.watch = this.others?.shift();
    else if (this.others?.includes(watch)) this.others = this.others.filter((w) => w !== watch);
    else return;
    if (this.others?.length === 0) this.others = undefined;
    if (this.watch === undefined) void this.stop();
  }

  /** Clears the timer and aborts a probe in flight; resolves when it has settled. */
  stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.remove(this);
    if (this.inFlight) this.controller?.abort('stopped');
    this.monitor.forget(this);
    return this.inFlight ?? Promise.resolve();
  }

  /** The scheduler's call: runs the checker. */
  due(): void {
    if (this.stopped) return;
    this.controller = this.monitor.takeController();
    this.startedAt = this.clock.now();
    this.inFlight = runWithDeadline(this.checker, this.options.timeoutMs, this.controller, this.clock).then((result) => this.settle(result));
  }

  private settle(result: CheckResult): void {
    this.inFlight = undefined;
    this.monitor.giveBack(this.controller!);
    this.controller = undefined;
    if (this.stopped) return;
    const others = this.others?.slice(); // a listener may stop a watch meanwhile
    if (this.watch) this.feed(this.watch, result);
    if (others) for (const watch of others) this.feed(watch, result);
    this.scheduler.add(this, this.clock.now() + this.nextDelay(result));
  }

  private feed(watch: Watch, result: CheckResult): void {
    const from = watch.apply(result);
    // exec checks with dynamic weight report a weight on every result, not only on transitions
    if (result.weight !== undefined) this.monitor.emit('result', watch, result);
    if (from !== undefined) this.monitor.transition({ watch, from, to: watch.state, result });
  }

  private nextDelay(result: CheckResult): number {
    const { intervalMs, jitter, backoffMaxMs } = this.options;
    let base: number;
    if (result.configError) {
      // Checker-side faults still cost the server (an aborted connect): retry ever more slowly.
      this.configErrors++;
      base = Math.min(intervalMs * 2 ** this.configErrors, Math.max(backoffMaxMs, intervalMs));
    } else {
      this.configErrors = 0;
      base = intervalMs - (this.clock.now() - this.startedAt); // keep the rate, not the gap
    }
    // Jitter only brings a probe earlier: probes that started together still drift apart, and none
    // comes later than the interval, so a failure is found within interval × fall + timeout.
    const spread = 1 - this.clock.random() * jitter;
    return Math.max(0, base * spread);
  }
}

export interface HealthMonitor {
  on(event: 'transition', listener: (t: Transition) => void): this;
  on(event: 'result', listener: (watch: Watch, result: CheckResult) => void): this;
  emit(event: 'result', watch: Watch, result: CheckResult): boolean;
  off(event: 'transition', listener: (t: Transition) => void): this;
  emit(event: 'transition', t: Transition): boolean;
}

/** Runs watches; emits 'transition' when a watch goes up or down. */
export class HealthMonitor extends EventEmitter {
  /** by timing (interval, timeout, jitter, back-off), then by checker key: no id string kept per probe */
  private readonly probes = new Map<string, Map<string, Probe>>();
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  /**
   * Controllers of finished runs, not aborted, for the next runs of any probe. A fresh AbortSignal
   * with a listener costs ~35 µs in Node 20, more than the connect it guards; one kept per probe
   * cost ~500 bytes (its signal has two maps and a hidden class of its own). Checkers take their
   * listeners off when they finish, so a run's signal carries nothing of the previous one.
   */
  private readonly idleControllers: AbortController[] = [];
  /** validated options by value: watches with the same timing share one frozen object */
  private readonly optionSets = new Map<string, Readonly<WatchOptions>>();
  private readonly log: ReturnType<typeof logger> | undefined;

  constructor(options: HealthMonitorOptions = {}) {
    super();
    this.clock = options.clock ?? realClock;
    this.scheduler = new Scheduler(this.clock);
    this.log = options.log === false ? undefined : logger('health');
  }

  /**
   * Starts watching `checker`. `id` names the watch in events and logs (e.g. the real server);
   * it must not hold secrets. Equal checkers (same key and timing) share one probe.
   */
  watch(id: string, checker: Checker, options: Partial<WatchOptions> = {}): Watch {
    const opts = this.optionsOf(options);
    const timing = [opts.intervalMs, opts.timeoutMs, opts.jitter, opts.backoffMaxMs].join('|');
    let home = this.probes.get(timing);
    if (!home) {
      home = new Map();
      this.probes.set(timing, home);
    }
    let probe = home.get(checker.key);
    if (!probe) {
      probe = new Probe(home, checker, opts, this, this.clock, this.scheduler);
      home.set(checker.key, probe);
    }
    const watch = new Watch(id, checker.kind, opts, probe);
    probe.add(watch);
    return watch;
  }

  private optionsOf(options: Partial<WatchOptions>): Readonly<WatchOptions> {
    const o = validateWatchOptions({ ...DEFAULT_WATCH_OPTIONS, ...options });
    const key = [o.intervalMs, o.timeoutMs, o.rise, o.fall, o.initialState, o.jitter, o.backoffMaxMs].join();
    let shared = this.optionSets.get(key);
    if (!shared) {
      shared = Object.freeze(o);
      this.optionSets.set(key, shared);
    }
    return shared;
  }

  /** @internal a controller for one run, not aborted */
  takeController(): AbortController {
    return this.idleControllers.pop() ?? new AbortController();
  }

  /** @internal the controller of a finished run: kept for another unless it aborted */
  giveBack(controller: AbortController): void {
    if (!controller.signal.aborted && this.idleControllers.length < MAX_IDLE_CONTROLLERS) this.idleControllers.push(controller);
  }

  /** Number of distinct probes running (after deduplication). */
  get probeCount(): number {
    let n = 0;
    for (const home of this.probes.values()) n += home.size;
    return n;
  }

  /** Stops every probe and waits until none is in flight (each is bounded by its deadline). */
  async stop(): Promise<void> {
    const probes = [...this.probes.values()].flatMap((home) => [...home.values()]);
    await Promise.all(probes.map((p) => p.stop()));
    this.scheduler.clear();
  }

  /** @internal */
  forget(probe: Probe): void {
    if (probe.home.get(probe.checker.key) === probe) probe.home.delete(probe.checker.key);
  }

  /** @internal */
  transition(t: Transition): void {
    this.log?.info(
      { watch: t.watch.id, kind: t.watch.kind, from: t.from, to: t.to, configError: t.watch.configError || undefined },
      `${t.watch.id} is ${t.to}: ${t.result.reason}`,
    );
    this.emit('transition', t);
  }
}

/** Checks option ranges; errors name the option. */
export function validateWatchOptions(o: WatchOptions): WatchOptions {
  const positiveInt = (name: keyof WatchOptions, max: number): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new InputError(`health check option ${name}: must be an integer from 1 to ${max}, got ${String(v)}`);
    }
  };
  positiveInt('intervalMs', 86_400_000);
  positiveInt('timeoutMs', 3_600_000);
  positiveInt('rise', 1000);
  positiveInt('fall', 1000);
  positiveInt('backoffMaxMs', 86_400_000);
  if (!['down', 'fully-down', 'up', 'fully-up'].includes(o.initialState)) {
    throw new InputError(
      `health check option initialState: must be one of down, fully-down, up, fully-up, got ${String(o.initialState)}`,
    );
  }
  if (typeof o.jitter !== 'number' || !(o.jitter >= 0 && o.jitter <= 0.5)) {
    throw new InputError(`health check option jitter: must be a number from 0 to 0.5, got ${String(o.jitter)}`);
  }
  return o;
}
