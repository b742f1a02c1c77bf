// `bin/lvsd` (native/launcher/lvsd.c) starts from the CLI's V8 start-up snapshot
// (scripts/build-snapshot.js) and behaves exactly like the compiled JavaScript (`node bin/lvsd.js`);
// a snapshot that may be stale or that V8 would refuse is not used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..', '..');
const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether a run loaded the CLI's entry module from disk (NODE_DEBUG=module traces every load). */
function loadedFromDisk(bin: string, args: string[]): boolean {
  const r = run(bin, args, { NODE_DEBUG: 'module' });
  assert.equal(r.stdout.trim(), VERSION, r.stderr);
  return /load ".*dist\/src\/cli\/main\.js"/.test(r.stderr);
}

/** A copy of the built program in a temporary directory (node_modules shared by a symlink). */
function copyOfBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-snapshot-'));
  cpSync(join(REPO, 'bin'), join(dir, 'bin'), { recursive: true, verbatimSymlinks: true }); // bin/lvsd -> ../dist/lvsd
  for (const part of ['lvsd', 'src', 'realserver', 'lvsd.blob', 'lvsd.blob.node', '.tsbuildinfo']) {
    cpSync(join(REPO, 'dist', part), join(dir, 'dist', part), { recursive: true, preserveTimestamps: true });
  }
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

test('the build wrote a snapshot and bin/lvsd starts from it instead of loading modules', () => {
  assert.ok(existsSync(join(REPO, 'dist', 'lvsd.blob')), 'dist/lvsd.blob missing: npm run build writes it');
  assert.equal(loadedFromDisk(join(REPO, 'bin', 'lvsd'), ['--version']), false);
  assert.equal(loadedFromDisk(process.execPath, [join(REPO, 'bin', 'lvsd.js'), '--version']), true);
});

test('snapshot and compiled JavaScript give the same output, errors and exit status', () => {
  const cases = [
    ['--version'],
    ['--help'],
    ['ipvs', '--help'],
    ['ipvs', 'list', '--timeout'], // this host kernel has no IPVS: the error in words, exit 1
    ['ipvs', 'add-service', '-t', '198.18.0.10:80', '--scheduler', 'nope'],
    ['ipvs', 'list', '--rate', '--timeout'],
    ['check', 'tcp', '--help'],
    ['no-such-command'],
  ];
  for (const args of cases) {
    const fromSnapshot = run(join(REPO, 'bin', 'lvsd'), args);
    const fromJs = run(process.execPath, [join(REPO, 'bin', 'lvsd.js'), ...args]);
    assert.deepEqual(fromSnapshot, fromJs, `lvsd ${args.join(' ')}`);
  }
  const r = run(join(REPO, 'bin', 'lvsd'), ['ipvs', 'list', '--timeout']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lvsd: IPVS is not available in this kernel: load the ip_vs module\n$/);
});

test('a snapshot older than the last compile, built by a node that is gone, on another CPU or without its flags line, is not used', () => {
  const dir = copyOfBuild();
  try {
    const bin = join(dir, 'bin', 'lvsd');
    assert.equal(loadedFromDisk(bin, ['--version']), false, 'the copy starts from its snapshot');
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(dir, 'dist', '.tsbuildinfo'), later, later); // tsc ran after the snapshot was built
    assert.equal(loadedFromDisk(bin, ['--version']), true);
    cpSync(join(REPO, 'dist', '.tsbuildinfo'), join(dir, 'dist', '.tsbuildinfo'), { preserveTimestamps: true });
    assert.equal(loadedFromDisk(bin, ['--version']), false);
    const builtBy = join(dir, 'dist', 'lvsd.blob.node');
    const [node, cpu, v8Flags] = readFileSync(builtBy, 'utf8').split('\n');
    assert.match(v8Flags, /--no-sparkplug/, 'the V8 flags the blob was built with');
    writeFileSync(builtBy, `${node}\n${cpu} avx512_made_up\n${v8Flags}\n`); // V8 would refuse it: exit 14
    assert.equal(loadedFromDisk(bin, ['--version']), true);
    writeFileSync(builtBy, `${node}\n${cpu}\n${v8Flags}\n`);
    assert.equal(loadedFromDisk(bin, ['--version']), false);
    writeFileSync(builtBy, `/nonexistent/node\n${cpu}\n${v8Flags}\n`);
    assert.equal(loadedFromDisk(bin, ['--version']), true);
    writeFileSync(builtBy, `${node}\n${cpu}\n`); // written by a build that predates the flags line
    assert.equal(loadedFromDisk(bin, ['--version']), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('started through a symlink (npm link, /usr/local/bin), bin/lvsd still finds its snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-link-'));
  try {
    symlinkSync(join(REPO, 'bin', 'lvsd'), join(dir, 'lvsd'));
    assert.equal(loadedFromDisk(join(dir, 'lvsd'), ['--version']), false);
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
