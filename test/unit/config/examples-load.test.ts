// Every director example in config/ loads into what its comments promise, with its password
// files present (created here at mode 0600, the paths rewritten from /etc/lvsd/), passes
// check-config without them when files are not checked, and fits the shipped JSON Schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { checkConfig, checksOf, loadDirectorConfig, type DirectorConfig } from '../../../src/config/director';

const REPO = join(__dirname, '../../../..');
const CONFIG = join(REPO, 'config');
const dir = mkdtempSync(join(tmpdir(), 'lvsd-examples-'));
const examples = readdirSync(CONFIG).filter((f) => /^director-.*\.yaml$/.test(f)).sort();

/** Loads an example with /etc/lvsd/ pointed at a temp dir holding its password, certificate and key files (0600). */
function load(name: string): DirectorConfig {
  const text = readFileSync(join(CONFIG, name), 'utf8').replaceAll('/etc/lvsd/', `${dir}/`);
  for (const m of text.matchAll(/(?:password_file|cert_file|key_file): (\S+)/g)) {
    writeFileSync(m[1], 'example-password\n');
    chmodSync(m[1], 0o600);
  }
  const path = join(dir, name);
  writeFileSync(path, text);
  return loadDirectorConfig(path);
}

const byName = (config: DirectorConfig, name: string) => {
  const service = config.services.find((s) => s.name === name);
  assert.ok(service, `service ${name}`);
  return service;
};

test('one example per seed scenario is shipped', () => {
  assert.deepEqual(examples, ['director-galera.yaml', 'director-mysql-masters.yaml', 'director-mysql-replicas.yaml', 'director-web.yaml']);
});

test('every example passes check-config without its secret files (checkFiles: false) and fits the shipped JSON Schema', () => {
  const schema = JSON.parse(readFileSync(join(CONFIG, 'director.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  for (const name of examples) {
    assert.deepEqual(checkConfig(join(CONFIG, name), { checkFiles: false }), { ok: true, errors: [] }, name);
    assert.equal(validate(parse(readFileSync(join(CONFIG, name), 'utf8'))), true, `${name}: ${JSON.stringify(validate.errors)}`);
  }
});

test('examples use documentation addresses only (198.18.0.0/15, 2001:db8::/32)', () => {
  for (const name of examples) {
    const config = load(name);
    const addresses = config.services.flatMap((s) => [s.key.address, ...s.servers.map((r) => r.address), s.sorryServer?.address]);
    if (config.global.status.listen) addresses.push(config.global.status.listen.address);
    for (const a of addresses.filter((x): x is string => x !== undefined && x !== '127.0.0.1')) {
      const ok = isIPv4(a) ? /^198\.(18|19)\./.test(a) : a.startsWith('2001:db8:');
      assert.ok(ok, `${name}: ${a}`);
    }
  }
});

test('two MySQL masters (seed 000): rr over both, each checked by an authenticated writer-role login', () => {
  const config = load('director-mysql-masters.yaml');
  const svc = byName(config, 'mysql-rw');
  assert.deepEqual(svc.key, { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 });
  assert.equal(svc.scheduler, 'rr');
  assert.deepEqual(svc.servers.map((s) => s.name), ['198.18.0.21:3306', '198.18.0.22:3306']);
  const [plan] = checksOf(svc, svc.servers[1]);
  assert.equal(plan.describe, 'mysql 198.18.0.22:3306 as lvs_check role writer');
  assert.deepEqual(plan.spec, {
    kind: 'mysql',
    options: { host: '198.18.0.22', port: 3306, user: 'lvs_check', password: { file: `${dir}/mysql-check.password` }, role: 'writer', acceptDonor: false },
  });
  assert.deepEqual(plan.watch, { intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3, initialState: 'down', jitter: 0.1, backoffMaxMs: 60_000 });
});

test('read replicas (seed 002): DR, persistence, replica-lag checks, quorum and sorry server; an MHA writer VIP', () => {
  const config = load('director-mysql-replicas.yaml');
  assert.deepEqual(config.global.timeouts, { tcpMs: 900_000, tcpfinMs: 120_000, udpMs: 300_000 });
  assert.deepEqual(config.global.syncDaemon, { instance: 'VI_1', interface: 'eth0', syncId: 60 });
  const [vi1] = config.vrrp!.instances;
  assert.deepEqual(
    { vrid: vi1.vrid, priority: vi1.priority, preempt: vi1.preempt, advertIntervalMs: vi1.advertIntervalMs, version: vi1.version, addresses: vi1.addresses.map((a) => a.address) },
    { vrid: 60, priority: 100, preempt: false, advertIntervalMs: 5000, version: 2, addresses: ['198.18.14.100', '198.18.14.200'] },
  );
  const read = byName(config, 'mysql-read');
  assert.equal(read.forward, 'route');
  assert.deepEqual(read.persistence, { timeoutMs: 300_000, netmask: '255.255.255.255' });
  assert.deepEqual(read.quorum, { weight: 2, hysteresis: 0 });
  assert.equal(read.sorryServer?.name, '198.18.14.50:3306');
  assert.equal(read.drainDeadlineMs, 600_000);
  assert.deepEqual(read.maintenance, [{ servers: ['198.18.14.73:3306'], schedule: '0 3 * * 0', durationMs: 3_600_000 }]);
  const [lag] = checksOf(read, read.servers[0]);
  assert.equal(lag.spec.kind === 'mysql' && lag.spec.options.role, 'replica');
  assert.equal(lag.spec.kind === 'mysql' && lag.spec.options.maxLagSeconds, 5);
  assert.equal(lag.watch.intervalMs, 6000);
  assert.equal(lag.watch.timeoutMs, 3000);
  const write = byName(config, 'mysql-write');
  assert.equal(write.active, 'one');
  assert.equal(write.allDown, 'empty');
  const [writer] = checksOf(write, write.servers[1]);
  assert.equal(writer.describe, 'mysql 198.18.14.73:3306 as lvs_check role writer');
  assert.equal(writer.watch.intervalMs, 1000);
});

test('Galera (three nodes): galera-role checks for reads, one writer at a time (active: one)', () => {
  const config = load('director-galera.yaml');
  const read = byName(config, 'galera-read');
  assert.equal(read.servers.length, 3);
  for (const server of read.servers) {
    const [plan] = checksOf(read, server);
    assert.equal(plan.spec.kind === 'mysql' && plan.spec.options.role, 'galera');
    assert.equal(plan.spec.kind === 'mysql' && plan.spec.options.acceptDonor, false);
  }
  const write = byName(config, 'galera-write');
  assert.equal(write.active, 'one');
  assert.deepEqual(write.servers.map((s) => s.address), ['198.18.20.11', '198.18.20.12', '198.18.20.13']);
});

test('web servers (seed 004): HTTP checks, thresholds, an authenticated status page over HTTPS, HTTPS over IPv6', () => {
  const config = load('director-web.yaml');
  assert.deepEqual(config.global.status, {
    listen: { address: '198.18.1.2', family: 'inet', port: 8080 },
    auth: { user: 'admin', passwordFile: `${dir}/status.password` },
    tls: { certFile: `${dir}/status.crt`, keyFile: `${dir}/status.key` },
  });
  const web = byName(config, 'web');
  assert.deepEqual(web.persistence, { timeoutMs: 600_000, netmask: '255.255.255.0' });
  assert.deepEqual(web.servers[0].thresholds, { upper: 5000, lower: 0 });
  const [http] = checksOf(web, web.servers[0]);
  assert.equal(http.describe, 'http GET http://198.18.1.21:80/health');
  assert.equal(http.watch.intervalMs, 3000);
  assert.ok(http.spec.kind === 'http' && http.spec.options.bodyRegex instanceof RegExp);
  const v6 = byName(config, 'web-tls-v6');
  assert.deepEqual(v6.key, { family: 'inet6', protocol: 'tcp', address: '2001:db8:1::10', port: 443 });
  const [tls] = checksOf(v6, v6.servers[1]);
  assert.equal(tls.describe, 'http GET https://[2001:db8:1::22]:443/health');
  assert.equal(tls.spec.kind === 'http' && tls.spec.options.sni, 'www.example.test');
});

test('check-config reports a world-readable password file in an example, naming its place', () => {
  const text = readFileSync(join(CONFIG, 'director-mysql-masters.yaml'), 'utf8').replaceAll('/etc/lvsd/', `${dir}/open-`);
  const pw = `${dir}/open-mysql-check.password`;
  writeFileSync(pw, 'x\n');
  chmodSync(pw, 0o644);
  const path = join(dir, 'open.yaml');
  writeFileSync(path, text);
  const line = text.split('\n').findIndex((l) => l.includes('password_file:')) + 1;
  const column = text.split('\n')[line - 1].indexOf(pw) + 1;
  assert.deepEqual(checkConfig(path), {
    ok: false,
    errors: [`${path}:${line}:${column}: services[0].checks[0].password_file: password file ${pw} is world-readable (mode 0644); run chmod 600 ${pw}`],
  });
  assert.deepEqual(checkConfig(path, { checkFiles: false }), { ok: true, errors: [] });
});
