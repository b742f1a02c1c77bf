// The galera role against a real single-node Galera cluster (Debian galera-4), bootstrapped with
// gcomm:// on 127.0.0.1 ports only: Synced is up; SET GLOBAL wsrep_desync=ON is down; OFF is up
// again; wsrep_reject_queries=ALL is down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker } from '../../../src/health/mysql';
import type { CheckResult } from '../../../src/health/types';
import { startMariadb, type MariadbServer } from '../../support/mariadb';

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
