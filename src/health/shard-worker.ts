// One shard of a ShardedHealthMonitor: a HealthMonitor in a worker thread, reporting transitions.
import { parentPort, workerData } from 'node:worker_threads';
import { HealthMonitor, type Watch } from './core';
import type { FromShard, ToShard } from './shards';
import { createChecker } from './spec';

const port = parentPort;
if (!port) throw new Error('shard-worker runs only as a worker thread');

const monitor = new HealthMonitor({ log: (workerData as { log?: boolean } | null)?.log !== false });
const watches = new Map<number, Watch>();
const numbers = new Map<Watch, number>();

monitor.on('transition', (t) => {
  const n = numbers.get(t.watch);
  if (n === undefined) return;
  port.postMessage({ op: 'transition', n, from: t.from, to: t.to, result: t.result, configError: t.watch.configError } satisfies FromShard);
});

port.on('message', (m: ToShard) => {
  if (m.op === 'watch') {
    try {
      const watch = monitor.watch(m.id, createChecker(m.spec), m.options);
      watches.set(m.n, watch);
      numbers.set(watch, m.n);
    } catch (err) {
      port.postMessage({ op: 'error', n: m.n, message: (err as Error).message } satisfies FromShard);
    }
  } else if (m.op === 'unwatch') {
    const watch = watches.get(m.n);
    if (!watch) return;
    watch.stop();
    watches.delete(m.n);
    numbers.delete(watch);
  } else {
    void monitor.stop().then(() => port.postMessage({ op: 'stopped' } satisfies FromShard));
  }
});
