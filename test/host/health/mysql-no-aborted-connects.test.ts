// 2,000 authenticated checks leave the server's Aborted_connects, Aborted_clients and
// performance_schema.host_cache SUM_CONNECT_ERRORS unchanged: every check completes the handshake
// and quits with COM_QUIT, so the director never walks toward max_connect_errors (ERR 1129).
//
// MariaDB keeps no host_cache entry for loopback clients (127.0.0.1, ::1), and counts connect
// errors toward max_connect_errors only for a client address whose reverse DNS is confirmed. So
// the server runs in a network namespace this test makes, at 198.18.77.2, and the clients run in
// a second one, at 198.18.77.1, over a veth pair between the two: the host's own namespace gets
// nothing, and two runs at once do not meet (each has its own namespaces, named per process).
// The server's namespace has a private /etc/hosts naming the client address (`ip netns exec`
// mounts /etc/netns/NAME/hosts over /etc/hosts; removed with the namespace).
// A control run shows the counters do move for a careless client (bare TCP connects; logins
// dropped without COM_QUIT), so the test can fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startMariadb, type MariadbServer } from '../../../bench/support/mariadb';
import type { ChecksOutcome, RunnerJob } from '../../support/mysql-client-runner';
import { makeNetns, type Netns } from '../../support/netns';

const CHECKS = 2000;
const CONCURRENCY = 20;
const CLIENT_IP = '198.18.77.1';
const SERVER_IP = '198.18.77.2';
const PASSWORD = 'aborted-check-pw';
const PASSWORD_ENV = 'LVSD_TEST_ABORTED_PW';
const RUNNER = join(__dirname, '../../support/mysql-client-runner.js');
let db: MariadbServer;
let clientNs: Netns | undefined;
let serverNs: Netns | undefined;

/** Runs MySQL clients inside the client namespace (test/support/mysql-client-runner.ts). */
function fromClientNs<T>(job: RunnerJob): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', clientNs!.name, process.execPath, RUNNER, JSON.stringify(job)], { timeout: 150_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`client runner failed: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as T),
    );
  });
}

interface Counters {
  abortedConnects: number;
  abortedClients: number;
  /** host_cache row for the client address (undefined when the server keeps none): the errors
   * counted toward max_connect_errors (reset by any successful login) and, cumulative, the
   * handshake errors among them */
  connectErrors: number | undefined;
  handshakeErrors: number | undefined;
}

async function counters(): Promise<Counters> {
  const rows = await db.sql('SELECT SUM_CONNECT_ERRORS AS e, COUNT_HANDSHAKE_ERRORS AS h FROM performance_schema.host_cache WHERE IP = ?', [CLIENT_IP]);
  return {
    abortedConnects: Number(await db.status('Aborted_connects')),
    abortedClients: Number(await db.status('Aborted_clients')),
    connectErrors: rows.length ? Number(rows[0].e) : undefined,
    handshakeErrors: rows.length ? Number(rows[0].h) : undefined,
  };
}

/** Waits until the server has finished with every client connection but our admin session. */
async function serverIdle(): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    if (Number(await db.status('Threads_connected')) <= 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('client connections still open on the server after 10 s');
}

before(async () => {
  clientNs = makeNetns();
  serverNs = makeNetns();
  // each end is born in its own namespace, so fixed names cannot clash with anything
  clientNs.must('ip', ['link', 'add', 'to-server', 'type', 'veth', 'peer', 'name', 'to-client', 'netns', serverNs.name]);
  clientNs.must('ip', ['addr', 'add', `${CLIENT_IP}/30`, 'dev', 'to-server']);
  clientNs.must('ip', ['link', 'set', 'to-server', 'up']);
  serverNs.must('ip', ['addr', 'add', `${SERVER_IP}/30`, 'dev', 'to-client']);
  serverNs.must('ip', ['link', 'set', 'to-client', 'up']);
  serverNs.etcFile('hosts', `127.0.0.1 localhost\n${CLIENT_IP} director.lvsd.test\n${SERVER_IP} db.lvsd.test\n`);
  process.env[PASSWORD_ENV] = PASSWORD;
  db = await startMariadb({ netns: serverNs.name, bindAddress: SERVER_IP, args: ['--performance-schema=ON', '--skip-name-resolve=OFF'] });
  await db.sql(`CREATE USER 'lvs_check'@'${CLIENT_IP}' IDENTIFIED BY '${PASSWORD}'`);
});

after(async () => {
  delete process.env[PASSWORD_ENV];
  await db?.stop();
  clientNs?.destroy();
  serverNs?.destroy();
});

test(`${CHECKS} checks: Aborted_connects, Aborted_clients and host_cache connect/handshake errors unchanged`, { timeout: 120_000 }, async () => {
  const job = { kind: 'checks', host: SERVER_IP, port: db.port, user: 'lvs_check', passwordEnv: PASSWORD_ENV, roles: ['any', 'writer'], timeLimitMs: 100_000 } as const;
  const first = await fromClientNs<ChecksOutcome>({ ...job, checks: 1, concurrency: 1 });
  assert.deepEqual(first, { done: 1, failed: 0, reasons: [] });
  await serverIdle();
  const before = await counters();
  // the address is in the host cache and validated, so its connect errors would be counted
  assert.equal(before.connectErrors, 0, 'host_cache has a row for the client address');
  const [entry] = await db.sql('SELECT HOST, HOST_VALIDATED FROM performance_schema.host_cache WHERE IP = ?', [CLIENT_IP]);
  assert.deepEqual(entry, { HOST: 'director.lvsd.test', HOST_VALIDATED: 'YES' });

  const run = await fromClientNs<ChecksOutcome>({ ...job, checks: CHECKS, concurrency: CONCURRENCY });
  assert.equal(run.done, CHECKS);
  assert.deepEqual(run.reasons, [], `${run.failed} checks failed`);
  await serverIdle();
  assert.deepEqual(await counters(), before);
});

test('control: a careless client does move these counters (the test above can fail)', async () => {
  await serverIdle();
  const before = await counters();
  // logins dropped without COM_QUIT (first: a successful login resets SUM_CONNECT_ERRORS), then
  // bare TCP connects, closed before the handshake: what a TCP check does to MySQL
  const done = await fromClientNs({ kind: 'careless', host: SERVER_IP, port: db.port, user: 'lvs_check', password: PASSWORD, logins: 2, connects: 3 });
  assert.deepEqual(done, { logins: 2, connects: 3 });
  await serverIdle();
  const end = Date.now() + 5000;
  let now = await counters();
  while ((now.abortedClients < before.abortedClients + 2 || now.abortedConnects < before.abortedConnects + 3) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    now = await counters();
  }
  assert.equal(now.abortedConnects - before.abortedConnects, 3);
  assert.equal(now.connectErrors, 3);
  assert.equal((now.handshakeErrors ?? 0) - (before.handshakeErrors ?? 0), 3);
  assert.equal(now.abortedClients - before.abortedClients, 2);
});
