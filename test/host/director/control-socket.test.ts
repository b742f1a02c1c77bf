// The control socket on this machine: its file's mode, stale and live sockets, requests reaching
// the director and answers coming back, bad input refused with the message, client errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { startControlServer } from '../../../src/director/control';
import * as client from '../../../src/director/control-client';
import { PlainDirector } from '../../support/director-fixture';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsd-ctl-'));
  chmodSync(dir, 0o755); // so an unprivileged user can reach the socket's name (and be refused by its mode)
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const socketPath = () => join(dir, `d${++n}.sock`);

/** One raw request over the socket, bypassing the client's own checks. */
function raw(path: string, method: string, route: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: path, method, path: route, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A socket file left by a process killed while listening (what a crashed director leaves). */
function staleSocket(path: string): void {
  const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], {
    timeout: 10_000,
  });
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(lstatSync(path).isSocket(), 'the killed process left its socket file behind');
}

describe('control socket file', () => {
  it('is created with mode 0600 by default, and with the mode asked for', async () => {
    const p = socketPath();
    const s = await startControlServer(new PlainDirector(), { path: p });
    assert.equal(lstatSync(p).mode & 0o777, 0o600);
    await s.close();
    assert.throws(() => lstatSync(p), /ENOENT/, 'close removes the socket file');

    const q = socketPath();
    const s2 = await startControlServer(new PlainDirector(), { path: q, mode: 0o660 });
    assert.equal(lstatSync(q).mode & 0o777, 0o660);
    await s2.close();
  });

  it('never appears under another mode, not even while it starts (watched from another thread)', async () => {
    const p = socketPath();
    // the watcher spins on lstat of the name for the whole time and records every mode it saw
    const code = `
      const { lstatSync } = require('node:fs');
      const { parentPort, workerData } = require('node:worker_threads');
      const modes = new Set(); let seen = 0; const end = Date.now() + workerData.ms;
      parentPort.postMessage('ready');
      while (Date.now() < end) {
        try { modes.add(lstatSync(workerData.path).mode & 0o777); seen++; } catch {}
      }
      parentPort.postMessage({ modes: [...modes], seen });`;
    const worker = new Worker(code, { eval: true, workerData: { path: p, ms: 3000 } });
    const result = new Promise<{ modes: number[]; seen: number }>((resolve) => worker.on('message', (m) => m !== 'ready' && resolve(m)));
    await new Promise((r) => worker.once('message', r));
    for (let i = 0; i < 20; i++) {
      const s = await startControlServer(new PlainDirector(), { path: p });
      await new Promise((r) => setTimeout(r, 20));
      await s.close();
    }
    const { modes, seen } = await result;
    await worker.terminate();
    assert.ok(seen > 0, 'the watcher saw the socket at least once');
    assert.deepEqual(modes, [0o600]);
  });

  it('replaces a stale socket left by a crashed director', async () => {
    const p = socketPath();
    staleSocket(p);
    await assert.rejects(client.status({ socket: p }), { message: `no director is running: cannot connect to ${p} (ECONNREFUSED)` });
    const director = new PlainDirector();
    const s = await startControlServer(director, { path: p });
    try {
      assert.equal((await client.status({ socket: p })).pid, 4242);
      assert.equal(lstatSync(p).mode & 0o777, 0o600);
    } finally {
      await s.close();
    }
  });

  it('refuses to start while another director answers on the socket, and leaves that one serving', async () => {
    const p = socketPath();
    const first = await startControlServer(new PlainDirector(), { path: p });
    try {
      await assert.rejects(startControlServer(new PlainDirector(), { path: p }), {
        message: `another director is running (control socket ${p} answers)`,
      });
      assert.equal((await client.status({ socket: p })).version, '0.1.0');
    } finally {
      await first.close();
    }
  });

  it('refuses to remove a file that is not a socket', async () => {
    const p = socketPath();
    writeFileSync(p, 'keep me');
    await assert.rejects(startControlServer(new PlainDirector(), { path: p }), {
      message: `control socket ${p}: a file that is not a socket is in the way; remove it`,
    });
    assert.equal(readFileSync(p, 'utf8'), 'keep me');
  });

  it('refuses a relative path and a path too long for a Unix socket', async () => {
    await assert.rejects(startControlServer(new PlainDirector(), { path: 'director.sock' }), { message: 'control socket "director.sock": must be an absolute path' });
    const long = `/run/${'x'.repeat(110)}`;
    await assert.rejects(startControlServer(new PlainDirector(), { path: long }), { message: `control socket "${long}": longer than 107 bytes, the most a Unix socket path can hold` });
  });
});

describe('control socket requests', () => {
  let director: PlainDirector;
  let p: string;
  let server: { close(): Promise<void> };
  before(async () => {
    director = new PlainDirector();
    p = socketPath();
    server = await startControlServer(director, { path: p });
  });
  after(() => server.close());

  it('status answers the director status as it is', async () => {
    assert.deepEqual(await client.status({ socket: p }), director.status());
  });

  it('drain, weight and enable reach the director with the selector, and their results come back', async () => {
    director.calls.length = 0;
    const drained = await client.drain({ server: '198.18.0.21:3306', service: 'mysql-read' }, { socket: p });
    assert.deepEqual(drained, { ok: true, message: 'drained mysql-read/198.18.0.21:3306', matched: ['mysql-read/198.18.0.21:3306'] });
    assert.equal((await client.status({ socket: p })).services[0].servers[0].state, 'drained');

    const weighted = await client.weight({ server: '198.18.0.22' }, 7, { socket: p });
    assert.deepEqual(weighted.matched, ['mysql-read/198.18.0.22:3306']);
    assert.equal((await client.status({ socket: p })).services[0].servers[1].weight, 7);

    const enabled = await client.enable({ server: '198.18.0.21:3306' }, { socket: p });
    assert.equal(enabled.ok, true);
    const after = (await client.status({ socket: p })).services[0].servers[0];
    assert.equal(after.state, 'up');
    assert.equal(after.weight, 3);
    assert.equal(after.override, undefined);

    assert.deepEqual(director.calls, [
      { op: 'drain', sel: { server: '198.18.0.21:3306', service: 'mysql-read' } },
      { op: 'weight', sel: { server: '198.18.0.22' }, weight: 7 },
      { op: 'enable', sel: { server: '198.18.0.21:3306' } },
    ]);
  });

  it('an IPv6 selector arrives in the spelling the status uses', async () => {
    director.calls.length = 0;
    const r = await client.drain({ server: '[2001:0db8:0::31]:80' }, { socket: p });
    assert.deepEqual(r.matched, ['web/[2001:db8::31]:80']);
    assert.deepEqual(director.calls[0].sel, { server: '[2001:db8::31]:80' });
    await client.enable({ server: '2001:db8::31' }, { socket: p });
  });

  it('a selector matching nothing comes back refused, not as an error', async () => {
    const r = await client.drain({ server: '198.18.0.99:3306' }, { socket: p });
    assert.deepEqual(r, { ok: false, message: 'no server matches 198.18.0.99:3306', matched: [] });
  });

  it('reload returns the director answer, errors included', async () => {
    director.nextReload = { ok: false, errors: ['/etc/lvsd/director.yaml:12:7: services[0].servers[1].weight: must be from 0 to 65535, got 70000'], ops: 0 };
    assert.deepEqual(await client.reload({ socket: p }), director.nextReload);
    director.nextReload = { ok: true, ops: 3 };
    assert.deepEqual(await client.reload({ socket: p }), { ok: true, ops: 3 });
  });

  it('bad input is refused with 400 and the message, and never reaches the director', async () => {
    director.calls.length = 0;
    const cases: [string, string, string][] = [
      ['/weight', '{"server":"198.18.0.21:3306","weight":70000}', 'weight: must be an integer from 0 to 65535, got 70000'],
      ['/weight', '{"server":"198.18.0.21:3306","weight":1.5}', 'weight: must be an integer from 0 to 65535, got 1.5'],
      ['/weight', '{"server":"198.18.0.21:3306"}', 'weight: must be an integer from 0 to 65535, got undefined'],
      ['/drain', '{"server":"db1:3306"}', 'server "db1:3306": not an IP address (give ADDR, ADDR:PORT or [IPV6]:PORT)'],
      ['/drain', '{"server":"198.18.0.21:70000"}', 'server "198.18.0.21:70000": port "70000" is not a number from 0 to 65535 (give ADDR, ADDR:PORT or [IPV6]:PORT)'],
      ['/drain', '{"server":"[198.18.0.21]:80"}', 'server "[198.18.0.21]:80": not an IPv6 address inside the brackets (give ADDR, ADDR:PORT or [IPV6]:PORT)'],
      ['/drain', '{}', 'server: give a server as ADDR, ADDR:PORT or [IPV6]:PORT'],
      ['/drain', '{"server":"198.18.0.21","service":""}', '--service: must be a service\'s name or address (1 to 255 printable characters), got ""'],
      ['/enable', '{"server":"198.18.0.21","force":true}', '/enable: unknown field "force"'],
      ['/drain', 'not json', 'request body is not JSON: Unexpected token \'o\', "not json" is not valid JSON'],
      ['/drain', '[1]', 'request body must be a JSON object'],
    ];
    for (const [route, body, message] of cases) {
      const r = await raw(p, 'POST', route, body);
      assert.equal(r.status, 400, `${route} ${body}`);
      assert.deepEqual(r.json, { error: message }, `${route} ${body}`);
    }
    assert.deepEqual(director.calls, []);
  });

  it('unknown routes and wrong methods are refused', async () => {
    assert.deepEqual(await raw(p, 'GET', '/flush'), { status: 404, json: { error: 'no such request: GET /flush' } });
    assert.equal((await raw(p, 'GET', '/drain')).status, 405);
    assert.equal((await raw(p, 'POST', '/status')).status, 405);
  });

  it('the client checks input before connecting', async () => {
    await assert.rejects(client.weight({ server: '198.18.0.21' }, 65536, { socket: '/nonexistent/x.sock' }), { message: 'WEIGHT: must be an integer from 0 to 65535, got 65536' });
    await assert.rejects(client.drain({ server: 'localhost' }, { socket: '/nonexistent/x.sock' }), { name: 'InputError' });
  });
});

describe('control socket when the director fails', () => {
  it('an error inside the director comes back as the director refusing, with its message', async () => {
    class Failing extends PlainDirector {
      override async drain(): Promise<never> {
        throw new Error('state file /var/lib/lvsd/director.json: ENOSPC');
      }
    }
    const p = socketPath();
    const s = await startControlServer(new Failing(), { path: p });
    try {
      await assert.rejects(client.drain({ server: '198.18.0.21' }, { socket: p }), {
        message: 'the director refused POST /drain: internal error: state file /var/lib/lvsd/director.json: ENOSPC',
      });
      // and it keeps serving
      assert.equal((await client.status({ socket: p })).pid, 4242);
    } finally {
      await s.close();
    }
  });
});

describe('control client errors', () => {
  it('says no director is running when nothing is at the path', async () => {
    const p = join(dir, 'none.sock');
    await assert.rejects(client.status({ socket: p }), { message: `no director is running: cannot connect to ${p} (ENOENT)` });
  });

  it('says permission is denied when an unprivileged user tries', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run the client as another user');
    const p = socketPath();
    const s = await startControlServer(new PlainDirector(), { path: p });
    try {
      const script = `require(${JSON.stringify(require.resolve('../../../src/director/control-client'))}).status({ socket: ${JSON.stringify(p)} })
        .then(() => console.log('connected'), (e) => console.log(e.message))`;
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { timeout: 15_000, encoding: 'utf8' });
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.trim(), `permission denied on the control socket ${p} (EACCES): run as root`);
    } finally {
      await s.close();
    }
  });
});
