// HTTP checks against a real node:http server on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { runWithDeadline } from '../../../src/health/deadline';
import { HttpChecker, parseStatusRanges, type HttpCheckOptions } from '../../../src/health/http';
import { listenLoopback, tcpServer } from '../../support/servers';

const seen: { method?: string; url?: string; host?: string }[] = [];
let port = 0;
const server = http.createServer((req, res) => {
  seen.push({ method: req.method, url: req.url, host: req.headers.host });
  const url = req.url ?? '/';
  if (url === '/health') return res.end('status: ready\n');
  if (url === '/down') return res.writeHead(503, 'Service Unavailable').end('maintenance');
  if (url === '/moved') return res.writeHead(301, { location: '/health' }).end();
  if (url === '/big') {
    res.write('x'.repeat(200_000));
    return res.end('READY');
  }
  if (url === '/silent') return; // never answers
  if (url === '/drip') {
    res.writeHead(200);
    const t = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(t));
    return;
  }
  res.writeHead(404).end();
});

before(async () => {
  port = await listenLoopback(server);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const check = (o: Partial<HttpCheckOptions>, ms = 1000) => runWithDeadline(new HttpChecker({ host: '127.0.0.1', port, ...o }), ms);

test('200 is up; the request carries method, path and Host header', async () => {
  seen.length = 0;
  const r = await check({ path: '/health', hostHeader: 'db.example.test' });
  assert.equal(r.ok, true);
  assert.match(r.reason, /^HTTP 200 OK in [\d.]+ ms$/);
  assert.deepEqual(seen, [{ method: 'GET', url: '/health', host: 'db.example.test' }]);
  const head = await check({ path: '/health', method: 'HEAD' });
  assert.equal(head.ok, true);
  assert.equal(seen[1].method, 'HEAD');
  assert.equal(seen[1].host, `127.0.0.1:${port}`);
});

test('503 is down with the status in words; accepted codes come from the list', async () => {
  const r = await check({ path: '/down' });
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'HTTP 503 Service Unavailable, expected 200-299');
  assert.equal((await check({ path: '/moved' })).ok, false);
  assert.equal((await check({ path: '/moved', expectStatus: parseStatusRanges('200-299,301') })).ok, true);
  assert.equal((await check({ path: '/down', expectStatus: parseStatusRanges('503') })).ok, true);
});

test('body pattern: matched, not matched, and not found within the size cap', async () => {
  assert.equal((await check({ path: '/health', bodyRegex: /ready/ })).ok, true);
  const miss = await check({ path: '/health', bodyRegex: /synced/ });
  assert.equal(miss.ok, false);
  assert.equal(miss.reason, 'HTTP 200 OK, body does not match /synced/: "status: ready\\n"');
  const capped = await check({ path: '/big', bodyRegex: /READY/, maxResponseBytes: 4096 });
  assert.equal(capped.ok, false);
  assert.match(capped.reason, /body does not match \/READY\/ in the first 4096 bytes/);
  assert.equal((await check({ path: '/big', bodyRegex: /READY/, maxResponseBytes: 300_000 })).ok, true);
});

test('a server that never answers is down at the deadline, waiting for headers', async () => {
  const started = performance.now();
  const r = await check({ path: '/silent' }, 300);
  assert.equal(r.reason, 'timeout after 300 ms waiting for the response headers');
  // enforced: a checker that ignored it would wait for good; the bound leaves room for a busy machine
  assert.ok(performance.now() - started < 300 + 5000);
});

test('a body that drips without the pattern is down at the deadline', async () => {
  const r = await check({ path: '/drip', bodyRegex: /done/ }, 300);
  assert.equal(r.ok, false);
  assert.match(r.reason, /^timeout after 300 ms reading the body \(\d+ bytes\) for \/done\/$/);
});

test('not HTTP at all, and a reset, are down with the reason', async (t) => {
  const garbage = await tcpServer((s) => s.end('SSH-2.0-OpenSSH\r\n'));
  const reset = await tcpServer((s) => s.once('data', () => s.resetAndDestroy()));
  t.after(() => Promise.all([garbage.close(), reset.close()]));
  const g = await runWithDeadline(new HttpChecker({ host: '127.0.0.1', port: garbage.port }), 1000);
  assert.equal(g.ok, false);
  assert.match(g.reason, /^not an HTTP response \(HPE_/);
  const r = await runWithDeadline(new HttpChecker({ host: '127.0.0.1', port: reset.port }), 1000);
  assert.equal(r.ok, false);
  assert.match(r.reason, /reset/);
});

test('status list syntax', () => {
  assert.deepEqual(parseStatusRanges('200-299,301'), [[200, 299], [301, 301]]);
  assert.throws(() => parseStatusRanges('200-1000'), /not a status code or range/);
  assert.throws(() => parseStatusRanges('299-200'), /start is above its end/);
  assert.throws(() => parseStatusRanges('099'), /100 to 599/);
});
