// A test CA and a server certificate for MariaDB TLS tests (plus an unrelated CA), made with openssl.
// The server certificate names DNS:db.lvsd.test and IP:127.0.0.1 (the HTTP tests use tls-certs.ts).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** CA that signed the server certificate */
  ca: string;
  /** a CA that signed nothing here: verification against it must fail */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  /** the DNS name in the server certificate */
  serverName: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** Writes the files into `dir` (which must exist). */
export function makeCertificates(dir: string): TestCertificates {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lvsd test CA'], dir);
  openssl(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=lvsd unrelated CA'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=db.lvsd.test'], dir);
  writeFileSync(join(dir, 'server.ext'), '[v3]\nsubjectAltName=DNS:db.lvsd.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
      '-days', '2', '-extensions', 'v3', '-extfile', 'server.ext'],
    dir,
  );
  return {
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    serverName: 'db.lvsd.test',
  };
}
