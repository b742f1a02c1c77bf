// 2,000 authenticated checks leave the server's Aborted_connects, Aborted_clients and
// performance_schema.host_cache SUM_CONNECT_ERRORS unchanged: every check completes the handshake
// and quits with COM_QUIT, so the director never walks toward max_connect_errors (ERR 1129).
//
// MariaDB keeps no host_cache entry for loopback clients (127.0.0.1, ::1), and counts connect
// errors toward max_connect_errors only for a client address whose reverse DNS is confirmed. So
// the server runs in a network namespace this test makes, at 198.18.77.2, reached from
// 198.18.77.1 over a veth pair, with name resolution on and a namespace-private /etc/hosts
// (`ip netns exec` mounts /etc/netns/NAME/hosts over /etc/hosts) naming the client address.
// A control run shows the counters do move for a careless client (bare TCP connects; logins
// dropped without COM_QUIT), so the test can fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker } from '../../../src/health/mysql';
import { MysqlProbe } from '../../../src/health/mysql/adapter';
import { startMariadb, type MariadbServer } from '../../support/mariadb';

const CHECKS = 2000;
const CONCURRENCY = 20;
const NS = `lvsd-my${process.pid}`;
const HOST_SIDE = `lvm${process.pid % 100000}a`;
const NS_SIDE = `lvm${process.pid % 100000}b`;
const CLIENT_IP = '198.18.77.1';
const SERVER_IP = '198.18.77.2';
const PASSWORD = 'aborted-check-pw';
const PASSWORD_ENV = 'LVSD_TEST_ABORTED_PW';
let db: MariadbServer;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const NS_ETC = `/etc/netns/${NS}`;

function removeNetns(): void {
  spawnSync('ip', ['netns', 'del', NS]); // takes the veth pair with it
  spawnSync('ip', ['link', 'del', HOST_SIDE]);
  rmSync(NS_ETC, { recursive: true, force: true });
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
  removeNetns();
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_SIDE, 'type', 'veth', 'peer', 'name', NS_SIDE);
  ip('link', 'set', NS_SIDE, 'netns', NS);
  ip('addr', 'add', `${CLIENT_IP}/30`, 'dev', HOST_SIDE);
  ip('link', 'set', HOST_SIDE, 'up');
  ip('-n', NS, 'addr', 'add', `${SERVER_IP}/30`, 'dev', NS_SIDE);
  ip('-n', NS, 'link', 'set', NS_SIDE, 'up');
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  mkdirSync(NS_ETC, { recursive: true });
  writeFileSync(`${NS_ETC}/hosts`, `127.0.0.1 localhost\n${CLIENT_IP} director.lvsd.test\n${SERVER_IP} db.lvsd.test\n`);
  process.env[PASSWORD_ENV] = PASSWORD;
  db = await startMariadb({ netns: NS, bindAddress: SERVER_IP, args: ['--performance-schema=ON', '--skip-name-resolve=OFF'] });
  await db.sql(`CREATE USER 'lvs_check'@'${CLIENT_IP}' IDENTIFIED BY '${PASSWORD}'`);
});

after(async () => {
  delete process.env[PASSWORD_ENV];
  await db?.stop();
  removeNetns();
});

test(`${CHECKS} checks: Aborted_connects, Aborted_clients and host_cache connect/handshake errors unchanged`, { timeout: 120_000 }, async () => {
  const checkers = (['any', 'writer'] as const).map(
    (role) => new MysqlChecker({ host: SERVER_IP, port: db.port, user: 'lvs_check', password: { env: PASSWORD_ENV }, role }),
  );
  const first = await runWithDeadline(checkers[0], 5000);
  assert.equal(first.ok, true, first.reason);
  await serverIdle();
  const before = await counters();
  // the address is in the host cache and validated, so its connect errors would be counted
  assert.equal(before.connectErrors, 0, 'host_cache has a row for the client address');
  const [entry] = await db.sql('SELECT HOST, HOST_VALIDATED FROM performance_schema.host_cache WHERE IP = ?', [CLIENT_IP]);
  assert.deepEqual(entry, { HOST: 'director.lvsd.test', HOST_VALIDATED: 'YES' });

  let done = 0;
  const failures: string[] = [];
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      while (done < CHECKS && Date.now() - started < 100_000) {
        done++;
        const r = await runWithDeadline(checkers[i % 2], 5000);
        if (!r.ok) failures.push(r.reason);
      }
    }),
  );
  assert.equal(done, CHECKS);
  assert.deepEqual(failures.slice(0, 3), [], `${failures.length} checks failed`);
  await serverIdle();
  assert.deepEqual(await counters(), before);
});

test('control: a careless client does move these counters (the test above can fail)', async () => {
  await serverIdle();
  const before = await counters();
  // logins dropped without COM_QUIT (first: a successful login resets SUM_CONNECT_ERRORS)
  for (let i = 0; i < 2; i++) {
    const probe = new MysqlProbe();
    await probe.login({ host: SERVER_IP, port: db.port, user: 'lvs_check', password: PASSWORD });
    probe.destroy();
  }
  // bare TCP connects, closed before the handshake: what a TCP check does to MySQL
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: SERVER_IP, port: db.port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  }
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
