// Desired state of a service from health, overrides, maintenance and time (src/director/desired.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideService, nextRampAt, type Override, type ServerRuntime } from '../../../src/director/desired';
import type { ServiceSpec } from '../../../src/director/model';
import { server, service } from '../../support/director-specs';

const A = server('198.18.0.21', 3306, 3);
const B = server('198.18.0.22', 3306, 1);
const C = server('198.18.0.23', 3306, 2);

function decide(
  spec: ServiceSpec,
  health: Record<string, Partial<ServerRuntime>>,
  more: { overrides?: Record<string, Override>; maintenance?: string[]; before?: boolean; activeBefore?: string; now?: number } = {},
) {
  return decideService(spec, {
    runtime: (id) => ({ health: 'up', ...health[id] }),
    override: (id) => more.overrides?.[id],
    inMaintenance: (id) => more.maintenance?.includes(id) ?? false,
    quorumLostBefore: more.before,
    activeBefore: more.activeBefore,
    now: more.now ?? 1000,
  });
}

const weights = (d: ReturnType<typeof decide>) => Object.fromEntries([...d.desired].map(([id, rs]) => [id, rs.weight]));

test('up servers keep their configured weight; a down server gets weight 0 and stays in the table', () => {
  const d = decide(service('198.18.0.10', 3306, [A, B]), { [B.id]: { health: 'down' } });
  assert.deepEqual(weights(d), { [A.id]: 3, [B.id]: 0 });
  assert.deepEqual(d.servers.map((s) => s.state), ['up', 'down']);
  assert.equal(d.upWeight, 3);
});

test('on_failure: remove takes a down server out of the table', () => {
  const d = decide(service('198.18.0.10', 3306, [A, B], { onFailure: 'remove' }), { [B.id]: { health: 'down' } });
  assert.deepEqual(weights(d), { [A.id]: 3 });
});

test('operator drain and weight override, and maintenance, win over health', () => {
  const d = decide(service('198.18.0.10', 3306, [A, B, C]), {}, {
    overrides: { [A.id]: { kind: 'drain' }, [B.id]: { kind: 'weight', weight: 7 } },
    maintenance: [C.id],
  });
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 7, [C.id]: 0 });
  assert.deepEqual(d.servers.map((s) => s.state), ['drained', 'up', 'maintenance']);
  // a weight override does not bring a down server back
  const down = decide(service('198.18.0.10', 3306, [B]), { [B.id]: { health: 'down' } }, { overrides: { [B.id]: { kind: 'weight', weight: 7 } } });
  assert.deepEqual(weights(down), { [B.id]: 0 });
});

test('an exec check with dynamic weight sets the weight', () => {
  const d = decide(service('198.18.0.10', 3306, [A]), { [A.id]: { dynamicWeight: 9 } });
  assert.deepEqual(weights(d), { [A.id]: 9 });
});

test('slow start ramps the weight from 1 to the configured weight over the duration', () => {
  const heavy = server('198.18.0.24', 3306, 100);
  const spec = service('198.18.0.10', 3306, [heavy], { slowStartMs: 10_000 });
  const at = (now: number) => weights(decide(spec, { [heavy.id]: { upSince: 0 } }, { now }))[heavy.id];
  assert.equal(at(0), 1);
  assert.equal(at(2_500), 25);
  assert.equal(at(5_000), 50);
  assert.equal(at(9_999), 100);
  assert.equal(at(10_000), 100);
  const d = decide(spec, { [heavy.id]: { upSince: 0 } }, { now: 2_500 });
  assert.equal(d.servers[0].state, 'slow-start');
  const next = nextRampAt(d, { runtime: () => ({ health: 'up', upSince: 0 }), now: 2_500 });
  assert.ok(next !== undefined && next > 2_500 && next <= 3_000, `next step at ${next}`);
  // adopted up (no upSince): no ramp
  assert.equal(weights(decide(spec, {}, { now: 5 }))[heavy.id], 100);
});

test('quorum with hysteresis brings the sorry server in and out', () => {
  const sorry = server('198.18.0.99', 3306, 1).server;
  const spec = service('198.18.0.10', 3306, [A, B, C], { quorum: 4, hysteresis: 1, sorry });
  const sorryId = '198.18.0.99|3306';
  // up weight 6 >= 4: met
  let d = decide(spec, {});
  assert.equal(d.quorumLost, false);
  // A down: up weight 3 is not below quorum - hysteresis (3): still met
  d = decide(spec, { [A.id]: { health: 'down' } }, { before: false });
  assert.equal(d.quorumLost, false);
  assert.equal(d.desired.has(sorryId), false);
  // A and C down: up weight 1 < 3: lost, the sorry server comes in
  d = decide(spec, { [A.id]: { health: 'down' }, [C.id]: { health: 'down' } }, { before: false });
  assert.equal(d.quorumLost, true);
  assert.equal(d.desired.get(sorryId)?.weight, 1);
  // A back: up weight 4 is below quorum + hysteresis (5): still lost
  d = decide(spec, { [C.id]: { health: 'down' } }, { before: true });
  assert.equal(d.quorumLost, true);
  // all back: 6 >= 5: regained, the sorry server goes
  d = decide(spec, {}, { before: true });
  assert.equal(d.quorumLost, false);
  assert.equal(d.desired.has(sorryId), false);
});

test('all servers down: keep-last keeps the server that failed last at its weight', () => {
  const spec = service('198.18.0.10', 3306, [A, B], { allDown: 'keep-last' });
  const d = decide(spec, { [A.id]: { health: 'down', downSince: 500 }, [B.id]: { health: 'down', downSince: 900 } });
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 1 });
  // empty: everything at 0
  const e = decide(service('198.18.0.10', 3306, [A, B]), { [A.id]: { health: 'down' }, [B.id]: { health: 'down' } });
  assert.deepEqual(weights(e), { [A.id]: 0, [B.id]: 0 });
});

test('active: one serves from the first up server in list order; the other up servers wait at weight 0', () => {
  const spec = service('198.18.0.10', 3306, [A, B, C], { active: 'one' });
  let d = decide(spec, {});
  assert.deepEqual(weights(d), { [A.id]: 3, [B.id]: 0, [C.id]: 0 });
  assert.deepEqual(d.servers.map((s) => s.state), ['up', 'standby', 'standby']);
  assert.equal(d.active, A.id);
  // the quorum counts the standby servers: they are up and would serve
  assert.equal(d.upWeight, 6);
  // A fails: the next up one in list order serves in the same decision
  d = decide(spec, { [A.id]: { health: 'down' } }, { activeBefore: A.id });
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 1, [C.id]: 0 });
  assert.equal(d.active, B.id);
});

test('active: one keeps the serving server while it is up: no failback, and a drain moves it on', () => {
  const spec = service('198.18.0.10', 3306, [A, B, C], { active: 'one' });
  // A is up again, but B serves since A failed: B goes on serving
  let d = decide(spec, {}, { activeBefore: B.id });
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 1, [C.id]: 0 });
  assert.deepEqual(d.servers.map((s) => s.state), ['standby', 'up', 'standby']);
  // an operator drains B: the first up one in list order serves
  d = decide(spec, {}, { activeBefore: B.id, overrides: { [B.id]: { kind: 'drain' } } });
  assert.deepEqual(weights(d), { [A.id]: 3, [B.id]: 0, [C.id]: 0 });
  assert.equal(d.active, A.id);
  // a server at weight 0 (operator override) never serves; none up: none serves
  d = decide(spec, { [B.id]: { health: 'down' }, [C.id]: { health: 'down' } }, { overrides: { [A.id]: { kind: 'weight', weight: 0 } } });
  assert.equal(d.active, undefined);
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 0, [C.id]: 0 });
});

test('active: one with slow start: the server that takes over ramps only if it just came up', () => {
  const spec = service('198.18.0.10', 3306, [A, B], { active: 'one', slowStartMs: 10_000 });
  // B has been up (standby) for long: it serves at its full weight at once
  let d = decide(spec, { [A.id]: { health: 'down' }, [B.id]: { upSince: 0 } }, { activeBefore: A.id, now: 60_000 });
  assert.deepEqual(weights(d), { [A.id]: 0, [B.id]: 1 });
  // both just came up: only the one that serves ramps; the other waits at 0
  d = decide(spec, { [A.id]: { upSince: 0 }, [B.id]: { upSince: 0 } }, { now: 5_000 });
  assert.deepEqual(d.servers.map((s) => s.state), ['slow-start', 'standby']);
  assert.deepEqual(weights(d), { [A.id]: 2, [B.id]: 0 });
});
