// The monitor's probes share one clock timer (src/health/scheduler.ts): each still runs when it
// is due, in due order, and a stopped probe's turn is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../../src/health/core';
import { Scheduler, type Scheduled } from '../../../src/health/scheduler';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker } from '../../support/fake-checker';

function item(name: string, ran: string[]): Scheduled {
  return { dueAt: 0, slot: -1, due: () => ran.push(name) };
}

test('1,000 watches with jittered intervals run on one timer, every probe at its own interval', async () => {
  const clock = new FakeClock(3);
  const monitor = new HealthMonitor({ clock, log: false });
  const checkers = Array.from({ length: 1000 }, (_, i) => new FakeChecker(`k${i}`, clock));
  for (const c of checkers) monitor.watch(c.key, c, { intervalMs: 1000, jitter: 0.1 });
  assert.equal(clock.pending, 1);
  await clock.advance(10_000);
  // a deadline timer per probe in flight, none here: the probes settled at once
  assert.equal(clock.pending, 1);
  for (const c of checkers) {
    assert.ok(c.runsAt.length >= 9 && c.runsAt.length <= 12, `${c.key} ran ${c.runsAt.length} times`);
    const gaps = c.runsAt.slice(1).map((t, i) => t - c.runsAt[i]);
    for (const g of gaps) assert.ok(g >= 900 && g <= 1100, `gap ${g}`);
  }
  await monitor.stop();
  assert.equal(clock.pending, 0, 'no timer left once the monitor stopped');
});

test('a stopped watch never runs again; the timer goes with the last probe', async () => {
  const clock = new FakeClock(5);
  const monitor = new HealthMonitor({ clock, log: false });
  const a = new FakeChecker('a', clock);
  const b = new FakeChecker('b', clock);
  const wa = monitor.watch('a', a, { intervalMs: 1000 });
  const wb = monitor.watch('b', b, { intervalMs: 1000 });
  await clock.advance(2500);
  wa.stop();
  const aRuns = a.runsAt.length;
  await clock.advance(5000);
  assert.equal(a.runsAt.length, aRuns);
  assert.ok(b.runsAt.length >= 6);
  wb.stop();
  await clock.advance(0);
  assert.equal(clock.pending, 0);
  await monitor.stop();
});

test('the scheduler runs items in due order, moves one added again, and skips one removed', async () => {
  const clock = new FakeClock();
  const s = new Scheduler(clock);
  const ran: string[] = [];
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => item(n, ran));
  s.add(c, 300);
  s.add(a, 100);
  s.add(d, 400);
  s.add(b, 200);
  s.add(d, 50); // moved earlier
  s.remove(c);
  assert.equal(s.size, 3);
  await clock.advance(150);
  assert.deepEqual(ran, ['d', 'a']);
  await clock.advance(1000);
  assert.deepEqual(ran, ['d', 'a', 'b']);
  assert.equal(clock.pending, 0);
  // many items at random times come out sorted
  const times = Array.from({ length: 500 }, () => Math.floor(clock.random() * 10_000));
  const order: number[] = [];
  times.forEach((t, i) => s.add({ dueAt: 0, slot: -1, due: () => order.push(t) }, clock.now() + t + i / 1000));
  await clock.advance(20_000);
  assert.equal(order.length, 500);
  for (let i = 1; i < order.length; i++) assert.ok(order[i - 1] <= order[i], `${order[i - 1]} before ${order[i]}`);
});

test('a backlog runs 5 ms of items per tick; other timers run between, and every item still runs in order', async () => {
  const clock = new FakeClock();
  const s = new Scheduler(clock);
  const ran: number[] = [];
  for (let i = 0; i < 100; i++) {
    // each item takes 1 ms of the clock, as a connect does under emulation
    s.add({ dueAt: 0, slot: -1, due: () => { ran.push(i); clock.spend(1); } }, 1 + i / 1000);
  }
  // another timer, due once all the items are (a signal's turn, say)
  const seen: number[] = [];
  clock.setTimeout(() => seen.push(ran.length), 2);
  clock.spend(50); // the event loop was busy: everything is overdue when timers run again
  await clock.advance(0);
  assert.deepEqual(seen, [5], 'the other timer ran after the first 5 ms of items, not after all 100');
  await clock.advance(200);
  assert.equal(ran.length, 100);
  assert.deepEqual(ran, [...ran].sort((a, b) => a - b));
  assert.equal(clock.pending, 0);
});
