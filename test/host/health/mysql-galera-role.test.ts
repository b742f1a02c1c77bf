// The galera role against a real single-node Galera cluster (Debian galera-4), bootstrapped with
// gcomm:// on 127.0.0.1 ports only: Synced is up; SET GLOBAL wsrep_desync=ON is down; OFF is up
// again; wsrep_reject_queries=ALL is down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor, type Transition } from '../../../src/health/core';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker } from '../../../src/health/mysql';
import type { Checker, CheckResult } from '../../../src/health/types';
import { startMariadb, type MariadbServer } from '../../../bench/support/mariadb';

const PASSWORD_ENV = 'LVSD_TEST_GALERA_PW';
let node: MariadbServer;

function check(acceptDonor = false): Promise<CheckResult> {
  const checker = new MysqlChecker({
    host: '127.0.0.1',
    port: node.port,
    user: 'lvs_check',
    password: { env: PASSWORD_ENV },
    role: 'galera',
    acceptDonor,
  });
  return runWithDeadline(checker, 3000);
}

/** Checks until `want` holds; bounded. The node's state follows a SET GLOBAL within moments. */
async function checkUntil(want: (r: CheckResult) => boolean, timeoutMs = 10_000): Promise<CheckResult> {
  const end = Date.now() + timeoutMs;
  let last = await check();
  while (!want(last) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await check();
  }
  return last;
}

before(async () => {
  process.env[PASSWORD_ENV] = 'galera-check-pw';
  node = await startMariadb({ galera: true });
  // no privileges at all: Galera status and variables need none
  await node.sql("CREATE USER 'lvs_check'@'127.0.0.1' IDENTIFIED BY 'galera-check-pw'");
});

after(async () => {
  delete process.env[PASSWORD_ENV];
  await node?.stop();
});

test('bootstrapped single node, Synced and Primary: up', async () => {
  const r = await checkUntil((x) => x.ok);
  assert.deepEqual([r.ok, r.configError, r.reason], [true, undefined, 'wsrep_local_state=4 (Synced), Primary']);
});

test('wsrep_desync=ON: down (also with donors accepted); OFF: up again', async () => {
  await node.sql('SET GLOBAL wsrep_desync = ON');
  try {
    const r = await checkUntil((x) => !x.ok);
    assert.equal(r.ok, false);
    assert.equal(r.configError, undefined);
    assert.match(r.reason, /^wsrep_local_state=2 \(Donor\/Desynced\)$|^wsrep_desync=ON/);
    const donorOk = await check(true);
    assert.equal(donorOk.ok, false, 'a deliberately desynced node stays down even when donors are accepted');
    assert.match(donorOk.reason, /^wsrep_desync=ON \(node desynced for maintenance\)/);
  } finally {
    await node.sql('SET GLOBAL wsrep_desync = OFF');
  }
  const back = await checkUntil((x) => x.ok);
  assert.deepEqual([back.ok, back.reason], [true, 'wsrep_local_state=4 (Synced), Primary']);
});

test('wsrep_reject_queries=ALL: down; NONE: up', async () => {
  await node.sql('SET GLOBAL wsrep_reject_queries = ALL');
  try {
    const r = await check();
    assert.equal(r.ok, false);
    // the server refuses the role query itself (ERR 1047) or reports the setting: down either way
    assert.match(r.reason, /^wsrep_reject_queries=ALL|^ERR 1047 /);
    assert.equal(r.configError, undefined);
  } finally {
    await node.sql('SET GLOBAL wsrep_reject_queries = NONE');
  }
  assert.equal((await checkUntil((x) => x.ok)).ok, true);
});

test('under the check core: desync takes the node down after fall, OFF brings it up only after rise', { timeout: 60_000 }, async () => {
  const real = new MysqlChecker({ host: '127.0.0.1', port: node.port, user: 'lvs_check', password: { env: PASSWORD_ENV }, role: 'galera' });
  const results: CheckResult[] = [];
  // the real checker, with its results recorded in order
  const recorded: Checker = {
    kind: real.kind,
    key: real.key,
    run: async (signal) => {
      const r = await real.run(signal);
      results.push(r);
      return r;
    },
  };
  const monitor = new HealthMonitor({ log: false });
  const transitions: Array<Transition & { at: number }> = [];
  monitor.on('transition', (t) => transitions.push({ ...t, at: results.length }));
  const nextTransition = async (to: 'up' | 'down'): Promise<Transition & { at: number }> => {
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const t = transitions.find((x) => x.to === to);
      if (t) {
        transitions.splice(transitions.indexOf(t), 1);
        return t;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return assert.fail(`no transition to ${to} within 20 s`);
  };
  monitor.watch('galera-node', recorded, { intervalMs: 100, timeoutMs: 2000, rise: 3, fall: 2, initialState: 'fully-down', jitter: 0.1 });
  try {
    const up = await nextTransition('up');
    assert.ok(up.at >= 3, 'rise 3: three passes before up');
    await node.sql('SET GLOBAL wsrep_desync = ON');
    const desyncAt = results.length;
    const down = await nextTransition('down');
    assert.match(down.result.reason, /wsrep_local_state=2 \(Donor\/Desynced\)|wsrep_desync=ON/);
    assert.ok(down.at - desyncAt >= 2, 'fall 2: two failures before down');
    await node.sql('SET GLOBAL wsrep_desync = OFF');
    const offAt = results.length;
    const back = await nextTransition('up');
    assert.equal(back.result.reason, 'wsrep_local_state=4 (Synced), Primary');
    // the last three results before the transition passed, and it took at least three after OFF
    assert.ok(back.at - offAt >= 3, `rise 3 after OFF: ${back.at - offAt} probes`);
    assert.deepEqual(results.slice(back.at - 3, back.at).map((r) => r.ok), [true, true, true]);
  } finally {
    await monitor.stop();
    await node.sql('SET GLOBAL wsrep_desync = OFF');
  }
});
