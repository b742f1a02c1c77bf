// Password from a private file or an environment variable; errors name the place, not the secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors';
import { describePasswordSource, loadPassword } from '../../../src/health/mysql/credentials';

const SECRET = 'canary-Zq8v-3141';

function withFile(content: string, mode: number, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-pw-'));
  try {
    const path = join(dir, 'db.pw');
    writeFileSync(path, content);
    chmodSync(path, mode);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a 0600 file gives the password without its trailing newline', () => {
  withFile(`${SECRET}\n`, 0o600, (path) => assert.equal(loadPassword({ file: path }), SECRET));
  withFile(`${SECRET}\r\n`, 0o400, (path) => assert.equal(loadPassword({ file: path }), SECRET));
});

test('group- or world-accessible files are refused, naming the file and its mode', () => {
  for (const mode of [0o640, 0o604, 0o644, 0o660, 0o610]) {
    withFile(SECRET, mode, (path) => {
      assert.throws(
        () => loadPassword({ file: path }),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.equal(err.message, `password file ${path} has mode 0${mode.toString(8)}: group or others can access it; run chmod 600 ${path}`);
          assert.ok(!err.message.includes(SECRET));
          return true;
        },
      );
    });
  }
});

test('missing, empty and non-regular files are refused', () => {
  assert.throws(() => loadPassword({ file: '/nonexistent/lvsd.pw' }), /password file \/nonexistent\/lvsd.pw cannot be read: ENOENT/);
  withFile('', 0o600, (path) => assert.throws(() => loadPassword({ file: path }), /is empty/));
  assert.throws(() => loadPassword({ file: tmpdir() }), /is not a regular file/);
});

test('environment variable source', () => {
  assert.equal(loadPassword({ env: 'LVSD_TEST_PW' }, { LVSD_TEST_PW: SECRET }), SECRET);
  assert.throws(() => loadPassword({ env: 'LVSD_TEST_PW' }, {}), /environment variable LVSD_TEST_PW \(password\) is not set or empty/);
  assert.throws(() => loadPassword({ env: 'LVSD_TEST_PW' }, { LVSD_TEST_PW: '' }), /not set or empty/);
  assert.throws(() => loadPassword({ env: 'BAD-NAME' }, {}), /not a valid environment variable name/);
});

test('systemd credential source: $CREDENTIALS_DIRECTORY/NAME, same file checks', () => {
  withFile(`${SECRET}\n`, 0o400, (path) => {
    const dir = path.slice(0, path.lastIndexOf('/'));
    assert.equal(loadPassword({ credential: 'db.pw' }, { CREDENTIALS_DIRECTORY: dir }), SECRET);
    assert.throws(() => loadPassword({ credential: 'db.pw' }, {}), /CREDENTIALS_DIRECTORY is not set/);
    assert.throws(() => loadPassword({ credential: '../etc/shadow' }, { CREDENTIALS_DIRECTORY: dir }), /is not a credential name/);
  });
});

test('the source is described without the secret', () => {
  assert.equal(describePasswordSource({ file: '/etc/lvsd/db.pw' }), 'file /etc/lvsd/db.pw');
  assert.equal(describePasswordSource({ env: 'DB_PW' }), 'env DB_PW');
  assert.equal(describePasswordSource({ credential: 'db' }), 'credential db');
});
