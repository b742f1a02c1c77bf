import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkerFromFlags, exitCodeFor, parseEscapes, parseIntFlag, parseRegexFlag, parseTarget } from '../../../src/cli/check-common';
import type { ConfigError } from '../../../src/errors';

test('TARGET: IPv4, names, bracketed IPv6, default ports', () => {
  assert.deepEqual(parseTarget('198.18.0.11:3306'), { host: '198.18.0.11', port: 3306 });
  assert.deepEqual(parseTarget('db-1.example.test:3306'), { host: 'db-1.example.test', port: 3306 });
  assert.deepEqual(parseTarget('[2001:db8::11]:80'), { host: '2001:db8::11', port: 80 });
  assert.deepEqual(parseTarget('2001:db8::11', 443), { host: '2001:db8::11', port: 443 });
  assert.deepEqual(parseTarget('198.18.0.11', 80), { host: '198.18.0.11', port: 80 });
});

test('TARGET errors name TARGET and say what is wrong', () => {
  assert.throws(() => parseTarget('198.18.0.11'), /^InputError: TARGET "198\.18\.0\.11": the port is missing/);
  assert.throws(() => parseTarget('198.18.0.11:65536'), /port "65536" must be a number from 1 to 65535/);
  assert.throws(() => parseTarget('[198.18.0.1]:80'), /"198\.18\.0\.1" is not an IPv6 address/);
  assert.throws(() => parseTarget(':80'), /the host is missing/);
  assert.throws(() => parseTarget('a_b:80'), /neither an IP address nor a host name/);
});

test('flag parsers name the flag', () => {
  assert.equal(parseIntFlag('250', '--max-read', 1, 1000), 250);
  assert.throws(() => parseIntFlag('-1', '--max-read', 1, 1000), /^InputError: --max-read: must be an integer from 1 to 1000, got "-1"/);
  assert.throws(() => parseIntFlag('1e3', '--timeout', 1, 5000), /--timeout/);
  assert.throws(() => parseRegexFlag('[', '--body-regex'), /--body-regex: not a valid regular expression/);
  assert.equal(parseEscapes('PING\\r\\n\\x01\\\\', '--send'), 'PING\r\n\x01\\');
  assert.throws(() => parseEscapes('\\z', '--send'), /--send: unknown escape "\\z"/);
});

test('exit status: 0 up, 1 down, 2 configuration error (even if a buggy checker said ok)', () => {
  assert.equal(exitCodeFor({ ok: true, reason: '', latencyMs: 0 }), 0);
  assert.equal(exitCodeFor({ ok: false, reason: '', latencyMs: 0 }), 1);
  assert.equal(exitCodeFor({ ok: false, configError: true, reason: '', latencyMs: 0 }), 2);
  assert.equal(exitCodeFor({ ok: true, configError: true, reason: '', latencyMs: 0 }), 2);
});

test('check flags go through the config schema: every problem at once, each naming its flag', () => {
  const flagOf = { expect_regex: '--expect-regex', max_read_bytes: '--max-read' };
  assert.throws(
    () => checkerFromFlags('tcp', { host: '198.18.0.11', port: 80 }, { expect_regex: '(', max_read_bytes: '0' }, flagOf, { checkFiles: true }),
    (err: ConfigError) => {
      assert.deepEqual(err.errors, [
        '--max-read: 0 is out of range (1..1048576)',
        '--expect-regex: not a valid regular expression: Invalid regular expression: /(/: Unterminated group',
      ]);
      return true;
    },
  );
  assert.throws(
    () => checkerFromFlags('http', { host: '198.18.0.11', port: 80 }, { method: 'BREW', path: 'x', expect_status: ['2xx'] }, {}, { checkFiles: true }),
    (err: ConfigError) => {
      assert.deepEqual(err.errors.slice(0, 2), ['--path: must start with / and hold no spaces or control characters, got "x"', '--method: must be one of GET, HEAD, POST, OPTIONS, got "BREW"']);
      return true;
    },
  );
  assert.throws(
    () => checkerFromFlags('http', { host: '198.18.0.11', port: 80 }, { expect_status: ['2xx'], body_regex: '[' }, {}, { checkFiles: true }),
    (err: ConfigError) => err.errors.length === 2 && err.errors[0].startsWith('--expect-status: "2xx" is not a status code') && err.errors[1].startsWith('--body-regex: not a valid regular expression'),
  );
  const checker = checkerFromFlags('tcp', { host: '198.18.0.11', port: 6379 }, { send: 'PING\r\n', expect: '+PONG', max_read_bytes: '64' }, flagOf, { checkFiles: true });
  assert.equal(checker.kind, 'tcp');
  assert.match(checker.key, /^tcp:198\.18\.0\.11:6379:/);
});
