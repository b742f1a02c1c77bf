// `lvsd director run` with its status page over HTTPS: served with the certificate of its config,
// and after the files are replaced by a renewed certificate, `lvsd director reload` makes new
// connections get the renewed one, without a restart. Basic auth over TLS answers the status.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { setUpNamespace } from '../../support/ipvs-lab';
import { DirectorLab, until } from '../../support/director-lab';
import { makeTestCerts, type TestCerts } from '../../support/tls-certs';

const lab = new DirectorLab();
const PORT = 19180;
const cert = join(lab.dir, 'status.crt');
const key = join(lab.dir, 'status.key');
const password = join(lab.dir, 'status.password');
let first: TestCerts;
let renewed: TestCerts;

function install(certs: TestCerts): void {
  writeFileSync(cert, certs.server.localhost.cert);
  writeFileSync(key, certs.server.localhost.key);
  chmodSync(key, 0o600);
}

/** The fingerprint of the certificate a client trusting `ca` accepts, or the error it stops with. */
function handshake(ca: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: PORT, servername: 'localhost', ca }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

before(async () => {
  setUpNamespace();
  first = makeTestCerts(['localhost']);
  renewed = makeTestCerts(['localhost']);
  install(first);
  writeFileSync(password, 'status-secret\n', { mode: 0o600 });
  lab.write(`global:
  state_file: ${lab.state}
  control:
    socket: ${lab.socket}
  status:
    listen: 127.0.0.1:${PORT}
    auth: { user: ops, password_file: ${password} }
    tls: { cert_file: ${cert}, key_file: ${key} }
services:
  - address: 198.18.0.10
    port: 80
    servers:
      - address: 198.18.1.21
`);
  lab.start();
  await until('the director answers', () => lab.ctl(['status', '--json']).status === 0);
  // the status endpoint listens once the first pass is done, after the control socket answers
  const deadline = Date.now() + 60_000;
  while ((await handshake(first.ca)).startsWith('error: connect ECONNREFUSED')) {
    if (Date.now() > deadline) throw new Error('the status endpoint did not listen within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(async () => {
  await lab.kill();
  first?.remove();
  renewed?.remove();
});

test('the status page is served over TLS with the configured certificate, and answers with the password', async () => {
  assert.doesNotMatch(await handshake(first.ca), /^error/);
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: PORT, servername: 'localhost', ca: first.ca }, () => {
      s.write(`GET /status.json HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic ${Buffer.from('ops:status-secret').toString('base64')}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]), text }));
    s.on('error', reject);
  });
  assert.equal(body.status, 200);
  assert.match(body.text, /"198\.18\.0\.10:80"/);
});

test('a renewed certificate is served after `lvsd director reload`, without a restart', async () => {
  const before = await handshake(first.ca);
  install(renewed);
  const r = lab.ctl(['reload']);
  assert.equal(r.status, 0, r.stderr);
  const after = await handshake(renewed.ca);
  assert.doesNotMatch(after, /^error/);
  assert.notEqual(after, before);
  assert.match(await handshake(first.ca), /^error: /, 'the old certificate is no longer served');
  assert.equal(lab.ctl(['status', '--json']).status, 0, 'the same daemon, still answering');
});
