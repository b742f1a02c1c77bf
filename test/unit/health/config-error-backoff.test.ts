import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/core';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker } from '../../support/fake-checker';

test('configuration errors back off exponentially up to the cap, then the interval resumes', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const c = new FakeChecker('k', clock, ['config', 'config', 'config', 'config', 'config', 'config', 'pass', 'pass']);
  const watch = monitor.watch('rs', c, { intervalMs: 1000, jitter: 0, backoffMaxMs: 10_000, rise: 1 });
  await clock.advance(60_000);
  const gaps = c.runsAt.slice(1, 9).map((t, i) => t - c.runsAt[i]);
  assert.deepEqual(gaps, [2000, 4000, 8000, 10_000, 10_000, 10_000, 1000, 1000]);
  assert.equal(watch.state, 'up');
  await monitor.stop();
});

test('a configuration error is never up, even with rise 1 and initial state down', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const ups: string[] = [];
  monitor.on('transition', (t) => ups.push(t.to));
  const watch = monitor.watch('rs', new FakeChecker('k', clock, [], 'config'), { intervalMs: 1000, rise: 1 });
  await clock.advance(120_000);
  assert.equal(watch.state, 'down');
  assert.equal(watch.configError, true);
  assert.equal(watch.lastResult?.reason, 'bad credentials');
  assert.deepEqual(ups, []);
  await monitor.stop();
});

test('configuration errors count as failures: an up server goes down after fall of them', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const c = new FakeChecker('k', clock, ['pass', 'config', 'config']);
  const watch = monitor.watch('rs', c, { intervalMs: 1000, jitter: 0, rise: 1, fall: 2 });
  await clock.advance(1000);
  assert.equal(watch.state, 'up');
  await clock.advance(3000);
  assert.equal(watch.state, 'down');
  assert.equal(watch.configError, true);
  await monitor.stop();
});
