// TCP checks against scripted servers on loopback: each failure is reported with the right reason,
// early when the server says so, at the deadline when it stays silent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWithDeadline } from '../../../src/health/deadline';
import { TcpChecker } from '../../../src/health/tcp';
import { closedPort, tcpServer } from '../../support/servers';

const DEADLINE = 300;
/**
 * How late a result may come after its deadline on a busy shared 2-core machine. It proves the
 * deadline was enforced (a checker that ignored it would hang for good); it is no speed claim.
 */
const LATE_MS = 5000;

async function probe(port: number, extra: { send?: string; expect?: string | RegExp; maxReadBytes?: number } = {}) {
  const started = performance.now();
  const result = await runWithDeadline(new TcpChecker({ host: '127.0.0.1', port, ...extra }), DEADLINE);
  return { ...result, wallMs: performance.now() - started };
}

test('a listening server is up, with latency', async (t) => {
  const srv = await tcpServer(() => {});
  t.after(() => srv.close());
  const r = await probe(srv.port);
  assert.equal(r.ok, true);
  assert.match(r.reason, /^connected in [\d.]+ ms$/);
  assert.ok(r.latencyMs > 0 && r.latencyMs < DEADLINE);
});

test('a closed port is down: connection refused, before the deadline (not a timeout)', async () => {
  const r = await probe(await closedPort());
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'connection refused');
});

test('send/expect: the reply is matched (string and pattern)', async (t) => {
  const srv = await tcpServer((s) => s.once('data', (d) => s.write(d.toString() === 'PING\r\n' ? '+PONG\r\n' : '-ERR\r\n')));
  t.after(() => srv.close());
  assert.equal((await probe(srv.port, { send: 'PING\r\n', expect: '+PONG' })).ok, true);
  const re = await probe(srv.port, { send: 'PING\r\n', expect: /^\+PO/ });
  assert.equal(re.ok, true);
  assert.equal(re.reason.startsWith('got /^\\+PO/ in '), true);
  const wrong = await probe(srv.port, { send: 'HELLO\r\n', expect: '+PONG' });
  assert.equal(wrong.ok, false);
  assert.match(wrong.reason, /waiting for "\+PONG" \(got "-ERR\\r\\n"\)|expected "\+PONG"/);
});

test('accepts and never sends: down at the deadline, waiting for the expected reply', async (t) => {
  const srv = await tcpServer(() => {});
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: /OK/ });
  assert.equal(r.ok, false);
  assert.equal(r.reason, `timeout after ${DEADLINE} ms waiting for /OK/ (got nothing)`);
  assert.ok(r.wallMs >= DEADLINE - 5 && r.wallMs < DEADLINE + LATE_MS, `took ${r.wallMs} ms`);
});

test('sends garbage and closes: down, showing what it sent', async (t) => {
  const srv = await tcpServer((s) => s.end(Buffer.from('\x00\x01garbage\xff', 'latin1')));
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: /OK/ });
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'expected /OK/, got "\\u0000\\u0001garbageÿ" then the connection closed');
});

test('sends endless garbage: down once the read cap is reached, not at the deadline', async (t) => {
  const srv = await tcpServer((s) => {
    const timer = setInterval(() => s.write('x'.repeat(1024)), 1);
    s.on('close', () => clearInterval(timer));
  });
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: /OK/, maxReadBytes: 2048 });
  assert.equal(r.ok, false);
  // the reason names the cap, not the deadline: it stopped reading there
  assert.match(r.reason, /^expected \/OK\/ within 2048 bytes, got "x{64}"\.\.\. \(2048 bytes\)$/);
});

test('resets the connection: down with "reset"', async (t) => {
  const srv = await tcpServer((s) => s.resetAndDestroy());
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: /OK/ });
  assert.equal(r.ok, false);
  assert.match(r.reason, /reset/);
  assert.doesNotMatch(r.reason, /timeout/);
});

test('slow drip that never completes the reply: down within the deadline', async (t) => {
  const srv = await tcpServer((s) => {
    const timer = setInterval(() => s.write('.'), 50);
    s.on('close', () => clearInterval(timer));
  });
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: 'READY' });
  assert.equal(r.ok, false);
  assert.match(r.reason, new RegExp(`^timeout after ${DEADLINE} ms waiting for "READY" \\(got "\\.+"\\)$`));
  assert.ok(r.wallMs < DEADLINE + LATE_MS, `took ${r.wallMs} ms`);
});

test('slow drip that completes the reply in time: up', async (t) => {
  const srv = await tcpServer((s) => {
    const parts = ['RE', 'AD', 'Y'];
    const timer = setInterval(() => (parts.length ? s.write(parts.shift()!) : clearInterval(timer)), 30);
    s.on('close', () => clearInterval(timer));
  });
  t.after(() => srv.close());
  const r = await probe(srv.port, { expect: 'READY' });
  assert.equal(r.ok, true, r.reason);
});
