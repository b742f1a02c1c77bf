// Spreads watches over worker threads, each running its own HealthMonitor, for when one thread
// cannot carry every check (measured in bench/health-tcp-bench.ts). Watches are placed by checker
// key, so equal checks still land on one shard and share one probe there.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HealthState, WatchOptions } from './core';
import { createChecker, type CheckSpec } from './spec';
import type { CheckResult } from './types';

/** Messages to a shard. */
export type ToShard =
  | { op: 'watch'; n: number; id: string; spec: CheckSpec; options: Partial<WatchOptions> }
  | { op: 'unwatch'; n: number }
  | { op: 'stop' };

/** Messages from a shard. */
export type FromShard =
  | { op: 'transition'; n: number; from: HealthState; to: HealthState; result: CheckResult; configError: boolean }
  | { op: 'error'; n: number; message: string }
  | { op: 'stopped' };

export class ShardedWatch {
  state: HealthState;
  lastResult: CheckResult | undefined;
  configError = false;

  constructor(
    readonly id: string,
    readonly kind: CheckSpec['kind'],
    initialState: HealthState,
    private readonly unwatch: () => void,
  ) {
    this.state = initialState;
  }

  stop(): void {
    this.unwatch();
  }
}

export interface ShardedTransition {
  watch: ShardedWatch;
  from: HealthState;
  to: HealthState;
  result: CheckResult;
}

export interface ShardedHealthMonitor {
  on(event: 'transition', listener: (t: ShardedTransition) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export class ShardedHealthMonitor extends EventEmitter {
  private readonly workers: Worker[] = [];
  private readonly watches = new Map<number, ShardedWatch>();
  private next = 0;

  /** `log: false` silences the shards' transition logs (as HealthMonitor's option does). */
  constructor(shards = Math.max(1, availableParallelism() - 1), options: { log?: boolean } = {}) {
    super();
    for (let i = 0; i < shards; i++) {
      const worker = new Worker(join(__dirname, 'shard-worker.js'), { workerData: { log: options.log !== false } });
      worker.on('message', (m: FromShard) => this.receive(m));
      worker.on('error', (err) => this.emit('error', err));
      this.workers.push(worker);
    }
  }

  get shardCount(): number {
    return this.workers.length;
  }

  /** Like HealthMonitor.watch; the checker is built inside its shard from `spec`. */
  watch(id: string, spec: CheckSpec, options: Partial<WatchOptions> = {}): ShardedWatch {
    const key = createChecker(spec).key; // also validates the spec here, in the caller's thread
    const worker = this.workers[shardOf(key, this.workers.length)];
    const n = this.next++;
    const initial = options.initialState === 'up' || options.initialState === 'fully-up' ? 'up' : 'down';
    const watch = new ShardedWatch(id, spec.kind, initial, () => {
      if (this.watches.delete(n)) worker.postMessage({ op: 'unwatch', n } satisfies ToShard);
    });
    this.watches.set(n, watch);
    worker.postMessage({ op: 'watch', n, id, spec, options } satisfies ToShard);
    return watch;
  }

  /** Stops every shard's probes, then the threads. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        const stopped = new Promise<void>((resolve) =>
          worker.on('message', (m: FromShard) => m.op === 'stopped' && resolve()),
        );
        worker.postMessage({ op: 'stop' } satisfies ToShard);
        await stopped;
        await worker.terminate();
      }),
    );
    this.watches.clear();
  }

  private receive(m: FromShard): void {
    if (m.op === 'stopped') return;
    const watch = this.watches.get(m.n);
    if (!watch) return;
    if (m.op === 'error') {
      this.emit('error', new Error(`${watch.id}: ${m.message}`));
      return;
    }
    watch.state = m.to;
    watch.lastResult = m.result;
    watch.configError = m.configError;
    this.emit('transition', { watch, from: m.from, to: m.to, result: m.result });
  }
}

/** FNV-1a of the key, so equal checks meet on the same shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}
