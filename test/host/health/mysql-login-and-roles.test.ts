// Authenticated checks against a real MariaDB on 127.0.0.1: native and ed25519 accounts, a wrong
// password, missing privileges, writer/reader over read_only, TLS with CA and name verification,
// and the CLI's verdicts and exit codes. One server for the whole file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker, type MysqlCheckOptions } from '../../../src/health/mysql';
import type { CheckResult } from '../../../src/health/types';
import { giveToServerUser, makeServerDir, startMariadb, type MariadbServer } from '../../../bench/support/mariadb';
import { makeCertificates, type TestCertificates } from '../../../bench/support/mariadb-tls';

const LVSD = resolve(__dirname, '../../../../bin/lvsd');
let db: MariadbServer;
let certs: TestCertificates;
let certDir: string;
const pwFiles: Record<string, string> = {};

function passwordFile(name: string, password: string): string {
  const path = join(db.dir, `${name}.pw`);
  writeFileSync(path, `${password}\n`);
  chmodSync(path, 0o600);
  pwFiles[name] = path;
  return path;
}

function check(user: string, over: Partial<MysqlCheckOptions> = {}, timeoutMs = 3000): Promise<CheckResult> {
  const checker = new MysqlChecker({ host: '127.0.0.1', port: db.port, user, password: { file: pwFiles[user] }, ...over });
  return runWithDeadline(checker, timeoutMs);
}

before(async () => {
  certDir = makeServerDir('lvsd-certs-');
  certs = makeCertificates(certDir);
  giveToServerUser(certs.ca, certs.serverCert, certs.serverKey);
  db = await startMariadb({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
  await db.sql("INSTALL SONAME 'auth_ed25519'");
  await db.sql("CREATE USER 'lvs_native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('native-pw-1')");
  await db.sql("CREATE USER 'lvs_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw-2')");
  await db.sql("CREATE USER 'lvs_mon'@'127.0.0.1' IDENTIFIED BY 'mon-pw-3'");
  await db.sql("GRANT SLAVE MONITOR ON *.* TO 'lvs_mon'@'127.0.0.1'");
  await db.sql("CREATE USER 'lvs_tls'@'127.0.0.1' IDENTIFIED BY 'tls-pw-4' REQUIRE SSL");
  passwordFile('lvs_native', 'native-pw-1');
  passwordFile('lvs_ed', 'ed-pw-2');
  passwordFile('lvs_mon', 'mon-pw-3');
  passwordFile('lvs_tls', 'tls-pw-4');
  passwordFile('lvs_wrong', 'not-the-password');
});

after(async () => {
  await db?.stop();
  const { rmSync } = await import('node:fs');
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

test('mysql_native_password account: up', async () => {
  const r = await check('lvs_native');
  assert.deepEqual([r.ok, r.configError, r.reason], [true, undefined, 'login and query answered']);
});

test('MariaDB ed25519 account: up', async () => {
  const r = await check('lvs_ed');
  assert.deepEqual([r.ok, r.configError, r.reason], [true, undefined, 'login and query answered']);
});

test('wrong password: configuration error naming ERR 1045, never up', async () => {
  const checker = new MysqlChecker({ host: '127.0.0.1', port: db.port, user: 'lvs_native', password: { file: pwFiles.lvs_wrong } });
  const r = await runWithDeadline(checker, 3000);
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.match(r.reason, /^ERR 1045 access denied for user 'lvs_native'@'(127\.0\.0\.1|localhost)' \(using password: YES\)$/);
});

test('an account without REPLICA MONITOR asking for the replica role: configuration error ERR 1227', async () => {
  const r = await check('lvs_native', { role: 'replica' });
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.match(r.reason, /^ERR 1227 access denied; you need .*SLAVE MONITOR/);
});

test('replica role on a server that is no replica: down (not a configuration error)', async () => {
  const r = await check('lvs_mon', { role: 'replica' });
  assert.deepEqual([r.ok, r.configError, r.reason], [false, undefined, 'not a replica: replica status is empty']);
});

test('galera role on a server without wsrep: down', async () => {
  const r = await check('lvs_native', { role: 'galera' });
  assert.equal(r.ok, false);
  assert.equal(r.configError, undefined);
  assert.match(r.reason, /not a Galera node/);
});

test('writer follows read_only; reader stays up', async () => {
  try {
    assert.deepEqual(pick(await check('lvs_native', { role: 'writer' })), [true, 'read_only=OFF (writable)']);
    await db.sql('SET GLOBAL read_only = ON');
    assert.deepEqual(pick(await check('lvs_native', { role: 'writer' })), [false, 'read_only=ON (not writable)']);
    assert.deepEqual(pick(await check('lvs_native', { role: 'reader' })), [true, 'read_only=ON, serves reads']);
  } finally {
    await db.sql('SET GLOBAL read_only = OFF');
  }
  assert.deepEqual(pick(await check('lvs_native', { role: 'writer' })), [true, 'read_only=OFF (writable)']);
});

test('TLS verified against the test CA: up, also for a REQUIRE SSL account', async () => {
  assert.equal((await check('lvs_native', { tls: { caFile: certs.ca } })).ok, true);
  assert.equal((await check('lvs_ed', { tls: { caFile: certs.ca } })).ok, true);
  assert.equal((await check('lvs_tls', { tls: { caFile: certs.ca, servername: certs.serverName } })).ok, true);
});

test('REQUIRE SSL account without TLS: configuration error ERR 1045', async () => {
  const r = await check('lvs_tls');
  assert.equal(r.configError, true);
  assert.match(r.reason, /^ERR 1045 /);
});

test('TLS with an unrelated CA or a wrong server name: configuration error, never up', async () => {
  const wrongCa = await check('lvs_native', { tls: { caFile: certs.otherCa } });
  assert.equal(wrongCa.ok, false);
  assert.equal(wrongCa.configError, true);
  assert.match(wrongCa.reason, /^TLS: /);
  const wrongName = await check('lvs_native', { tls: { caFile: certs.ca, servername: 'other.lvsd.test' } });
  assert.equal(wrongName.ok, false);
  assert.equal(wrongName.configError, true);
  assert.match(wrongName.reason, /^TLS: .*other\.lvsd\.test/);
  // system CAs do not know the test CA
  const systemCa = await check('lvs_native', { tls: {} });
  assert.equal(systemCa.configError, true);
  assert.match(systemCa.reason, /^TLS: /);
});

function pick(r: CheckResult): [boolean, string] {
  return [r.ok, r.reason];
}

function lvsd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(LVSD, args, { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

test('CLI: up exits 0, wrong password exits 2, a closed port exits 1', async () => {
  const target = `127.0.0.1:${db.port}`;
  const up = await lvsd(['check', 'mysql', target, '--user', 'lvs_native', '--password-file', pwFiles.lvs_native, '--role', 'writer']);
  assert.deepEqual([up.code, up.stdout], [0, 'up: read_only=OFF (writable)\n']);
  const viaEnv = await lvsd(['check', 'mysql', target, '--user', 'lvs_ed', '--password-env', 'LVSD_TEST_DB_PW'], { LVSD_TEST_DB_PW: 'ed-pw-2' });
  assert.deepEqual([viaEnv.code, viaEnv.stdout], [0, 'up: login and query answered\n']);
  const wrong = await lvsd(['check', 'mysql', target, '--user', 'lvs_native', '--password-file', pwFiles.lvs_wrong]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stdout, /^config-error: ERR 1045 access denied for user 'lvs_native'/);
  const tls = await lvsd(['check', 'mysql', target, '--user', 'lvs_tls', '--password-file', pwFiles.lvs_tls, '--tls', '--ca', certs.ca, '--servername', certs.serverName, '--json']);
  assert.equal(tls.code, 0);
  assert.equal(JSON.parse(tls.stdout).verdict, 'up');
  const closed = await lvsd(['check', 'mysql', '127.0.0.1:1', '--user', 'lvs_native', '--password-file', pwFiles.lvs_native]);
  assert.deepEqual([closed.code, closed.stdout], [1, 'down: connection refused\n']);
});

test('CLI: a password file others can read is refused with exit 2, naming the file and mode', async () => {
  const path = join(db.dir, 'loose.pw');
  writeFileSync(path, 'native-pw-1\n');
  chmodSync(path, 0o644);
  const r = await lvsd(['check', 'mysql', `127.0.0.1:${db.port}`, '--user', 'lvs_native', '--password-file', path]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `lvsd: password file ${path} has mode 0644: group or others can access it; run chmod 600 ${path}\n`);
  const none = await lvsd(['check', 'mysql', `127.0.0.1:${db.port}`, '--user', 'lvs_native']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--password-file, --password-env or --password-credential is required/);
});

test('CLI: bad flags are configuration errors (exit 2) naming the flag', async () => {
  const base = ['check', 'mysql', `127.0.0.1:${db.port}`, '--user', 'lvs_native', '--password-file', pwFiles.lvs_native];
  const cases: Array<[string[], RegExp]> = [
    [['--ca', certs.ca], /--ca: only meaningful with --tls/],
    [['--role', 'primary'], /--role.*primary.*(any|choices)/s],
    [['--max-lag', '-3'], /--max-lag/],
    [['--password-env', 'X'], /--password-file and --password-env: give one of them/],
    [['--tls', '--servername', 'bad name!'], /--servername: must be a DNS name/],
    [['--tls', '--ca', '/nonexistent/ca.pem'], /CA file \/nonexistent\/ca\.pem cannot be read: ENOENT/],
  ];
  for (const [extra, message] of cases) {
    const r = await lvsd([...base, ...extra]);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
  const badTarget = await lvsd(['check', 'mysql', '127.0.0.1:99999', '--user', 'x', '--password-file', pwFiles.lvs_native]);
  assert.equal(badTarget.code, 2);
  assert.match(badTarget.stderr, /TARGET "127\.0\.0\.1:99999": port "99999" must be a number from 1 to 65535/);
});
