import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/core';
import { DeadlineExceeded, deadlineOf, runWithDeadline } from '../../../src/health/deadline';
import type { Checker, CheckResult } from '../../../src/health/types';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker } from '../../support/fake-checker';

test('a checker that ignores its signal still fails at the deadline', async () => {
  const clock = new FakeClock();
  const box: { result?: CheckResult } = {};
  void runWithDeadline(new FakeChecker('k', clock, ['hang']), 750, new AbortController(), clock).then((r) => (box.result = r));
  await clock.advance(749);
  assert.equal(box.result, undefined);
  await clock.advance(1);
  const result = box.result as CheckResult | undefined;
  assert.equal(result?.ok, false);
  assert.equal(result?.reason, 'timeout after 750 ms');
});

test('a checker that stops on abort reports its own reason, and sees the deadline in the signal', async () => {
  const clock = new FakeClock();
  const polite: Checker = {
    kind: 'tcp',
    key: 'p',
    run: (signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () =>
          resolve({ ok: false, reason: `connect timeout after ${deadlineOf(signal)} ms`, latencyMs: 0 }),
        ),
      ),
  };
  const controller = new AbortController();
  const pending = runWithDeadline(polite, 300, controller, clock);
  await clock.advance(300);
  assert.equal((await pending).reason, 'connect timeout after 300 ms');
  assert.ok(controller.signal.reason instanceof DeadlineExceeded);
});

test('a checker that rejects is reported as a checker fault without its error text', async () => {
  const leaky: Checker = { kind: 'mysql', key: 'l', run: () => Promise.reject(new Error('password=hunter2 refused')) };
  const r = await runWithDeadline(leaky, 1000);
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.doesNotMatch(r.reason, /hunter2/);
});

test('hanging probes count as failures in the monitor and the next probe still runs', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const c = new FakeChecker('k', clock, ['pass', 'hang', 'hang', 'hang', 'pass']);
  const seen: string[] = [];
  monitor.on('transition', (t) => seen.push(`${t.to}: ${t.result.reason}`));
  const watch = monitor.watch('rs', c, { intervalMs: 1000, timeoutMs: 400, jitter: 0, rise: 1, fall: 3 });
  await clock.advance(5000);
  assert.deepEqual(seen, ['up: pass', 'down: timeout after 400 ms', 'up: pass']);
  assert.equal(watch.state, 'up');
  const gaps = c.runsAt.slice(1).map((t, i) => t - c.runsAt[i]);
  assert.deepEqual(gaps.slice(0, 4), [1000, 1000, 1000, 1000], 'a timed-out probe does not delay the next');
  assert.ok(c.startedAborted.every((a) => !a), 'every run gets a live signal, also after a deadline abort');
  await monitor.stop();
});

test('stop() aborts the probe in flight and resolves; nothing runs afterwards', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  let aborted = false;
  const slow: Checker = {
    kind: 'tcp',
    key: 's',
    run: (signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ ok: false, reason: 'stopped', latencyMs: 0 });
        }),
      ),
  };
  const watch = monitor.watch('rs', slow, { intervalMs: 1000, timeoutMs: 900 });
  await clock.advance(1000); // the probe has started and waits
  await monitor.stop();
  assert.equal(aborted, true);
  assert.equal(watch.lastResult, undefined, 'a stopped probe reports nothing');
  assert.equal(clock.pending, 0);
});
