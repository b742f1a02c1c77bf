// HTTPS checks against a real node:https server with a CA and certificates made by openssl:
// verification is on by default, a CA makes it pass, SNI selects the name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { runWithDeadline } from '../../../src/health/deadline';
import { HttpChecker, type HttpCheckOptions } from '../../../src/health/http';
import { listenLoopback } from '../../support/servers';
import { makeTestCerts, type TestCerts } from '../../support/tls-certs';

const A = 'web-a.example.test';
const B = 'web-b.example.test';
let certs: TestCerts;
let server: https.Server;
let port = 0;
const serverNames: (string | false)[] = [];

before(async () => {
  certs = makeTestCerts([A, B]);
  const contexts = Object.fromEntries([A, B].map((n) => [n, tls.createSecureContext(certs.server[n])]));
  server = https.createServer(
    { ...certs.server[A], SNICallback: (name, cb) => cb(null, contexts[name] ?? contexts[A]) },
    (req, res) => {
      serverNames.push((req.socket as tls.TLSSocket).servername ?? false);
      res.end('ok');
    },
  );
  port = await listenLoopback(server);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  certs.remove();
});

const check = (o: Partial<HttpCheckOptions>) =>
  runWithDeadline(new HttpChecker({ host: '127.0.0.1', port, tls: true, ...o }), 2000);

test('verification is on by default: an unknown CA is a configuration error, never up', async () => {
  const r = await check({ sni: A });
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.match(r.reason, /^TLS certificate not accepted: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
});

test('with the CA it passes, and the server sees the SNI name', async () => {
  serverNames.length = 0;
  const r = await check({ ca: certs.ca, sni: A });
  assert.equal(r.ok, true, r.reason);
  assert.equal(r.configError, undefined);
  assert.deepEqual(serverNames, [A]);
});

test('SNI defaults to the Host header name and selects that certificate', async () => {
  serverNames.length = 0;
  const r = await check({ ca: certs.ca, hostHeader: B });
  assert.equal(r.ok, true, r.reason);
  assert.deepEqual(serverNames, [B]);
});

test('a certificate for another name is refused as a configuration error', async () => {
  // the server falls back to A's certificate for unknown names
  const r = await check({ ca: certs.ca, sni: 'other.example.test' });
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.match(r.reason, /ERR_TLS_CERT_ALTNAME_INVALID/);
});

test('an IP target without a name sends no SNI and fails the name check', async () => {
  const r = await check({ ca: certs.ca });
  assert.equal(r.configError, true);
  assert.match(r.reason, /ERR_TLS_CERT_ALTNAME_INVALID/);
});

test('insecureSkipTlsVerify accepts the unknown certificate', async () => {
  const r = await check({ insecureSkipTlsVerify: true });
  assert.equal(r.ok, true, r.reason);
});

test('HTTPS to a plain HTTP port is a TLS configuration error', async () => {
  const http = await import('node:http');
  const plain = http.createServer((_q, s) => s.end('plain'));
  const plainPort = await listenLoopback(plain);
  const r = await runWithDeadline(new HttpChecker({ host: '127.0.0.1', port: plainPort, tls: true, sni: A }), 2000);
  plain.closeAllConnections();
  plain.close();
  assert.equal(r.ok, false);
  assert.equal(r.configError, true);
  assert.equal(r.reason, 'TLS handshake failed: wrong version number (EPROTO)');
});
