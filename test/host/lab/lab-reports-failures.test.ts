// The lab tier must never pass by accident: a failing lab test, and a lab that cannot boot,
// both make it fail. Boots the real lab once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../../../..');
const testLab = join(repo, 'scripts/test-lab.sh');

function runTier(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', [testLab, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('a failing lab test fails the lab tier, and a passing one is counted', { timeout: 600_000 }, () => {
  mkdirSync(join(repo, '.lab-cache'), { recursive: true });
  const dir = mkdtempSync(join(repo, '.lab-cache/selftest-'));
  try {
    const pass = join(dir, 'pass.lab.test.js');
    const fail = join(dir, 'fail.lab.test.js');
    writeFileSync(pass, `require('node:test').test('passes in the guest', () => { require('node:assert').ok(require('node:fs').existsSync('/proc/net/ip_vs')); });\n`);
    writeFileSync(fail, `require('node:test').test('fails on purpose', () => { require('node:assert').equal(1, 2); });\n`);
    const r = runTier([pass, fail]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /^lab: 1 passed, 1 failed$/m, r.output);
    assert.match(r.output, /fails on purpose/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lab that cannot boot is a failure, not a skip', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(repo, '.lab-cache/selftest-'));
  try {
    const bogus = join(dir, 'not-a-kernel');
    writeFileSync(bogus, 'this is not a kernel image\n');
    const pass = join(dir, 'pass.lab.test.js');
    writeFileSync(pass, `require('node:test').test('never runs', () => {});\n`);
    const r = runTier([pass], { LVSD_LAB_KERNEL: bogus });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /^lab: 0 passed, 1 failed$/m, r.output);
    assert.match(r.output, /reported no status/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
