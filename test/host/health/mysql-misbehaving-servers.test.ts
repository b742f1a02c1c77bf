// Scripted misbehaving MySQL servers on 127.0.0.1 (docs/reliability.md §6 items 11-14, 16, 17, 20):
// each is down within its deadline with the right reason, checker-side faults are configuration
// errors (never up), and 10,000 runs per misbehaviour leave no file descriptor behind.
// Bounded in count and in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker } from '../../../src/health/mysql';
import type { CheckResult } from '../../../src/health/types';
import { startFakeMysql, startFakeMysqlProcess, type FakeBehaviour, type FakeMysql } from '../../support/fake-mysql';

const RUNS = 10_000;
const CONCURRENCY = 100;
const DEADLINE_MS = 100;
/**
 * How late a run may resolve after its deadline: event-loop lag under 100 concurrent runs on a
 * shared 2-core host (other suites and lab VMs run at the same time). It bounds the run; it is
 * not a latency target.
 */
const LATENESS_MS = 2500;
/**
 * Bounds each load case's loop. No speed claim: a case takes about 20 s on this project's shared
 * 2-core host under load; the bound is many times that, so a busy CI machine always meets it.
 */
const CASE_TIME_LIMIT_MS = 300_000;
const PASSWORD_ENV = 'LVSD_TEST_FAKE_PW';
process.env[PASSWORD_ENV] = 'fake-server-pw';

function checker(port: number, tls = false): MysqlChecker {
  return new MysqlChecker({ host: '127.0.0.1', port, user: 'lvs', password: { env: PASSWORD_ENV }, tls: tls ? {} : undefined });
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function drained(fake: FakeMysql): Promise<void> {
  const end = Date.now() + 5000;
  while ((await fake.stats()).open > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await fake.stats()).open, 0, 'server-side connections still open: the checker did not close its socket');
}

interface LoadCase {
  behaviour: FakeBehaviour;
  runs: number;
  tls?: boolean;
  /**
   * Reasons allowed under load. A deadline may fire before a busy event loop has delivered the
   * 'connect' or greeting event, so a stalled server may be reported one phase early; the exact
   * words per phase are asserted one run at a time further down.
   */
  reason?: RegExp;
}

const TIMEOUT = (phases: string) => new RegExp(`^(${phases}) timeout after ${DEADLINE_MS} ms`);

const LOAD_CASES: LoadCase[] = [
  { behaviour: 'silent', runs: RUNS, reason: TIMEOUT('connect|handshake') },
  { behaviour: 'greet-then-stall', runs: RUNS, reason: TIMEOUT('connect|handshake|login') },
  { behaviour: 'garbage', runs: RUNS }, // random bytes: any reason, but down and on time
  { behaviour: 'err-1040', runs: RUNS, reason: new RegExp(`^ERR 1040 too many connections$|${TIMEOUT('connect|handshake|login').source}`) },
  { behaviour: 'reset', runs: RUNS, reason: /^connection reset by server during|^server closed the connection during|^(connect|handshake) timeout/ },
  { behaviour: 'ok-then-stall', runs: 1000, reason: TIMEOUT('connect|handshake|login|query') },
  { behaviour: 'tls-stall', runs: 1000, tls: true, reason: TIMEOUT('connect|handshake|login') },
  { behaviour: 'close-after-greeting', runs: 1000, reason: /^server closed the connection during login$|^connection reset by server during login$|^(connect|handshake|login) timeout/ },
];

for (const c of LOAD_CASES) {
  test(`${c.behaviour}${c.tls ? ' (TLS)' : ''}: ${c.runs} runs all down within ${DEADLINE_MS} ms, no fd growth`, { timeout: CASE_TIME_LIMIT_MS + 15_000 }, async () => {
    const fake = await startFakeMysqlProcess(c.behaviour);
    const probe = checker(fake.port, c.tls);
    try {
      for (let i = 0; i < 20; i++) await runWithDeadline(probe, DEADLINE_MS); // warm up lazy allocations
      await drained(fake);
      const fdsBefore = openFds();
      const started = Date.now();
      let done = 0;
      let worst = 0;
      let connectTimeouts = 0; // under load a run may give up before the server accepted it
      const wrong: CheckResult[] = [];
      const worker = async (): Promise<void> => {
        while (done < c.runs && Date.now() - started < CASE_TIME_LIMIT_MS) {
          done++;
          const r = await runWithDeadline(probe, DEADLINE_MS);
          worst = Math.max(worst, r.latencyMs);
          if (r.reason.startsWith('connect timeout')) connectTimeouts++;
          if (r.ok || (c.reason && (r.configError || !c.reason.test(r.reason)))) wrong.push(r);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const elapsed = Date.now() - started;
      assert.equal(done, c.runs, `only ${done} runs within ${CASE_TIME_LIMIT_MS} ms`);
      assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} runs with a wrong verdict`);
      assert.ok(worst <= DEADLINE_MS + LATENESS_MS, `slowest run took ${worst} ms`);
      await drained(fake);
      const growth = openFds() - fdsBefore;
      assert.ok(growth <= 2, `file descriptors grew by ${growth} over ${c.runs} runs (${elapsed} ms)`);
      const { accepted } = await fake.stats();
      assert.ok(accepted >= c.runs - connectTimeouts, `every run that connected reached the server (${accepted} accepted, ${c.runs} runs, ${connectTimeouts} connect timeouts)`);
    } finally {
      await fake.close();
    }
  });
}

/** One run with a generous deadline, server in this process. */
async function once(behaviour: FakeBehaviour, tls = false, deadlineMs = 2000): Promise<CheckResult> {
  const fake = await startFakeMysql(behaviour);
  try {
    return await runWithDeadline(checker(fake.port, tls), deadlineMs);
  } finally {
    await fake.close();
  }
}

test('each stall is reported in the phase it happened', async () => {
  // one run at a time with a deadline long enough for a busy host to deliver the earlier events
  const cases: Array<[FakeBehaviour, boolean, string]> = [
    ['silent', false, 'handshake timeout after 1000 ms: connected, but the server sent no greeting'],
    ['greet-then-stall', false, 'login timeout after 1000 ms: greeting received, login not answered'],
    ['tls-stall', true, 'login timeout after 1000 ms: greeting received, login not answered'],
    ['ok-then-stall', false, 'query timeout after 1000 ms: logged in, the role query was not answered'],
  ];
  await Promise.all(
    cases.map(async ([behaviour, tls, reason]) => {
      const r = await once(behaviour, tls, 1000);
      assert.deepEqual([r.ok, r.configError, r.reason], [false, undefined, reason], behaviour);
      assert.ok(r.latencyMs >= 999 && r.latencyMs < 1000 + LATENESS_MS, `${behaviour}: ${r.latencyMs} ms`);
    }),
  );
});

test('ERR 1040 instead of a greeting, a reset, a close after the greeting: down with the cause', async () => {
  assert.deepEqual(pick(await once('err-1040')), [false, undefined, 'ERR 1040 too many connections']);
  assert.match((await once('reset')).reason, /^connection reset by server during (connect|handshake \(before the greeting\))$|^server closed the connection during handshake/);
  assert.deepEqual(pick(await once('close-after-greeting')), [false, undefined, 'server closed the connection during login']);
  const garbage = await once('garbage');
  assert.equal(garbage.ok, false);
});

test('malformed packets: oversized length, truncation, wrong sequence id, empty plugin name, unknown packet type: down, never up, the process survives', async () => {
  const behaviours: FakeBehaviour[] = ['oversized-length', 'truncated-greeting', 'wrong-sequence', 'empty-plugin', 'bad-ok-packet', 'garbage'];
  for (const behaviour of behaviours) {
    for (let i = 0; i < 20; i++) {
      const r = await once(behaviour, false, 300);
      assert.equal(r.ok, false, `${behaviour}: ${r.reason}`);
      assert.ok(r.latencyMs < 300 + LATENESS_MS, `${behaviour}: ${r.latencyMs} ms`);
      assert.notEqual(r.reason, '');
    }
  }
});

function pick(r: CheckResult): [boolean, boolean | undefined, string] {
  return [r.ok, r.configError, r.reason];
}

test('ERR 1129 (host blocked) instead of a greeting: down, the code and the remedy in the reason', async () => {
  const r = await once('err-1129');
  assert.equal(r.ok, false);
  assert.equal(r.configError, undefined);
  assert.match(r.reason, /^ERR 1129 host '127\.0\.0\.1' is blocked .*run FLUSH HOSTS on the server\)$/);
});

test('auth switch to a cleartext or unknown plugin: configuration error, never up (no HAProxy post-80 false UP)', async () => {
  for (const [behaviour, plugin] of [['auth-switch-dialog', 'dialog'], ['auth-switch-unknown', 'lvsd_no_such_plugin']] as const) {
    const r = await once(behaviour);
    assert.equal(r.ok, false);
    assert.equal(r.configError, true);
    assert.match(r.reason, new RegExp(`^the server asks for authentication plugin '${plugin}', which the check does not use`));
  }
});

test('ERR 1251 on login: configuration error', async () => {
  const r = await once('err-1251');
  assert.deepEqual([r.ok, r.configError], [false, true]);
  assert.match(r.reason, /^ERR 1251 client does not support authentication protocol/);
});

test('caching_sha2_password full authentication without TLS or server key: configuration error', async () => {
  const r = await once('sha2-full-auth');
  assert.deepEqual([r.ok, r.configError], [false, true]);
  assert.match(r.reason, /^caching_sha2_password needs full authentication .* neither TLS nor the server RSA key/);
});

test('TLS required but the server offers none: configuration error', async () => {
  const r = await once('greet-then-stall', true);
  assert.deepEqual([r.ok, r.configError, r.reason], [false, true, 'TLS is required but the server does not offer TLS']);
});

test('nothing listening: down "connection refused"', async () => {
  const fake = await startFakeMysql('silent');
  const { port } = fake;
  await fake.close();
  const r = await runWithDeadline(checker(port), 2000);
  assert.deepEqual([r.ok, r.configError, r.reason], [false, undefined, 'connection refused']);
});
