// A canary password never reaches logs (pino at trace level), results, errors, CLI output,
// Checker.key or a dump of the checker, on success and on every kind of failure; and it is never
// sent to a server that asks for a cleartext auth plugin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import pino from 'pino';
import { runWithDeadline } from '../../../src/health/deadline';
import { MysqlChecker, type MysqlCheckOptions } from '../../../src/health/mysql';
import { startFakeMysql, type FakeBehaviour } from '../../support/fake-mysql';
import { startMariadb, type MariadbServer } from '../../../bench/support/mariadb';

const CANARY = `lvsd-canary-${randomBytes(8).toString('hex')}`;
const CANARY_ENV = 'LVSD_TEST_CANARY_PW';
const LVSD = resolve(__dirname, '../../../../bin/lvsd');
let db: MariadbServer;
let canaryFile: string;
const logLines: string[] = [];
const log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
const seen: string[] = []; // every result, key and dump produced, searched at the end

function checker(over: Partial<MysqlCheckOptions> & { port: number }): MysqlChecker {
  const c = new MysqlChecker({ host: '127.0.0.1', user: 'lvs_canary', password: { file: canaryFile }, log, ...over });
  seen.push(c.key, inspect(c, { depth: 10, showHidden: true }), JSON.stringify(c));
  return c;
}

async function run(c: MysqlChecker, deadlineMs = 3000) {
  const r = await runWithDeadline(c, deadlineMs);
  seen.push(JSON.stringify(r), inspect(r));
  return r;
}

before(async () => {
  process.env[CANARY_ENV] = CANARY;
  db = await startMariadb();
  await db.sql(`CREATE USER 'lvs_canary'@'127.0.0.1' IDENTIFIED BY '${CANARY}'`);
  await db.sql("CREATE USER 'lvs_other'@'127.0.0.1' IDENTIFIED BY 'a-different-password'");
  canaryFile = join(db.dir, 'canary.pw');
  writeFileSync(canaryFile, `${CANARY}\n`);
  chmodSync(canaryFile, 0o600);
});

after(async () => {
  delete process.env[CANARY_ENV];
  await db?.stop();
});

test('up, wrong password (ERR 1045), missing privilege: the canary is in no result, key, dump or log', async () => {
  assert.equal((await run(checker({ port: db.port }))).ok, true);
  const denied = await run(checker({ port: db.port, user: 'lvs_other' }));
  assert.equal(denied.configError, true);
  const privilege = await run(checker({ port: db.port, role: 'replica' }));
  assert.equal(privilege.configError, true);
  const refused = await run(checker({ port: 1 }));
  assert.equal(refused.ok, false);
});

test('failures against misbehaving servers: the canary is in no result or log', async () => {
  const behaviours: FakeBehaviour[] = ['silent', 'greet-then-stall', 'ok-then-stall', 'garbage', 'err-1040', 'reset', 'err-1251', 'sha2-full-auth', 'auth-switch-unknown'];
  for (const behaviour of behaviours) {
    const fake = await startFakeMysql(behaviour);
    try {
      const r = await run(checker({ port: fake.port }), 300);
      assert.equal(r.ok, false, behaviour);
    } finally {
      await fake.close();
    }
  }
  const tlsFake = await startFakeMysql('greet-then-stall');
  try {
    assert.equal((await run(checker({ port: tlsFake.port, tls: {} }))).configError, true);
  } finally {
    await tlsFake.close();
  }
});

test('a server asking for the cleartext PAM "dialog" plugin never receives the password', async () => {
  const fake = await startFakeMysql('auth-switch-dialog');
  try {
    const r = await run(checker({ port: fake.port }));
    assert.equal(r.configError, true);
    // Everything the client sent is in once the server has seen its side of the connection close
    // (data always arrives before the FIN or reset that ends it).
    const deadline = Date.now() + 5000;
    let stats = await fake.stats();
    while ((stats.accepted === 0 || stats.open > 0) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 10));
      stats = await fake.stats();
    }
    assert.deepEqual(stats, { accepted: 1, open: 0 }, 'the client logged in once and closed its connection');
    const sent = fake.received();
    assert.ok(sent.length > 0, 'the client did send its login');
    assert.equal(sent.includes(Buffer.from(CANARY)), false, 'password bytes reached the server in clear');
  } finally {
    await fake.close();
  }
});

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function lvsd(args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    const child = execFile(LVSD, args, { env: { ...process.env, LVSD_LOG_LEVEL: 'trace' }, timeout: 20_000 }, (_err, stdout, stderr) =>
      done({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/** The --json verdict line among the log lines (the logger writes to stdout too). */
function jsonVerdict(stdout: string): { verdict: string; reason: string } {
  const line = stdout.split('\n').find((l) => l.startsWith('{"verdict":'));
  assert.ok(line, `no verdict line in ${stdout}`);
  return JSON.parse(line) as { verdict: string; reason: string };
}

test('CLI at trace log level, text and JSON, up and failing: the canary is not in the output', async () => {
  const target = `127.0.0.1:${db.port}`;
  const runs = [
    await lvsd(['check', 'mysql', target, '--user', 'lvs_canary', '--password-env', CANARY_ENV]),
    await lvsd(['check', 'mysql', target, '--user', 'lvs_canary', '--password-file', canaryFile, '--json']),
    await lvsd(['check', 'mysql', target, '--user', 'lvs_other', '--password-env', CANARY_ENV]),
    await lvsd(['check', 'mysql', target, '--user', 'lvs_canary', '--password-env', CANARY_ENV, '--role', 'galera', '--json']),
    await lvsd(['check', 'mysql', '127.0.0.1:1', '--user', 'lvs_canary', '--password-env', CANARY_ENV, '--tls']),
  ];
  // exit status: 0 up, 1 down, 2 configuration error (src/cli/check-common.ts)
  assert.deepEqual(
    runs.map((r) => r.status),
    [0, 0, 2, 1, 1],
    JSON.stringify(runs.map((r) => r.stdout)),
  );
  assert.match(runs[0].stdout, /^up: /m);
  assert.equal(jsonVerdict(runs[1].stdout).verdict, 'up');
  assert.match(runs[2].stdout, /^config-error: ERR 1045 /m);
  assert.match(runs[2].stderr + runs[2].stdout, /"component":"health\.mysql"/, 'debug logging was on in the CLI');
  const galera = jsonVerdict(runs[3].stdout);
  assert.equal(galera.verdict, 'down');
  assert.match(galera.reason, /not a Galera node/);
  assert.match(runs[4].stdout, /^down: .*refused/m);
  for (const r of runs) assert.equal(r.stdout.includes(CANARY) || r.stderr.includes(CANARY), false, r.stdout + r.stderr);
});

test('everything collected: logs were written, and none of it holds the canary', () => {
  assert.ok(logLines.length >= 10, 'the checker logged its results at debug level');
  assert.ok(logLines.some((l) => l.includes('ERR 1045')));
  const all = [...logLines, ...seen].join('\n');
  assert.equal(all.includes(CANARY), false);
  // nor its hex or base64 forms
  assert.equal(all.includes(Buffer.from(CANARY).toString('base64')), false);
  assert.equal(all.includes(Buffer.from(CANARY).toString('hex')), false);
});
