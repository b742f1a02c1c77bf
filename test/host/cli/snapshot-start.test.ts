// `bin/lvsd` (dist/lvsd, native/launcher/lvsd.c) starts from the CLI's V8 start-up snapshot
// (scripts/build-snapshot.js) and behaves exactly like the compiled JavaScript (`node bin/lvsd.js`).
// Whatever is wrong with the snapshot (missing, stale, built by another node, refused by V8,
// damaged) and without a launcher at all (no C compiler), `bin/lvsd` still runs, as plain
// JavaScript; and no command runs twice for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server, type AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const VERSION = PACKAGE.version;
const REFUSED_LINE = /^lvsd: node stopped \((exit status \d+|signal \d+)\) before the CLI started from .*; running the JavaScript instead$/m;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `lvsd --version`; whether it ran from the snapshot (NODE_DEBUG=module traces every module node loads from disk). */
function version(bin: string, env: NodeJS.ProcessEnv = {}): { fromSnapshot: boolean; stderr: string } {
  const r = run(bin, ['--version'], { NODE_DEBUG: 'module', ...env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${VERSION}\n`, r.stderr);
  return { fromSnapshot: !/load ".*dist\/src\/cli\/main\.js"/.test(r.stderr), stderr: r.stderr };
}

/** lvsd --version runs from the compiled JavaScript, and says nothing of its own on stderr. */
function runsJavaScriptQuietly(bin: string, env: NodeJS.ProcessEnv = {}): void {
  const v = version(bin, env);
  assert.equal(v.fromSnapshot, false, 'ran from the snapshot');
  assert.doesNotMatch(v.stderr, /^lvsd:/m);
}

let listener: Server;
let port: number;
before(async () => {
  listener = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});
after(() => listener.close());

/** `lvsd check tcp` against this test's listener: a real command, up, exit 0. */
function checksTcp(bin: string, env: NodeJS.ProcessEnv = {}): string {
  const r = run(bin, ['check', 'tcp', `127.0.0.1:${port}`], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^up: connected in [\d.]+ ms\n$/);
  return r.stderr;
}

/** `lvsd check exec` of a program that appends a line to file: how many times the command ran. */
function checkExecRuns(bin: string, file: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string; runs: number } {
  rmSync(file, { force: true });
  const r = run(bin, ['check', 'exec', '127.0.0.1:1', '/bin/sh', '--', '-c', `echo ran >> '${file}'`]);
  const runs = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  return { status: r.status, signal: r.signal, stderr: r.stderr, runs };
}

/** A copy of the built program in a temporary directory (times kept; node_modules shared by a symlink). */
function copyOfBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-start-'));
  mkdirSync(join(dir, 'dist'));
  const parts = ['lvsd', 'src', 'lvsd.blob', 'lvsd.blob.node', '.tsbuildinfo'].map((p) => join(REPO, 'dist', p));
  for (const [from, to] of [[join(REPO, 'bin'), dir], [join(REPO, 'package.json'), dir], [join(REPO, 'scripts'), dir], [join(REPO, 'native'), dir], ...parts.map((p) => [p, join(dir, 'dist')])]) {
    const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function withCopy(body: (dir: string, bin: string) => void): void {
  const dir = copyOfBuild();
  try {
    body(dir, join(dir, 'bin', 'lvsd'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sets file's modification time to ref's, to the nanosecond (touch -r). */
function sameTimeAs(file: string, ref: string): void {
  const r = spawnSync('touch', ['-r', ref, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Replaces the first 4 KiB of file with random bytes, in place. */
function damage(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(4096), 0, 4096, 0);
  } finally {
    closeSync(fd);
  }
}

test('the build made a launcher and a snapshot; bin/lvsd starts from it and runs a command', () => {
  assert.ok(existsSync(join(REPO, 'dist', 'lvsd.blob')), 'dist/lvsd.blob missing: npm run build writes it');
  assert.equal(readFileSync(join(REPO, 'dist', 'lvsd')).subarray(0, 4).toString('latin1'), '\x7fELF', 'dist/lvsd is the compiled launcher');
  assert.equal(version(join(REPO, 'bin', 'lvsd')).fromSnapshot, true);
  const js = run(process.execPath, [join(REPO, 'bin', 'lvsd.js'), '--version'], { NODE_DEBUG: 'module' });
  assert.match(js.stderr, /load ".*dist\/src\/cli\/main\.js"/, 'the probe sees a start from the JavaScript');
  assert.equal(checksTcp(join(REPO, 'bin', 'lvsd')), '');
});

test('snapshot and compiled JavaScript give the same output, errors and exit status', () => {
  const cases = [
    ['--version'],
    ['--help'],
    ['ipvs', '--help'],
    ['ipvs', 'list', '--timeout'], // whatever this host's kernel and user allow: the same either way
    ['ipvs', 'add-service', '-t', '198.18.0.10:80', '--scheduler', 'nope'],
    ['ipvs', 'list', '--rate', '--timeout'],
    ['check', 'tcp', '--help'],
    ['check', 'tcp', '127.0.0.1:1'], // nothing listens on port 1 here: down, exit 1
    ['no-such-command'],
  ];
  for (const args of cases) {
    const fromSnapshot = run(join(REPO, 'bin', 'lvsd'), args);
    const fromJs = run(process.execPath, [join(REPO, 'bin', 'lvsd.js'), ...args]);
    assert.deepEqual(fromSnapshot, fromJs, `lvsd ${args.join(' ')}`);
  }
  const down = run(join(REPO, 'bin', 'lvsd'), ['check', 'tcp', '127.0.0.1:1']);
  assert.equal(down.status, 1);
  assert.match(down.stdout, /^down: connection refused\n$/);
});

test('a missing snapshot, or one without its description: bin/lvsd runs the JavaScript', () => {
  withCopy((dir, bin) => {
    assert.equal(version(bin).fromSnapshot, true, 'the copy starts from its snapshot');
    rmSync(join(dir, 'dist', 'lvsd.blob.node'));
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');
    rmSync(join(dir, 'dist', 'lvsd.blob'));
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');
  });
});

test('a snapshot older than the last compile (stale): bin/lvsd runs the JavaScript', () => {
  withCopy((dir, bin) => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, 'dist', '.tsbuildinfo'), later, later); // tsc ran after the snapshot was built
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');
    sameTimeAs(join(dir, 'dist', '.tsbuildinfo'), join(REPO, 'dist', '.tsbuildinfo'));
    assert.equal(version(bin).fromSnapshot, true);
  });
});

test('a snapshot built by another node: one V8 refuses, one gone, one replaced in place by a file with older times', () => {
  withCopy((dir, bin) => {
    const builtBy = join(dir, 'dist', 'lvsd.blob.node');
    const description = readFileSync(builtBy, 'utf8');
    // node refuses a snapshot whose V8 tag (version and flags) is not its own with exit status 14,
    // as it would one made by another node version: here, started with other V8 flags
    writeFileSync(builtBy, description.replace(/\n(--[^\n]*)\n$/, '\n$1 --no-lazy-feedback-allocation\n'));
    assert.match(readFileSync(builtBy, 'utf8'), / --no-lazy-feedback-allocation\n$/);
    const refused = version(bin);
    assert.equal(refused.fromSnapshot, false);
    assert.match(refused.stderr, /^lvsd: node stopped \(exit status 14\) before the CLI started from /m);
    assert.match(checksTcp(bin), REFUSED_LINE);
    const once = checkExecRuns(bin, join(dir, 'ran'));
    assert.deepEqual([once.status, once.runs], [0, 1], once.stderr);

    const [node, ...rest] = description.split('\n');
    assert.equal(node, process.execPath);
    writeFileSync(builtBy, ['/nonexistent/node', ...rest].join('\n'));
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');

    // a node of our own, that the snapshot is built by, then upgraded in place the way a package
    // manager does it: a new file renamed over the old, with the package's (older) times
    const nodeDir = join(dir, 'node', 'bin');
    mkdirSync(nodeDir, { recursive: true });
    const ownNode = join(nodeDir, 'node');
    assert.equal(spawnSync('cp', [process.execPath, ownNode]).status, 0);
    // (the repository's script: the copy's node_modules is a link, which the packer does not follow)
    const built = spawnSync(ownNode, [join(REPO, 'scripts', 'build-snapshot.js'), join(dir, 'dist', 'lvsd.blob')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(built.status, 0, built.stderr);
    assert.equal(readFileSync(builtBy, 'utf8').split('\n')[0], ownNode);
    assert.equal(version(bin).fromSnapshot, true, 'started with the node that built it');
    assert.equal(spawnSync('cp', [process.execPath, `${ownNode}.new`]).status, 0);
    const packaged = new Date('2020-01-01T00:00:00Z');
    utimesSync(`${ownNode}.new`, packaged, packaged);
    assert.equal(spawnSync('mv', [`${ownNode}.new`, ownNode]).status, 0);
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');
  });
});

test('NODE_OPTIONS (it may carry V8 flags, which make V8 refuse the snapshot): bin/lvsd runs the JavaScript', () => {
  runsJavaScriptQuietly(join(REPO, 'bin', 'lvsd'), { NODE_OPTIONS: '--max-old-space-size=300' });
  assert.equal(checksTcp(join(REPO, 'bin', 'lvsd'), { NODE_OPTIONS: '--max-old-space-size=300' }), '');
});

test('a snapshot made on a CPU with other features: bin/lvsd runs the JavaScript', () => {
  withCopy((dir, bin) => {
    const builtBy = join(dir, 'dist', 'lvsd.blob.node');
    const lines = readFileSync(builtBy, 'utf8').split('\n');
    const cpu = lines.findIndex((l) => l.startsWith('flags'));
    assert.ok(cpu > 0, 'the description holds the CPU flags line');
    lines[cpu] += ' avx512_made_up';
    writeFileSync(builtBy, lines.join('\n'));
    runsJavaScriptQuietly(bin);
    assert.equal(checksTcp(bin), '');
  });
});

test('a damaged snapshot (first 4 KiB random): bin/lvsd runs the JavaScript, and the command runs once', () => {
  withCopy((dir, bin) => {
    const blob = join(dir, 'dist', 'lvsd.blob');
    const ref = join(dir, 'blob-time');
    writeFileSync(ref, '');
    sameTimeAs(ref, blob);
    damage(blob);
    runsJavaScriptQuietly(bin); // the write changed the blob's time: its description no longer fits
    assert.equal(checksTcp(bin), '');
    // damage the checks cannot see (the blob's time put back): node aborts on it, before lvsd's
    // first line, and the launcher runs the JavaScript
    sameTimeAs(blob, ref);
    const r = run(bin, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.match(r.stderr, /^lvsd: node stopped \(signal 6\) before the CLI started from /m);
    assert.match(checksTcp(bin), REFUSED_LINE);
    const once = checkExecRuns(bin, join(dir, 'ran'));
    assert.deepEqual([once.status, once.runs], [0, 1], once.stderr);
  });
});

test('once lvsd started from the snapshot, its failure is its own: no second run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-once-'));
  try {
    const file = join(dir, 'ran');
    // the checked program records its run, then kills node (its parent) with SIGABRT: a crash
    const r = run(join(REPO, 'bin', 'lvsd'), ['check', 'exec', '--timeout', '20000', '127.0.0.1:1', '/bin/sh', '--', '-c', `echo ran >> '${file}'; kill -ABRT $PPID`]);
    assert.equal(r.signal, 'SIGABRT', `status ${r.status} ${r.stderr}`);
    assert.equal(readFileSync(file, 'utf8'), 'ran\n');
    assert.doesNotMatch(r.stderr, /^lvsd:/m);
    const down = run(join(REPO, 'bin', 'lvsd'), ['check', 'tcp', '127.0.0.1:1']);
    assert.deepEqual([down.status, down.stderr], [1, '']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The pids of pid's children. */
function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    pids.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return pids;
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(done(), `${what} within 10 s`);
}

test('a signal sent to bin/lvsd reaches node; killed, bin/lvsd takes node with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-signal-'));
  try {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const mark = join(dir, signal);
      const lvsd = spawn(join(REPO, 'bin', 'lvsd'), ['check', 'exec', '--timeout', '30000', '127.0.0.1:1', '/bin/sh', '--', '-c', `echo $$ > '${mark}.tmp' && mv '${mark}.tmp' '${mark}'; exec sleep 30`], { stdio: 'ignore' });
      const ended = new Promise<NodeJS.Signals | null>((resolve) => lvsd.on('exit', (_code, sig) => resolve(sig)));
      await until('the checked program started', () => existsSync(mark));
      const [node] = childrenOf(lvsd.pid!);
      assert.match(readFileSync(`/proc/${node}/cmdline`, 'latin1'), /--snapshot-blob/, 'node runs from the snapshot as the launcher\'s child');
      lvsd.kill(signal);
      assert.equal(await ended, signal);
      await until(`node ended after ${signal}`, () => !existsSync(`/proc/${node}`) || readFileSync(`/proc/${node}/stat`, 'latin1').split(') ')[1]?.startsWith('Z') === true);
      try {
        process.kill(Number(readFileSync(mark, 'utf8')), 'SIGKILL'); // the checked program, if node left it behind
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('built without a C compiler: no launcher, and bin/lvsd runs the JavaScript with the node that built it', () => {
  withCopy((dir, bin) => {
    // a PATH with node and what a shell script needs, and no C compiler
    const path = join(dir, 'path');
    mkdirSync(path);
    symlinkSync(process.execPath, join(path, 'node'));
    symlinkSync(spawnSync('sh', ['-c', 'command -v readlink'], { encoding: 'utf8' }).stdout.trim(), join(path, 'readlink'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: path };
    delete env.CC;
    rmSync(join(dir, 'dist', 'lvsd'));
    for (const [script, says] of [
      ['build-native.js', /^build-native: no C compiler \(cc\): dist\/native is not built; the JavaScript paths run, and VRRP is unavailable$/m],
      ['build-launcher.js', /^build-launcher: no launcher \(cc: not found\); bin\/lvsd runs the CLI as plain JavaScript/m],
    ] as const) {
      const r = spawnSync(process.execPath, [join(dir, 'scripts', script)], { encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, says);
    }
    assert.equal(existsSync(join(dir, 'dist', 'native')), false);
    assert.notEqual(readFileSync(join(dir, 'dist', 'lvsd')).subarray(0, 4).toString('latin1'), '\x7fELF');
    runsJavaScriptQuietly(bin, { PATH: path });
    assert.equal(checksTcp(bin, { PATH: path }), '');
    // through a link elsewhere (npm link, /usr/local/bin), with node at the path the build saw
    symlinkSync(bin, join(dir, 'lvsd'));
    runsJavaScriptQuietly(join(dir, 'lvsd'), { PATH: path });
    assert.equal(checksTcp(join(dir, 'lvsd'), { PATH: '/nonexistent' }), '');
  });
});

test("npm's bin entry is a plain file in the repository that runs without any build of native code", () => {
  const entry = join(REPO, PACKAGE.bin.lvsd);
  const st = lstatSync(entry);
  assert.ok(st.isFile() && !st.isSymbolicLink(), `${PACKAGE.bin.lvsd} is a regular file`);
  assert.ok(st.mode & 0o111, `${PACKAGE.bin.lvsd} is executable`);
  runsJavaScriptQuietly(entry);
  assert.equal(checksTcp(entry), '');
});

test('started through a symlink (npm link, /usr/local/bin), bin/lvsd still finds its snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-link-'));
  try {
    symlinkSync(join(REPO, 'bin', 'lvsd'), join(dir, 'lvsd'));
    assert.equal(version(join(dir, 'lvsd')).fromSnapshot, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a start from the snapshot has not loaded child_process, net or dgram (commander takes child_process only when used)', () => {
  // the packed CLI with its last line, the call of main(), printing the modules the start has loaded
  // (listed before the write: process.stdout on a pipe loads net)
  const packed = readFileSync(join(REPO, 'dist', 'lvsd.snapshot.js'), 'utf8');
  const call = '  load("dist/src/cli/main.js").main(argv);';
  assert.ok(packed.includes(call), 'the packed script calls main() as this test expects');
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-modules-'));
  try {
    const script = join(dir, 'modules.js');
    writeFileSync(script, packed.replace(call, "  const loaded = process.moduleLoadList.join('\\n'); process.stdout.write(loaded + '\\n');"));
    const blob = join(dir, 'modules.blob');
    const built = spawnSync(process.execPath, ['--no-warnings', '--snapshot-blob', blob, '--build-snapshot', script], { encoding: 'utf8', cwd: REPO, timeout: 120_000, stdio: ['ignore', 'ignore', 'pipe'] });
    assert.equal(built.status, 0, built.stderr);
    const r = run(process.execPath, ['--snapshot-blob', blob]);
    assert.equal(r.status, 0, r.stderr);
    const loaded = new Set(r.stdout.trim().split('\n'));
    assert.ok(loaded.has('NativeModule events'), 'the list is the one of this start');
    for (const m of ['NativeModule child_process', 'NativeModule net', 'NativeModule dgram', 'Internal Binding process_wrap']) {
      assert.equal(loaded.has(m), false, `${m} is loaded`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
