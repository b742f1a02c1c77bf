// Server faults are down; the check's own faults are configuration errors (never up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFailure, timeoutReason } from '../../../src/health/mysql/classify';
import { toDriverError } from '../../../src/health/mysql/adapter';

test('ERR 1045 is a configuration error with the server words', () => {
  const v = classifyFailure({ serverErrno: 1045, message: "Access denied for user 'lvs'@'127.0.0.1' (using password: YES)" }, 'login', false);
  assert.deepEqual(v, { reason: "ERR 1045 access denied for user 'lvs'@'127.0.0.1' (using password: YES)", configError: true });
});

test('missing privilege and unsupported auth protocol are configuration errors', () => {
  for (const errno of [1227, 1142, 1251, 1044, 1698]) {
    assert.equal(classifyFailure({ serverErrno: errno, message: 'x' }, 'query', false).configError, true, String(errno));
  }
});

test('server-side refusals are down: too many connections, host blocked, WSREP not ready, shutdown', () => {
  for (const errno of [1040, 1129, 1047, 1053, 1205]) {
    const v = classifyFailure({ serverErrno: errno, message: 'Some text' }, 'login', false);
    assert.equal(v.configError, false, String(errno));
    assert.match(v.reason, new RegExp(`^ERR ${errno} some text`));
  }
  assert.match(classifyFailure({ serverErrno: 1129, message: 'Host blocked' }, 'login', false).reason, /FLUSH HOSTS/);
});

test('client-side auth and TLS faults are configuration errors', () => {
  for (const client of ['auth-plugin-unsupported', 'auth-plugin-not-allowed', 'rsa-key-needed', 'cleartext-needs-tls', 'server-has-no-tls', 'tls-identity'] as const) {
    assert.equal(classifyFailure({ client, message: 'm' }, 'login', true).configError, true, client);
  }
  const v = classifyFailure({ nodeCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'login', true);
  assert.deepEqual(v, { reason: 'TLS: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)', configError: true });
});

test('socket faults are down and say where they happened', () => {
  assert.deepEqual(classifyFailure({ nodeCode: 'ECONNREFUSED', message: 'x' }, 'connect', false), { reason: 'connection refused', configError: false });
  assert.deepEqual(classifyFailure({ nodeCode: 'ECONNRESET', message: 'x' }, 'login', false), { reason: 'connection reset by server during login', configError: false });
  assert.deepEqual(classifyFailure({ client: 'closed', message: 'x' }, 'greeting', false), {
    reason: 'server closed the connection during handshake (before the greeting)',
    configError: false,
  });
  assert.equal(classifyFailure({ client: 'protocol', message: 'bad packet' }, 'login', false).configError, false);
});

test('timeouts name the phase they interrupted', () => {
  assert.equal(timeoutReason('connect', 1000), 'connect timeout after 1000 ms');
  assert.match(timeoutReason('greeting', 1000), /^handshake timeout after 1000 ms: connected, but the server sent no greeting/);
  assert.match(timeoutReason('login', 50), /^login timeout after 50 ms/);
  assert.match(timeoutReason('query', 50), /^query timeout after 50 ms/);
});

test('driver errors keep codes and one line of text, never a stack or the SQL', () => {
  const err = Object.assign(new Error('(conn:5, no: 1045, SQLState: 28000) Access denied\nsql: SELECT 1'), {
    errno: 1045,
    sqlMessage: 'Access denied',
    code: 'ER_ACCESS_DENIED_ERROR',
  });
  assert.deepEqual(toDriverError(err), { serverErrno: 1045, message: 'Access denied' });
  assert.deepEqual(toDriverError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', errno: -111 })), {
    nodeCode: 'ECONNREFUSED',
    message: 'connect ECONNREFUSED',
  });
  assert.deepEqual(toDriverError(Object.assign(new Error('x'), { errno: 45044, sqlMessage: 'RSA public key is not available' })), {
    client: 'rsa-key-needed',
    message: 'RSA public key is not available',
  });
});
