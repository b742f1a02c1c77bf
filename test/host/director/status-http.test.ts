// The status endpoint on loopback: JSON equal to status(), metrics that parse and carry the
// status' values, the page escaped, read-only, and auth and TLS required off loopback.
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { checkStatusSettings, isLoopback, parseListen, startStatusServer, type StatusServer } from '../../../src/director/status-http';
import { PlainDirector } from '../../support/director-fixture';
import { makeTestCerts } from '../../support/tls-certs';

const log = pino({ level: 'silent' });

async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(url, { headers, method, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Prometheus text format: HELP/TYPE lines, then `name{a="b",...} value`; each family declared
 * once, its samples right after its TYPE line (not spread over the text).
 */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  let family = '';
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]), `${type[1]} declared twice`);
      types.set(type[1], type[2]);
      family = type[1];
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `metric line does not parse: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `value does not parse: ${line}`);
    const suffix = m[1].slice(family.length);
    assert.ok(m[1].startsWith(family) && ['', '_bucket', '_sum', '_count'].includes(suffix), `${m[1]} outside its family (after ${family})`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0].value;
}

describe('status endpoint on loopback', () => {
  let director: PlainDirector;
  let server: StatusServer;
  let base: string;
  before(async () => {
    director = new PlainDirector();
    server = await startStatusServer(director, { listen: '127.0.0.1:0', log });
    base = `http://${server.address}`;
  });
  after(() => server.close());

  it('listens on the loopback address asked for, with the port the kernel chose', () => {
    assert.match(server.address, /^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('/status.json is the director status', async () => {
    const r = await get(`${base}/status.json`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(JSON.parse(r.text), director.status());
  });

  it('/metrics parses and carries the status values at scrape time', async () => {
    const r = await get(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseMetrics(r.text);
    const svc = { service: 'mysql-read' };
    assert.equal(types.get('lvsd_service_connections_total'), 'counter');
    assert.equal(one(samples, 'lvsd_service_connections_total', svc), 123456);
    assert.equal(one(samples, 'lvsd_service_bytes_total', { ...svc, direction: 'in' }), 5_000_000);
    assert.equal(one(samples, 'lvsd_service_bytes_total', { ...svc, direction: 'out' }), 70_000_000);
    const s21 = { ...svc, server: '198.18.0.21:3306' };
    const s23 = { ...svc, server: '198.18.0.23:3306' };
    assert.equal(types.get('lvsd_server_weight'), 'gauge');
    assert.equal(one(samples, 'lvsd_server_weight', s21), 3);
    assert.equal(one(samples, 'lvsd_server_weight', s23), 0);
    assert.equal(one(samples, 'lvsd_server_configured_weight', s23), 2);
    assert.equal(one(samples, 'lvsd_server_up', s21), 1);
    assert.equal(one(samples, 'lvsd_server_up', s23), 0);
    assert.equal(one(samples, 'lvsd_server_state', { ...s23, state: 'down' }), 1);
    assert.equal(one(samples, 'lvsd_server_active_connections', s21), 17);
    assert.equal(one(samples, 'lvsd_server_inactive_connections', s21), 42);
    assert.equal(one(samples, 'lvsd_check_latency_seconds', { ...s23, kind: 'mysql' }), 0.0025);
    assert.equal(one(samples, 'lvsd_check_up', { ...s23, kind: 'mysql' }), 0);
    assert.equal(one(samples, 'lvsd_check_up', { ...s23, kind: 'tcp' }), 1);
    assert.equal(one(samples, 'lvsd_server_weight', { service: 'web', server: '[2001:db8::32]:80' }), 0);
    assert.equal(types.get('lvsd_reconcile_operations_total'), 'counter');
    assert.equal(one(samples, 'lvsd_reconcile_operations_total'), 321);
    assert.equal(one(samples, 'lvsd_reconcile_failures_total'), 2);
    assert.equal(one(samples, 'lvsd_config_last_reload_successful'), 1);
    assert.equal(one(samples, 'lvsd_config_last_reload_timestamp_seconds'), Date.parse('2026-12-06T10:30:00Z') / 1000);
    const vi = { instance: 'VI_1' };
    assert.equal(one(samples, 'lvsd_vrrp_state', { ...vi, state: 'master' }), 1);
    assert.equal(one(samples, 'lvsd_vrrp_priority', vi), 90);
    assert.equal(types.get('lvsd_vrrp_transitions_total'), 'counter');
    assert.equal(one(samples, 'lvsd_vrrp_transitions_total', vi), 2);
    assert.equal(one(samples, 'lvsd_vrrp_adverts_sent_total', vi), 3000);
    assert.equal(one(samples, 'lvsd_vrrp_adverts_received_total', vi), 12);
    assert.equal(one(samples, 'lvsd_vrrp_adverts_invalid_total', { ...vi, reason: 'addresses' }), 3);
    assert.equal(one(samples, 'lvsd_vrrp_adverts_invalid_total', { ...vi, reason: 'ttl' }), 1);
    assert.equal(one(samples, 'lvsd_vrrp_send_errors_total', vi), 2);
    // process metrics from prom-client's default collectors, on this endpoint's own registry
    assert.ok(one(samples, 'process_resident_memory_bytes') > 0);
    assert.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge');

    // a later scrape sees the status as it is then (not the first scrape's values)
    director.data.services[0].servers[0].activeConns = 99;
    director.data.services[0].servers[1].health = 'down';
    director.data.reconcile.opsTotal = 400;
    const again = parseMetrics((await get(`${base}/metrics`)).text).samples;
    assert.equal(one(again, 'lvsd_server_active_connections', s21), 99);
    assert.equal(one(again, 'lvsd_server_up', { ...svc, server: '198.18.0.22:3306' }), 0);
    assert.equal(one(again, 'lvsd_reconcile_operations_total'), 400);
  });

  it('/metrics spells a NaN value NaN, as the text format does (prom-client writes "Nan")', async () => {
    // the event loop lag's mean is NaN in a scrape that follows the last one before the lag
    // monitor took a sample (every 10 ms): scrape back to back until one is (bounded)
    let nan = 0;
    for (let i = 0; i < 50 && nan === 0; i++) {
      const { samples } = parseMetrics((await get(`${base}/metrics`)).text); // rejects "Nan"
      if (Number.isNaN(one(samples, 'nodejs_eventloop_lag_mean_seconds'))) nan++;
    }
    assert.equal(nan, 1, 'no scrape of 50 back to back had a NaN to spell');
  });

  it('/metrics counts reloads by result', async () => {
    const before = parseMetrics((await get(`${base}/metrics`)).text).samples;
    assert.equal(one(before, 'lvsd_config_reloads_total', { result: 'ok' }), 1);
    Object.assign(director.data, { reloads: { ok: 4, failed: 1 } });
    const samples = parseMetrics((await get(`${base}/metrics`)).text).samples;
    assert.equal(one(samples, 'lvsd_config_reloads_total', { result: 'ok' }), 4);
    assert.equal(one(samples, 'lvsd_config_reloads_total', { result: 'failed' }), 1);
  });

  it('/metrics keeps each family whole and every sample once with many services (written in slices)', async () => {
    const saved = director.data.services;
    const [svc] = saved;
    director.data.services = Array.from({ length: 601 }, (_, i) => ({
      ...svc,
      name: `svc-${i}`,
      servers: svc.servers.slice(0, 2).map((s, j) => ({ ...s, name: `198.19.${i >> 8}.${i & 255}:${3306 + j}`, activeConns: i * 10 + j })),
    }));
    try {
      const { samples } = parseMetrics((await get(`${base}/metrics`)).text);
      const count = (name: string) => samples.filter((x) => x.name === name).length;
      assert.equal(count('lvsd_service_connections_total'), 601);
      assert.equal(count('lvsd_service_bytes_total'), 1202);
      assert.equal(count('lvsd_server_active_connections'), 1202);
      assert.equal(count('lvsd_build_info'), 1);
      assert.equal(one(samples, 'lvsd_server_active_connections', { service: 'svc-600', server: '198.19.2.88:3307' }), 6001);
      assert.equal(one(samples, 'lvsd_server_active_connections', { service: 'svc-250', server: '198.19.0.250:3306' }), 2500);
    } finally {
      director.data.services = saved;
    }
  });

  it('/status.json stays the status with many services (written a service at a time)', async () => {
    const saved = director.data.services;
    director.data.services = Array.from({ length: 300 }, (_, i) => ({ ...saved[0], name: `svc-${i}` }));
    try {
      assert.deepEqual(JSON.parse((await get(`${base}/status.json`)).text), director.status());
    } finally {
      director.data.services = saved;
    }
    director.data.services = [];
    try {
      assert.deepEqual(JSON.parse((await get(`${base}/status.json`)).text), director.status());
    } finally {
      director.data.services = saved;
    }
  });

  it('the page escapes every string from the director (a reason holding <script>)', async () => {
    const r = await get(`${base}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.ok(!/<script/i.test(r.text), 'no script element in the page');
    assert.ok(r.text.includes('replica lag 412 s &gt; 60 s &lt;script&gt;window.__xss=1&lt;/script&gt;'));
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    // a service name and a server name are escaped too, attributes included
    director.data.services[1].name = 'web"><img src=x onerror=alert(1)>';
    const page = (await get(`${base}/`)).text;
    assert.ok(!page.includes('<img'), 'no element injected through a name');
    assert.ok(page.includes('data-service="web&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"'));
    director.data.services[1].name = 'web';
  });

  it('is read-only: other methods are refused, HEAD has no body, unknown paths are 404', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await get(`${base}/status.json`, {}, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'GET, HEAD');
    }
    const head = await get(`${base}/status.json`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal((await get(`${base}/drain`)).status, 404);
    assert.deepEqual(director.calls, [], 'nothing reached the control side');
  });
});

describe('status endpoint authentication', () => {
  const certs = makeTestCerts(['localhost']);
  after(() => certs.remove());

  it('refuses to listen on a non-loopback address without auth and TLS', async () => {
    const auth = { user: 'ops', password: 's3cret' };
    const tls = { cert: certs.server.localhost.cert, key: certs.server.localhost.key };
    for (const listen of ['0.0.0.0:9180', '[::]:9180', '198.18.0.1:9180', '[2001:db8::1]:9180']) {
      const message = `status listen "${listen}" is not a loopback address: set a user and password (Basic auth) and a TLS certificate and key for it, or listen on 127.0.0.1`;
      for (const given of [{}, { auth }, { tls }]) {
        assert.throws(() => checkStatusSettings({ listen, ...given }), { message });
        await assert.rejects(startStatusServer(new PlainDirector(), { listen, log, ...given }), { message });
      }
    }
    // with both the same settings pass the check
    assert.deepEqual(checkStatusSettings({ listen: '0.0.0.0:9180', auth, tls }), { host: '0.0.0.0', port: 9180 });
  });

  it('over HTTPS: a client that trusts the CA gets the status with the password, 401 without; plain HTTP gets nothing', async () => {
    const auth = { user: 'ops', password: 'correct horse battery' };
    const server = await startStatusServer(new PlainDirector(), { listen: '127.0.0.1:0', auth, tls: certs.server.localhost, log });
    try {
      assert.equal(server.url, `https://${server.address}/`);
      const port = Number(server.address.split(':')[1]);
      const ask = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string; protocol: string }>((resolve, reject) => {
          const req = https.get({ host: '127.0.0.1', port, path: '/status.json', servername: 'localhost', ca: certs.ca, headers, agent: false, timeout: 10_000 }, (res) => {
            const protocol = (res.socket as TLSSocket).getProtocol() ?? '';
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
          });
          req.on('error', reject);
        });
      const ok = await ask({ Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` });
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.body), new PlainDirector().status());
      assert.match(ok.protocol, /^TLSv1\.[23]$/);
      assert.equal((await ask({})).status, 401);
      // plain HTTP to the HTTPS port: no status, no password ever accepted in clear
      await assert.rejects(get(`http://${server.address}/status.json`));
      // a client that does not trust the certificate stops before sending anything
      await assert.rejects(fetch(`${server.url}status.json`, { signal: AbortSignal.timeout(10_000) }));
    } finally {
      await server.close();
    }
  });

  it('takes a renewed certificate for new connections without a restart; a bad one is refused and the old one kept', async () => {
    const renewed = makeTestCerts(['localhost']);
    const server = await startStatusServer(new PlainDirector(), { listen: '127.0.0.1:0', tls: certs.server.localhost, log });
    try {
      const port = Number(server.address.split(':')[1]);
      // the certificate a client that trusts `ca` accepts, or the error it stops with
      const handshake = (ca: Buffer) =>
        new Promise<string>((resolve) => {
          const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.on('error', (err) => resolve(`error: ${err.message}`));
        });
      const first = await handshake(certs.ca);
      assert.doesNotMatch(first, /^error/);
      server.setTls(renewed.server.localhost);
      const second = await handshake(renewed.ca);
      assert.doesNotMatch(second, /^error/);
      assert.notEqual(second, first);
      assert.match(await handshake(certs.ca), /^error: /, 'the old CA no longer matches');
      assert.throws(() => server.setTls({ cert: certs.server.localhost.cert, key: Buffer.from('not a key') }), /^LvsdError: status endpoint: the TLS certificate or key cannot be used: /);
      assert.equal(await handshake(renewed.ca), second, 'the renewed one is still served');
    } finally {
      await server.close();
      renewed.remove();
    }
  });

  it('says when the certificate or key cannot be used, without showing the key', async () => {
    await assert.rejects(startStatusServer(new PlainDirector(), { listen: '127.0.0.1:0', tls: { cert: certs.server.localhost.cert, key: Buffer.from('not a key') }, log }), (err: Error) => {
      assert.match(err.message, /^status endpoint: the TLS certificate or key cannot be used: /);
      assert.ok(!err.message.includes('not a key'));
      return true;
    });
  });

  it('listens on IPv6 loopback without auth too', async () => {
    const server = await startStatusServer(new PlainDirector(), { listen: '[::1]:0', log });
    try {
      assert.match(server.address, /^\[::1\]:[1-9]\d*$/);
      assert.equal((await get(`http://${server.address}/status.json`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('says which address could not be bound', async () => {
    const first = await startStatusServer(new PlainDirector(), { listen: '127.0.0.1:0', log });
    try {
      await assert.rejects(startStatusServer(new PlainDirector(), { listen: first.address, log }), {
        message: new RegExp(`^status endpoint cannot listen on ${first.address.replace(/\./g, '\\.')}: EADDRINUSE `),
      });
    } finally {
      await first.close();
    }
  });

  it('knows loopback from the rest and rejects listen strings that are not HOST:PORT', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '::', '198.18.0.1', '128.0.0.1', '::ffff:198.18.0.1', '2001:db8::1']) assert.equal(isLoopback(h), false, h);
    assert.throws(() => parseListen('127.0.0.1'), { message: 'status listen "127.0.0.1": not HOST:PORT (give HOST:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9180)' });
    assert.throws(() => parseListen('::1:9180'), /not HOST:PORT/);
    assert.throws(() => parseListen('127.0.0.1:70000'), /port 70000 is not from 0 to 65535/);
    assert.throws(() => parseListen('status.example:9180'), /the host must be an IP address or localhost/);
    assert.throws(() => checkStatusSettings({ listen: '127.0.0.1:0', auth: { user: 'a:b', password: 'x' } }), /must be non-empty, without ":"/);
    assert.throws(() => checkStatusSettings({ listen: '127.0.0.1:0', auth: { user: 'ops', password: '' } }), /must not be empty/);
  });

  describe('with auth configured (on loopback)', () => {
    const auth = { user: 'ops', password: 'correct horse battery' };
    let server: StatusServer;
    let base: string;
    before(async () => {
      server = await startStatusServer(new PlainDirector(), { listen: '127.0.0.1:0', auth, log });
      base = `http://${server.address}`;
    });
    after(() => server.close());
    const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

    it('answers 401 with a Basic challenge without credentials, on every route', async () => {
      for (const path of ['/', '/status.json', '/metrics', '/nothing']) {
        const r = await get(`${base}${path}`);
        assert.equal(r.status, 401, path);
        assert.equal(r.headers.get('www-authenticate'), 'Basic realm="lvsd director", charset="UTF-8"');
        assert.ok(!r.text.includes('lvsd director status'), 'nothing of the status leaks');
      }
    });

    it('answers 401 to a wrong password, a wrong user and a malformed header', async () => {
      assert.equal((await get(`${base}/status.json`, basic('ops', 'correct horse'))).status, 401);
      assert.equal((await get(`${base}/status.json`, basic('root', auth.password))).status, 401);
      assert.equal((await get(`${base}/status.json`, { Authorization: 'Bearer abc' })).status, 401);
      assert.equal((await get(`${base}/status.json`, { Authorization: 'Basic !!!' })).status, 401);
    });

    it('serves every route with the right credentials, and never shows the password', async () => {
      for (const path of ['/', '/status.json', '/metrics']) {
        const r = await get(`${base}${path}`, basic(auth.user, auth.password));
        assert.equal(r.status, 200, path);
        assert.ok(!r.text.includes(auth.password), `${path} does not contain the password`);
      }
    });
  });
});
