// exec checks with real programs: exit codes, dynamic weight, environment, output cap, and the
// deadline killing the whole process group (including a grandchild that ignores SIGTERM).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors';
import { runWithDeadline } from '../../../src/health/deadline';
import { ExecChecker, type ExecCheckOptions } from '../../../src/health/exec';
import { processAlive } from '../../support/servers';

let dir: string;
const target = { host: '198.18.0.11', port: 3306 };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsd-exec-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

const run = (o: Partial<ExecCheckOptions> & { path: string }, ms = 2000) =>
  runWithDeadline(new ExecChecker({ ...target, ...o }), ms);

test('exit 0 is up, exit 1 is down with the last line of output', async () => {
  assert.equal((await run({ path: script('ok.sh', 'exit 0') })).ok, true);
  const r = await run({ path: script('fail.sh', 'echo checking; echo "replica lag 30s" >&2; exit 1') });
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'exit 1: "replica lag 30s"');
});

test('dynamic weight: exit 2..255 is up with weight code - 2; without it any non-zero is down', async () => {
  const path = script('weight.sh', 'exit "$1"');
  const w = await run({ path, args: ['12'], dynamicWeight: true });
  assert.deepEqual([w.ok, w.weight, w.reason], [true, 10, 'exit 12: weight 10']);
  assert.deepEqual([(await run({ path, args: ['255'], dynamicWeight: true })).weight], [253]);
  const one = await run({ path, args: ['1'], dynamicWeight: true });
  assert.deepEqual([one.ok, one.weight], [false, undefined]);
  const plain = await run({ path, args: ['12'] });
  assert.deepEqual([plain.ok, plain.weight], [false, undefined]);
});

test('arguments are passed without a shell; the target is in the environment, lvsd’s own env is not', async () => {
  process.env.LVSD_TEST_CANARY = 'canary-secret';
  const path = script('env.sh', 'printf "%s|%s|%s|%s|%s" "$1" "$LVSD_TARGET_HOST" "$LVSD_TARGET_PORT" "$EXTRA" "${LVSD_TEST_CANARY:-absent}"; exit 1');
  const r = await run({ path, args: ['a b; echo $(id)'], env: { EXTRA: 'x' } });
  delete process.env.LVSD_TEST_CANARY;
  assert.equal(r.reason, 'exit 1: "a b; echo $(id)|198.18.0.11|3306|x|absent"');
});

test('timeout: SIGTERM then SIGKILL to the whole group, including a grandchild that ignores SIGTERM', async () => {
  const pids = join(dir, 'pids');
  const path = script(
    'hang.sh',
    `(trap '' TERM; exec sleep 300) &\necho "$! $$" > ${pids}\ntrap '' TERM\nwhile :; do sleep 1; done`,
  );
  const started = performance.now();
  const r = await run({ path, killGraceMs: 200 }, 400);
  const took = performance.now() - started;
  assert.equal(r.ok, false);
  assert.match(r.reason, /^timeout after 400 ms: process group \d+ killed$/);
  // The result does not wait for the grandchild (it would for 300 s): the bound is many times the
  // nominal 400 ms so a busy shared machine meets it; it is no speed claim.
  assert.ok(took < 400 + 5000, `result took ${took} ms`);
  const [grandchild, leader] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
  assert.ok(processAlive(grandchild), 'the grandchild ignores SIGTERM');
  const deadline = Date.now() + 3000;
  while ((processAlive(grandchild) || processAlive(leader)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  assert.equal(processAlive(grandchild), false, 'grandchild killed by SIGKILL');
  assert.equal(processAlive(leader), false, 'script killed by SIGKILL');
});

test('a backgrounded leftover does not outlive a script that exits', async () => {
  const pidFile = join(dir, 'bg');
  const r = await run({ path: script('bg.sh', `sleep 300 &\necho $! > ${pidFile}\nexit 0`) });
  assert.equal(r.ok, true);
  const bg = Number(readFileSync(pidFile, 'utf8'));
  const deadline = Date.now() + 2000;
  while (processAlive(bg) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  assert.equal(processAlive(bg), false);
});

test('an output flood is read but only the cap is kept', async () => {
  const path = script('flood.sh', "head -c 20000000 /dev/zero | tr '\\0' x; echo; echo last words; exit 1");
  const r = await run({ path, maxOutputBytes: 1024 }, 10_000);
  assert.equal(r.ok, false);
  assert.match(r.reason, /^exit 1: "x{200}"\.\.\. \(\d+ bytes\) \(20000012 bytes of output, kept 1024\)$/);
  assert.ok(r.reason.length < 400);
});

test('a relative path is refused when the check is built', () => {
  assert.throws(() => new ExecChecker({ ...target, path: './check.sh' }), InputError);
  assert.throws(() => new ExecChecker({ ...target, path: 'check.sh' }), /must be an absolute path/);
});

test('a missing program is a configuration error', async () => {
  const r = await run({ path: join(dir, 'nope.sh') });
  assert.deepEqual([r.ok, r.configError, r.reason], [false, true, `cannot run ${join(dir, 'nope.sh')}: no such file`]);
});

test('as root: a script writable by group/others or not owned by root is refused', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const writable = script('writable.sh', 'exit 0', 0o775);
  const w = await run({ path: writable });
  assert.equal(w.configError, true);
  assert.match(w.reason, /^refusing to run .*writable\.sh as root: .*writable by group or others \(mode 0775\)$/);
  const foreign = script('foreign.sh', 'exit 0');
  chownSync(foreign, 65534, 65534);
  const f = await run({ path: foreign });
  assert.equal(f.configError, true);
  assert.match(f.reason, /owned by uid 65534, not root/);
  const sub = mkdtempSync(join(tmpdir(), 'lvsd-exec-open-'));
  chmodSync(sub, 0o777);
  const inOpenDir = join(sub, 'ok.sh');
  writeFileSync(inOpenDir, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const d = await run({ path: inOpenDir });
  rmSync(sub, { recursive: true, force: true });
  assert.equal(d.configError, true);
  assert.match(d.reason, /lvsd-exec-open-\w+ is writable by group or others \(mode 0777\)/);
});

test('as root: --user runs the program as that user with its primary group only', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  chmodSync(dir, 0o755); // the unprivileged user must reach the script
  const path = script('whoami.sh', 'echo "$(id -u):$(id -g):$(id -G)"');
  const nobody = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))?.split(':');
  assert.ok(nobody, 'this machine has a nobody user');
  const r = await run({ path, user: 'nobody' });
  assert.equal(r.reason, `exit 0: "${nobody[2]}:${nobody[3]}:${nobody[3]}"`);
  const byUid = await run({ path, user: nobody[2] });
  assert.equal(byUid.reason, r.reason);
  assert.throws(() => new ExecChecker({ ...target, path, user: 'no-such-user-lvsd' }), /exec check user "no-such-user-lvsd": no such user in \/etc\/passwd/);
});
