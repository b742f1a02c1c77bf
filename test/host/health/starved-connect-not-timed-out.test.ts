// A starved checker (its event loop blocked past the deadline while the kernel completed the
// connect) must report the completed connect, not a timeout: libuv runs due timers before the
// I/O that became ready meanwhile, so the deadline has to let that I/O be handled first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { HealthMonitor } from '../../../src/health/core';
import { runWithDeadline } from '../../../src/health/deadline';
import { TcpChecker } from '../../../src/health/tcp';
import type { Checker } from '../../../src/health/types';

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((c) => c.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Blocks this thread: the process is running but its event loop is not (as when starved). */
function stall(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    // spin
  }
}

for (const [name, options] of [
  ['bare connect (the TCP handle fast path)', {}],
  ['connect and send (net.Socket)', { send: 'ping\n' }],
] as const) {
  test(`${name}: a connect completed while the loop was stalled past the deadline is a pass`, async () => {
    const { server, port } = await listen();
    try {
      for (let i = 0; i < 5; i++) {
        const pending = runWithDeadline(new TcpChecker({ host: '127.0.0.1', port, ...options }), 50);
        stall(200); // the connect completes in the kernel; the 50 ms deadline passes
        const r = await pending;
        assert.equal(r.ok, true, `run ${i + 1}: ${r.reason}`);
      }
    } finally {
      server.close();
    }
  });
}

test('a stalled monitor makes no false down transition when every target is up', async () => {
  const { server, port } = await listen();
  const monitor = new HealthMonitor({ log: false });
  const downs: string[] = [];
  monitor.on('transition', (t) => {
    if (t.to === 'down') downs.push(t.result.reason);
  });
  try {
    const watches = Array.from({ length: 20 }, (_, i) =>
      monitor.watch(`rs${i}`, new TcpChecker({ host: '127.0.0.1', port }), { intervalMs: 100, timeoutMs: 50, rise: 1, fall: 1, initialState: 'fully-up', jitter: 0 }),
    );
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 30));
      stall(150);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(downs, []);
    assert.ok(watches.every((w) => w.state === 'up'));
  } finally {
    await monitor.stop();
    server.close();
  }
});

test('with the real clock, a probe that never finishes still fails at its deadline', async () => {
  const hang: Checker = { kind: 'tcp', key: 'hang', run: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, reason: 'connect timeout', latencyMs: 0 }))) };
  const t0 = performance.now();
  const r = await runWithDeadline(hang, 50);
  const took = performance.now() - t0;
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'connect timeout');
  assert.ok(took >= 49 && took < 1000, `took ${took} ms`);
});
