// 10,000 probes of every outcome (up, refused, garbage, reset, silent until the deadline, HTTP)
// leave no file descriptor behind. Bounded in count and in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { runWithDeadline } from '../../../src/health/deadline';
import { HttpChecker } from '../../../src/health/http';
import { TcpChecker } from '../../../src/health/tcp';
import type { Checker } from '../../../src/health/types';
import { closedPort, listenLoopback, openFds, tcpServer } from '../../support/servers';

const RUNS = 10_000;
/** Bounds the loop; no speed claim (many times what a busy 2-core machine needs). */
const TIME_LIMIT_MS = 300_000;
const CONCURRENCY = 50;

test(`no file-descriptor growth over ${RUNS} probes`, { timeout: TIME_LIMIT_MS + 30_000 }, async () => {
  const up = await tcpServer(() => {});
  const garbage = await tcpServer((s) => s.end('garbage'));
  const reset = await tcpServer((s) => s.resetAndDestroy());
  const silent = await tcpServer(() => {});
  const web = http.createServer((req, res) => res.end(req.url === '/ok' ? 'fine' : 'nope'));
  web.keepAliveTimeout = 1;
  const webPort = await listenLoopback(web);
  const refused = await closedPort();
  const h = '127.0.0.1';
  const kinds: Array<[Checker, number, boolean]> = [
    [new TcpChecker({ host: h, port: up.port }), 2000, true],
    [new TcpChecker({ host: h, port: refused }), 200, false],
    [new TcpChecker({ host: h, port: garbage.port, expect: /OK/ }), 200, false],
    [new TcpChecker({ host: h, port: reset.port, expect: /OK/ }), 200, false],
    [new TcpChecker({ host: h, port: silent.port, expect: /OK/ }), 20, false],
    [new HttpChecker({ host: h, port: webPort, path: '/ok', bodyRegex: /fine/ }), 2000, true],
    [new HttpChecker({ host: h, port: webPort, path: '/ok' }), 2000, true],
  ];

  // Warm up (lazy handles, DNS module, http parser pools) before the baseline.
  for (const [c, ms] of kinds) await runWithDeadline(c, ms);
  await new Promise((r) => setTimeout(r, 200));
  const before = openFds();

  const started = Date.now();
  let done = 0;
  let wrong = 0;
  const wrongReasons = new Map<string, number>();
  while (done < RUNS && Date.now() - started < TIME_LIMIT_MS) {
    const batch = [];
    for (let i = 0; i < CONCURRENCY && done + i < RUNS; i++) {
      const [c, ms, expectOk] = kinds[(done + i) % kinds.length];
      batch.push(
        runWithDeadline(c, ms).then((r) => {
          if (r.ok === expectOk) return;
          wrong++;
          wrongReasons.set(r.reason, (wrongReasons.get(r.reason) ?? 0) + 1);
        }),
      );
    }
    await Promise.all(batch);
    done += batch.length;
  }
  await new Promise((r) => setTimeout(r, 300)); // let the servers see the last closes
  const after = openFds();

  await Promise.all([up.close(), garbage.close(), reset.close(), silent.close()]);
  web.closeAllConnections();
  await new Promise((r) => web.close(r));

  assert.equal(done, RUNS, `only ${done} probes within ${TIME_LIMIT_MS} ms`);
  assert.equal(wrong, 0, `unexpected verdicts: ${JSON.stringify([...wrongReasons].slice(0, 5))}`);
  assert.ok(after - before <= 3, `fds before ${before}, after ${after}`);
});
