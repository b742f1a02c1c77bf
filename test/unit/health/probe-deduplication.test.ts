import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/core';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker } from '../../support/fake-checker';

test('watches with the same checker key share one probe; each keeps its own rise/fall', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const first = new FakeChecker('tcp:198.18.0.11:3306:x', clock, ['pass', 'pass', 'pass']);
  const second = new FakeChecker('tcp:198.18.0.11:3306:x', clock);
  const fast = monitor.watch('vs-a', first, { intervalMs: 1000, jitter: 0, rise: 1, initialState: 'fully-down' });
  const slow = monitor.watch('vs-b', second, { intervalMs: 1000, jitter: 0, rise: 3, initialState: 'fully-down' });
  assert.equal(monitor.probeCount, 1);
  await clock.advance(1000);
  assert.equal(first.runsAt.length, 1);
  assert.equal(second.runsAt.length, 0, 'the second checker is never run: the first serves both');
  assert.equal(fast.state, 'up');
  assert.equal(slow.state, 'down');
  await clock.advance(2000);
  assert.equal(first.runsAt.length, 3);
  assert.equal(slow.state, 'up');
  await monitor.stop();
});

test('a different key or a different interval is a different probe', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  monitor.watch('a', new FakeChecker('k1', clock), { intervalMs: 1000 });
  monitor.watch('b', new FakeChecker('k2', clock), { intervalMs: 1000 });
  monitor.watch('c', new FakeChecker('k1', clock), { intervalMs: 2000 });
  monitor.watch('d', new FakeChecker('k1', clock), { intervalMs: 1000, rise: 5 });
  assert.equal(monitor.probeCount, 3);
  await monitor.stop();
  assert.equal(monitor.probeCount, 0);
});

test('the probe runs while any watch remains and stops with the last one', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const c = new FakeChecker('k', clock);
  const a = monitor.watch('a', c, { intervalMs: 1000, jitter: 0 });
  const b = monitor.watch('b', new FakeChecker('k', clock), { intervalMs: 1000, jitter: 0 });
  await clock.advance(3000);
  a.stop();
  const runs = c.runsAt.length;
  await clock.advance(3000);
  assert.equal(c.runsAt.length, runs + 3, 'still probing for b');
  b.stop();
  await clock.advance(10_000);
  assert.equal(c.runsAt.length, runs + 3, 'no probe after the last watch stopped');
  assert.equal(monitor.probeCount, 0);
  assert.equal(clock.pending, 0, 'no timer left behind');
});
