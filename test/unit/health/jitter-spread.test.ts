import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/core';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker } from '../../support/fake-checker';

test('first probes of 1,000 watches spread evenly over the first interval', async () => {
  const clock = new FakeClock(42);
  const monitor = new HealthMonitor({ clock, log: false });
  const checkers = Array.from({ length: 1000 }, (_, i) => new FakeChecker(`k${i}`, clock));
  for (const c of checkers) monitor.watch(c.key, c, { intervalMs: 1000 });
  await clock.advance(1000);
  const buckets = new Array(10).fill(0);
  for (const c of checkers) {
    assert.ok(c.runsAt.length >= 1);
    buckets[Math.floor(c.runsAt[0] / 100)]++;
  }
  // uniform: 100 per 100 ms bucket; none crowded, none empty
  for (const b of buckets) assert.ok(b >= 60 && b <= 140, `bucket counts ${buckets.join(',')}`);
  await monitor.stop();
});

test('later probes come every interval less up to jitter, never later, so probes that started together drift apart', async () => {
  const clock = new FakeClock(7);
  const monitor = new HealthMonitor({ clock, log: false });
  const a = new FakeChecker('a', clock);
  const b = new FakeChecker('b', clock);
  monitor.watch('a', a, { intervalMs: 1000, jitter: 0.1 });
  monitor.watch('b', b, { intervalMs: 1000, jitter: 0.1 });
  await clock.advance(30_000);
  for (const c of [a, b]) {
    const gaps = c.runsAt.slice(1).map((t, i) => t - c.runsAt[i]);
    assert.ok(gaps.length >= 25);
    // never later than the interval: a failing server is found within interval × fall + timeout
    for (const g of gaps) assert.ok(g >= 900 && g <= 1000, `gap ${g}`);
    assert.ok(new Set(gaps.map(Math.round)).size > 10, 'gaps vary');
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    assert.ok(Math.abs(mean - 950) < 30, `mean gap ${mean}`);
  }
  await monitor.stop();
});

test('with jitter 0 the probe keeps an exact rate', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const c = new FakeChecker('a', clock);
  monitor.watch('a', c, { intervalMs: 500, jitter: 0 });
  await clock.advance(5000);
  const gaps = c.runsAt.slice(1).map((t, i) => t - c.runsAt[i]);
  assert.ok(gaps.length >= 8);
  for (const g of gaps) assert.equal(g, 500);
  await monitor.stop();
});
