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

/** Advances 1 ms at a time until `cond` holds; fails after `limitMs` of virtual time. */
async function advanceUntil(clock: FakeClock, cond: () => boolean, limitMs: number): Promise<void> {
  for (let i = 0; i < limitMs && !cond(); i++) await clock.advance(1);
  assert.ok(cond(), `not reached within ${limitMs} ms of virtual time`);
}

// A probe that hangs gives no result until its deadline: the watch keeps its initial state while
// it hangs, then the timeout counts as one failure, which moves each initial state its own way.
const hangCases: Array<{ initialState: WatchOptions['initialState']; script: Verdict[]; whileHanging: string; after: string[]; transitions: string[] }> = [
  // down is one pass from up, but the timeout resets that: two passes are then needed
  { initialState: 'down', script: ['hang', 'pass', 'pass'], whileHanging: 'down', after: ['down', 'down', 'up'], transitions: ['down->up'] },
  { initialState: 'fully-down', script: ['hang', 'pass', 'pass'], whileHanging: 'down', after: ['down', 'down', 'up'], transitions: ['down->up'] },
  // up is one failure from down: the timeout is that failure
  { initialState: 'up', script: ['hang', 'pass', 'pass'], whileHanging: 'up', after: ['down', 'down', 'up'], transitions: ['up->down', 'down->up'] },
  // fully-up needs fall (2) failures: the first timeout is not enough, the second is
  { initialState: 'fully-up', script: ['hang', 'hang', 'pass'], whileHanging: 'up', after: ['up', 'down', 'down'], transitions: ['up->down'] },
];

for (const c of hangCases) {
  test(`initial state ${c.initialState}: a hanging probe changes nothing until its deadline, then counts as a failure`, async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({ clock, log: false });
    const transitions: Transition[] = [];
    monitor.on('transition', (t: Transition) => transitions.push(t));
    const checker = new FakeChecker('k', clock, c.script);
    const watch = monitor.watch('rs1', checker, { intervalMs: 1000, timeoutMs: 900, jitter: 0, rise: 2, fall: 2, initialState: c.initialState });
    await advanceUntil(clock, () => checker.runsAt.length === 1, 1000);
    const startedAt = checker.runsAt[0];
    const last = () => watch.lastResult; // read afresh each time (the compiler would narrow a field)
    await clock.advance(startedAt + 899 - clock.now()); // 1 ms before the deadline: still hanging
    assert.equal(last(), undefined, 'no result while the probe hangs');
    assert.equal(watch.state, c.whileHanging);
    assert.equal(transitions.length, 0);
    assert.equal(checker.runsAt.length, 1, 'no second probe while one is in flight');

    // jitter 0 keeps the rate: probe k starts at startedAt + 1000 (k - 1); a pass answers at
    // once, a hang at its 900 ms deadline. Look 1 ms after each answer.
    const states: string[] = [];
    const reasons: string[] = [];
    let previous = last();
    for (let k = 0; k < c.script.length; k++) {
      const answerAt = startedAt + 1000 * k + (c.script[k] === 'hang' ? 900 : 0);
      await clock.advance(answerAt + 1 - clock.now());
      assert.notEqual(last(), previous, `probe ${k + 1} answered by ${answerAt}`);
      previous = last();
      reasons.push(last()?.reason ?? '');
      states.push(watch.state);
    }
    assert.deepEqual(
      reasons,
      c.script.map((v) => (v === 'hang' ? 'timeout after 900 ms' : v)),
    );
    assert.deepEqual(states, c.after);
    assert.deepEqual(transitions.map((t) => `${t.from}->${t.to}`), c.transitions);
    // a timeout decides a fall, a pass decides a rise
    for (const t of transitions) assert.equal(t.result.reason, t.to === 'down' ? 'timeout after 900 ms' : 'pass');
    await monitor.stop();
  });
}

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
