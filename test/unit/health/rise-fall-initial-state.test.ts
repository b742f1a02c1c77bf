import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, type Transition, type WatchOptions } from '../../../src/health/core';
import { FakeClock } from '../../support/fake-clock';
import { FakeChecker, type Verdict } from '../../support/fake-checker';

/** Runs a watch through `verdicts` (one per interval) and returns its state after each. */
async function statesAfter(verdicts: Verdict[], options: Partial<WatchOptions>): Promise<{ states: string[]; transitions: string[] }> {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const transitions: string[] = [];
  monitor.on('transition', (t: Transition) => transitions.push(`${t.from}->${t.to}`));
  const watch = monitor.watch('rs1', new FakeChecker('k', clock, verdicts), { intervalMs: 1000, jitter: 0, ...options });
  const states: string[] = [];
  await clock.advance(999); // the first probe starts within the first interval
  for (let i = 0; i < verdicts.length; i++) {
    if (i > 0) await clock.advance(1000);
    states.push(watch.state);
  }
  await monitor.stop();
  return { states, transitions };
}

test('fully-down needs rise consecutive passes; fully-up needs fall consecutive failures', async () => {
  const r = await statesAfter(['pass', 'pass', 'fail', 'pass', 'pass', 'pass', 'fail', 'fail', 'pass', 'fail', 'fail', 'fail'], {
    initialState: 'fully-down',
    rise: 3,
    fall: 3,
  });
  assert.deepEqual(r.states, ['down', 'down', 'down', 'down', 'down', 'up', 'up', 'up', 'up', 'up', 'up', 'down']);
  assert.deepEqual(r.transitions, ['down->up', 'up->down']);
});

test('initial state down (default): the first pass brings the server up', async () => {
  const r = await statesAfter(['pass', 'fail', 'fail', 'fail'], { rise: 2, fall: 3 });
  assert.deepEqual(r.states, ['up', 'up', 'up', 'down']);
});

test('initial state down: a failure first means the full rise is needed', async () => {
  const r = await statesAfter(['fail', 'pass', 'pass'], { rise: 2, fall: 3 });
  assert.deepEqual(r.states, ['down', 'down', 'up']);
});

test('initial state up: the first failure takes it down; fully-up waits for fall', async () => {
  assert.deepEqual((await statesAfter(['fail', 'pass'], { initialState: 'up', rise: 2, fall: 3 })).states, ['down', 'down']);
  assert.deepEqual(
    (await statesAfter(['fail', 'fail', 'fail'], { initialState: 'fully-up', rise: 2, fall: 3 })).states,
    ['up', 'up', 'down'],
  );
});

test('a watch that never gets a result stays in its initial state and emits nothing', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  let events = 0;
  monitor.on('transition', () => events++);
  const watch = monitor.watch('rs1', new FakeChecker('k', clock, ['hang']), { intervalMs: 1000, timeoutMs: 900, rise: 1 });
  await clock.advance(500);
  await monitor.stop();
  assert.equal(watch.state, 'down');
  assert.equal(events, 0);
});

test('transition events carry the watch, both states and the deciding result', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, log: false });
  const seen: Transition[] = [];
  monitor.on('transition', (t) => seen.push(t));
  const watch = monitor.watch('vs 198.18.0.10:80 rs 198.18.0.11:80', new FakeChecker('k', clock, ['pass']), { intervalMs: 1000 });
  await clock.advance(1000);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].watch, watch);
  assert.equal(seen[0].from, 'down');
  assert.equal(seen[0].to, 'up');
  assert.equal(seen[0].result.reason, 'pass');
  await monitor.stop();
});

test('options are validated and the error names the option', () => {
  const monitor = new HealthMonitor({ log: false });
  const c = new FakeChecker('k', new FakeClock());
  assert.throws(() => monitor.watch('a', c, { rise: 0 }), /rise: must be an integer from 1/);
  assert.throws(() => monitor.watch('a', c, { intervalMs: 1.5 }), /intervalMs/);
  assert.throws(() => monitor.watch('a', c, { jitter: 0.9 }), /jitter/);
  assert.throws(() => monitor.watch('a', c, { initialState: 'sideways' as never }), /initialState/);
  assert.equal(monitor.probeCount, 0);
});
