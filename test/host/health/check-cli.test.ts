// `lvsd check tcp|http|exec` as the operator runs it: verdict and reason on stdout, exit 0 up,
// 1 down, 2 configuration error; bad flags are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as http from 'node:http';
import { join } from 'node:path';
import { closedPort, listenLoopback, tcpServer } from '../../support/servers';

const LVSD = join(__dirname, '../../../../bin/lvsd');

async function lvsd(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // async so this process's own test servers keep answering while the CLI runs
  return new Promise((resolve) => {
    const child = spawn(LVSD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('tcp: up exits 0, refused exits 1, each with the reason', async (t) => {
  const srv = await tcpServer((s) => s.end('220 ready\r\n'));
  t.after(() => srv.close());
  const up = await lvsd('check', 'tcp', `127.0.0.1:${srv.port}`, '--expect', '220');
  assert.equal(up.status, 0);
  assert.match(up.stdout, /^up: got "220" in [\d.]+ ms\n$/);
  const down = await lvsd('check', 'tcp', `127.0.0.1:${await closedPort()}`);
  assert.deepEqual([down.status, down.stdout], [1, 'down: connection refused\n']);
  const json = await lvsd('check', 'tcp', `127.0.0.1:${srv.port}`, '--json');
  assert.equal(JSON.parse(json.stdout).verdict, 'up');
});

test('http: status and body, and a TLS verification failure exits 2', async (t) => {
  const server = http.createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 503).end('body'));
  const port = await listenLoopback(server);
  t.after(() => new Promise((r) => server.close(r)));
  assert.equal((await lvsd('check', 'http', `127.0.0.1:${port}`, '--path', '/ok', '--body-regex', 'bo.y')).status, 0);
  const down = await lvsd('check', 'http', `127.0.0.1:${port}`, '--path', '/x');
  assert.deepEqual([down.status, down.stdout], [1, 'down: HTTP 503 Service Unavailable, expected 200-299\n']);
  const tls = await lvsd('check', 'http', `127.0.0.1:${port}`, '--https', '--sni', 'web.example.test');
  assert.equal(tls.status, 2);
  assert.match(tls.stdout, /^config-error: TLS handshake failed/);
});

test('exec: dynamic weight is printed', async () => {
  const r = await lvsd('check', 'exec', '--dynamic-weight', '198.18.0.11:80', '/bin/sh', '--', '-c', 'exit 7');
  assert.deepEqual([r.status, r.stdout], [0, 'up: exit 7: weight 5\n']);
});

test('bad input exits 2 and names the flag or argument', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['check', 'tcp', '127.0.0.1:0'], /TARGET "127\.0\.0\.1:0": port "0" must be a number from 1 to 65535/],
    [['check', 'tcp', '127.0.0.1'], /TARGET "127\.0\.0\.1": the port is missing/],
    [['check', 'tcp', 'bad host!:80'], /TARGET "bad host!:80": "bad host!" is neither an IP address nor a host name/],
    [['check', 'tcp', '127.0.0.1:80', '--timeout', '0'], /--timeout: must be an integer from 1 to 3600000, got "0"/],
    [['check', 'tcp', '127.0.0.1:80', '--expect-regex', '('], /--expect-regex: not a valid regular expression/],
    [['check', 'tcp', '127.0.0.1:80', '--send', '\\q'], /--send: unknown escape "\\q"/],
    [['check', 'http', '127.0.0.1', '--expect-status', '2xx'], /--expect-status: "2xx" is not a status code/],
    [['check', 'http', '127.0.0.1', '--method', 'BREW'], /--method: must be one of GET, HEAD, POST, OPTIONS/],
    [['check', 'http', '127.0.0.1', '--path', 'health'], /--path: must start with \//],
    [['check', 'http', '127.0.0.1', '--ca', '/nonexistent.pem', '--https'], /--ca: cannot read "\/nonexistent\.pem": ENOENT/],
    [['check', 'http', '127.0.0.1', '--ca', '/etc/hostname'], /--ca: only meaningful with --https/],
    [['check', 'exec', '127.0.0.1:80', 'check.sh'], /PROGRAM "check\.sh": must be an absolute path/],
    [['check', 'exec', '127.0.0.1:80', '/bin/true', '--env', 'BAD-KEY=1'], /--env: expected KEY=VALUE/],
    [['check', 'tcp', '127.0.0.1:80', '--no-such-flag'], /unknown option '--no-such-flag'/],
  ];
  for (const [args, message] of cases) {
    const r = await lvsd(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('a listener that drops SYNs (full accept queue) is down at the connect deadline', async (t) => {
  // A listener in a stopped process: the kernel queues backlog+1 connections, then drops SYNs.
  const listener = spawn(process.execPath, [
    '-e',
    "const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))",
  ]);
  t.after(() => listener.kill('SIGKILL'));
  const [line] = (await once(listener.stdout, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  process.kill(listener.pid!, 'SIGSTOP');
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  t.after(() => fillers.forEach((f) => f.destroy()));
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const r = await lvsd('check', 'tcp', `127.0.0.1:${port}`, '--timeout', '400');
  const took = Date.now() - started;
  assert.deepEqual([r.status, r.stdout, r.stderr], [1, 'down: connect timeout after 400 ms\n', '']);
  assert.ok(took >= 400 && took < 5000, `took ${took} ms`);
});
