// The director config: defaults, normalised shape (camelCase, ms, canonical addresses, frozen),
// the checks each server runs, and bad configs refused with every problem named by its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { checkConfig, checksOf, loadDirectorConfig, parseDirectorConfig } from '../../../src/config/director';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-config-'));
const secret = join(dir, 'mysql.password');
writeFileSync(secret, 'hunter2-not-in-output\n');
chmodSync(secret, 0o600);
const open = join(dir, 'open.password');
writeFileSync(open, 'x\n');
chmodSync(open, 0o644);

/** The problems a config text is refused with. */
function refusal(text: string): string[] {
  try {
    parseDirectorConfig(text, 'd.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.errors];
  }
  assert.fail('expected a ConfigError');
}

/** A one-service config with `extra` lines indented into the service and `servers` as given. */
function service(extra: string, servers = '      - address: 198.18.0.21\n'): string {
  return `services:\n  - address: 198.18.0.10\n    port: 3306\n${extra}    servers:\n${servers}`;
}

test('a minimal config gets every default, in the normalised shape', () => {
  const config = parseDirectorConfig(service(''), 'd.yaml');
  assert.equal(config.path, 'd.yaml');
  assert.deepEqual(config.global, {
    logLevel: 'info',
    timeouts: {},
    ipvsSysctl: { expire_nodest_conn: 1, expire_quiescent_template: 1 },
    status: { listen: { address: '127.0.0.1', family: 'inet', port: 9180 } },
    control: { socket: '/run/lvsd/director.sock', mode: 0o600 },
    stateFile: '/var/lib/lvsd/director.json',
    resync: '* * * * *',
    flushOnExit: false,
  });
  const [svc] = config.services;
  assert.equal(svc.name, '198.18.0.10:3306');
  assert.deepEqual(svc.key, { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 });
  assert.equal(svc.scheduler, 'wlc');
  assert.equal(svc.forward, 'route');
  assert.equal(svc.onFailure, 'weight-0');
  assert.equal(svc.allDown, 'empty');
  assert.equal(svc.active, 'all');
  assert.equal(svc.drainDeadlineMs, 300_000);
  assert.equal(svc.slowStartMs, 0);
  assert.deepEqual(svc.checkDefaults, { intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3, initialState: 'down', jitter: 0.1, backoffMaxMs: 60_000 });
  assert.deepEqual(svc.servers, [
    { name: '198.18.0.21:3306', address: '198.18.0.21', family: 'inet', port: 3306, weight: 1, forward: 'route', thresholds: { upper: 0, lower: 0 } },
  ]);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(svc.servers[0]) && Object.isFrozen(svc.servers[0].thresholds));
  assert.deepEqual(checksOf(svc, svc.servers[0]), []);
});

test('durations, aliases, IPv6 canonical form, timing inherited global -> service -> check', () => {
  const text = `global:
  timeouts: { tcp: 15m, tcpfin: 2m, udp: 300 }
  resync: "*/5 * * * *"
check_defaults: { interval: 5s, rise: 3 }
services:
  - address: 2001:DB8:0::0010
    port: 443
    forward: nat
    slow_start: 1m30s
    persistence: { timeout: 10m, prefix: 64 }
    check_defaults: { interval: 1s, fall: 2 }
    checks:
      - type: http
        path: /health
        expect_status: [200-299, 301]
        timeout: 500ms
    servers:
      - address: 2001:db8:0:0::21
        weight: 5
      - address: 2001:db8::22
        port: 8443
        checks:
          - type: tcp
            send: "PING\\r\\n"
            expect: "+PONG"
`;
  const config = parseDirectorConfig(text, 'd.yaml');
  assert.deepEqual(config.global.timeouts, { tcpMs: 900_000, tcpfinMs: 120_000, udpMs: 300_000 });
  const [svc] = config.services;
  assert.equal(svc.name, '[2001:db8::10]:443');
  assert.deepEqual(svc.key, { family: 'inet6', protocol: 'tcp', address: '2001:db8::10', port: 443 });
  assert.equal(svc.forward, 'masq');
  assert.equal(svc.slowStartMs, 90_000);
  assert.deepEqual(svc.persistence, { timeoutMs: 600_000, netmask: 64 });
  const [a, b] = svc.servers;
  assert.equal(a.name, '[2001:db8::21]:443');
  const [http] = checksOf(svc, a);
  assert.equal(http.kind, 'http');
  assert.equal(http.describe, 'http GET http://[2001:db8::21]:443/health');
  assert.deepEqual(http.spec, {
    kind: 'http',
    options: { host: '2001:db8::21', port: 443, tls: false, method: 'GET', path: '/health', expectStatus: [[200, 299], [301, 301]], insecureSkipTlsVerify: false },
  });
  // global interval 5s and rise 3, the service's interval 1s and fall 2, the check's timeout 500ms
  assert.deepEqual(http.watch, { intervalMs: 1000, timeoutMs: 500, rise: 3, fall: 2, initialState: 'down', jitter: 0.1, backoffMaxMs: 60_000 });
  const [tcp] = checksOf(svc, b);
  assert.deepEqual(tcp.spec, { kind: 'tcp', options: { host: '2001:db8::22', port: 8443, send: 'PING\r\n', expect: '+PONG' } });
  assert.equal(tcp.describe, 'tcp [2001:db8::22]:8443');
});

test('a MySQL check carries the password source, never the password; describe names no secret', () => {
  const text = service(
    `    checks:\n      - type: mysql\n        user: lvs_check\n        password_file: ${secret}\n        role: replica\n        max_lag: 10\n`,
  );
  const config = loadDirectorConfigFromText(text);
  const [svc] = config.services;
  const [plan] = checksOf(svc, svc.servers[0]);
  assert.deepEqual(plan.spec, {
    kind: 'mysql',
    options: { host: '198.18.0.21', port: 3306, user: 'lvs_check', password: { file: secret }, role: 'replica', acceptDonor: false, maxLagSeconds: 10 },
  });
  assert.equal(plan.describe, 'mysql 198.18.0.21:3306 as lvs_check role replica');
  assert.ok(!JSON.stringify(config).includes('hunter2'));
});

test('exec checks (dynamic weight, env, kill grace) and MySQL TLS / credential sources reach the CheckSpec', () => {
  const text = service(
    '',
    `      - address: 198.18.0.21
        checks:
          - type: exec
            path: /usr/local/bin/check-db
            args: [--fast]
            env: { MODE: ro }
            dynamic_weight: true
            user: nobody
            kill_grace: 500ms
            port: 9200
          - type: mysql
            user: lvs_check
            password_credential: mysql-check
            role: galera
            accept_donor: true
            tls: { servername: db.example.test }
          - { type: mysql, user: lvs_check, password_env: LVS_CHECK_PW, tls: true }
`,
  );
  const config = parseDirectorConfig(text, 'd.yaml');
  const [svc] = config.services;
  const [exec, galera, plain] = checksOf(svc, svc.servers[0]);
  assert.deepEqual(exec.spec, {
    kind: 'exec',
    options: { host: '198.18.0.21', port: 9200, path: '/usr/local/bin/check-db', args: ['--fast'], env: { MODE: 'ro' }, dynamicWeight: true, user: 'nobody', killGraceMs: 500 },
  });
  assert.equal(exec.describe, 'exec /usr/local/bin/check-db 198.18.0.21:9200');
  assert.deepEqual(galera.spec, {
    kind: 'mysql',
    options: { host: '198.18.0.21', port: 3306, user: 'lvs_check', password: { credential: 'mysql-check' }, role: 'galera', acceptDonor: true, tls: { servername: 'db.example.test' } },
  });
  assert.deepEqual(plain.spec.kind === 'mysql' && [plain.spec.options.password, plain.spec.options.tls], [{ env: 'LVS_CHECK_PW' }, {}]);
  assert.deepEqual(refusal(service('', '      - address: 198.18.0.21\n        checks: [{ type: mysql, user: u, password_env: A, password_file: /x, max_lag: 3 }]\n')), [
    'd.yaml:6:56: services[0].servers[0].checks[0].password_env: give one of password_file, password_env, not several',
    'd.yaml:6:87: services[0].servers[0].checks[0].max_lag: only meaningful with role: replica (role is any)',
  ]);
});

function loadDirectorConfigFromText(text: string) {
  const path = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return loadDirectorConfig(path);
}

test('refused with the exact message naming the place: address, port 0, weight, scheduler, unknown key', () => {
  assert.deepEqual(
    refusal('services:\n  - address: 198.18.0.300\n    port: 0\n    scheduler: fastest\n    colour: red\n    servers:\n      - address: 198.18.0.21\n        weight: 70000\n'),
    [
      'd.yaml:2:14: services[0].address: "198.18.0.300" is not an IPv4 or IPv6 address',
      'd.yaml:3:11: services[0].port: 0 is out of range (1..65535)',
      'd.yaml:4:16: services[0].scheduler: must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, got "fastest"',
      'd.yaml:5:5: services[0].colour: unknown key (known: name, protocol, address, port, fwmark, family, scheduler, scheduler_flags, persistence, one_packet, persistence_engine, forward, tunnel, checks, check_defaults, on_failure, quorum, sorry_server, active, all_down, slow_start, drain_deadline, notify, maintenance, servers)',
      'd.yaml:8:17: services[0].servers[0].weight: 70000 is out of range (0..65535)',
    ],
  );
});

test('refused: duplicate server in a service, duplicate service', () => {
  const text = `services:
  - address: 198.18.0.10
    port: 80
    servers:
      - address: 198.18.0.21
      - address: 198.18.0.21
        port: 80
  - address: 198.18.0.10
    port: 80
    servers: []
`;
  assert.deepEqual(refusal(text), [
    'd.yaml:6:9: services[0].servers[1]: duplicate server 198.18.0.21:80 in this service (also servers[0])',
    'd.yaml:8:5: services[1]: duplicate service: tcp 198.18.0.10:80 is also services[0]',
  ]);
});

test('refused: a world-readable password file, a missing one, a check without a password', () => {
  const text = service(
    '',
    `      - address: 198.18.0.21
        checks:
          - { type: mysql, user: u, password_file: ${open} }
          - { type: mysql, user: u, password_file: ${join(dir, 'absent')} }
          - { type: mysql, user: u }
`,
  );
  assert.deepEqual(refusal(text), [
    `d.yaml:7:52: services[0].servers[0].checks[0].password_file: password file ${open} is world-readable (mode 0644); run chmod 600 ${open}`,
    `d.yaml:8:52: services[0].servers[0].checks[1].password_file: password file ${join(dir, 'absent')} cannot be read: no such file`,
    'd.yaml:9:13: services[0].servers[0].checks[2]: needs password_file, password_env or password_credential: a check without a password gets the director blocked (max_connect_errors)',
  ]);
  // check-config without the secrets (checkFiles: false) still checks everything else
  assert.throws(() => parseDirectorConfig(text, 'd.yaml', { checkFiles: false }), (err: ConfigError) => err.errors.length === 1);
});

test('refused: a sorry server or quorum that makes no sense', () => {
  assert.deepEqual(refusal(service('    quorum: { weight: 5, hysteresis: 5 }\n')), [
    'd.yaml:4:13: services[0].quorum: has no effect without a sorry_server',
    "d.yaml:4:23: services[0].quorum.weight: 5 can never be met: the servers' weights add up to 1",
    'd.yaml:4:38: services[0].quorum.hysteresis: must be below quorum weight 5',
  ]);
  assert.deepEqual(refusal(service('    sorry_server: { address: 198.18.0.21 }\n')), [
    'd.yaml:4:19: services[0].sorry_server: 198.18.0.21:3306 is also one of the service\'s servers',
    'd.yaml:4:19: services[0].sorry_server: is never used: set quorum, or all_down: sorry',
  ]);
  assert.deepEqual(refusal(service('    all_down: sorry\n')), ['d.yaml:4:15: services[0].all_down: all_down: sorry needs a sorry_server']);
  const ok = parseDirectorConfig(service('    all_down: sorry\n    sorry_server: { address: 198.18.0.99, weight: 2 }\n'), 'd.yaml');
  assert.deepEqual(ok.services[0].sorryServer, { name: '198.18.0.99:3306', address: '198.18.0.99', family: 'inet', port: 3306, weight: 2, forward: 'route' });
});

test('refused: a server of another family unless tunnelled; gue without port; fwmark with protocol/address', () => {
  assert.deepEqual(refusal(service('', '      - address: 2001:db8::21\n')), [
    'd.yaml:5:18: services[0].servers[0].address: 2001:db8::21 is IPv6 but the service is IPv4; mixing families needs forward: tunnel',
  ]);
  const tunnelled = parseDirectorConfig(service('', '      - address: 2001:db8::21\n        forward: tunnel\n        tunnel: { type: gue, port: 6080 }\n'), 'd.yaml');
  assert.deepEqual(tunnelled.services[0].servers[0].tunnel, { type: 'gue', port: 6080, checksum: 'nocsum' });
  assert.deepEqual(refusal(service('', '      - address: 198.18.0.21\n        forward: tun\n        tunnel: { type: gue }\n')), [
    'd.yaml:7:17: services[0].servers[0].tunnel: a gue tunnel needs a port',
  ]);
  assert.deepEqual(refusal('services:\n  - fwmark: 5\n    protocol: tcp\n    address: 198.18.0.10\n    servers: []\n'), [
    'd.yaml:3:15: services[0].protocol: not allowed with fwmark (a fwmark service is identified by its mark and family)',
    'd.yaml:4:14: services[0].address: not allowed with fwmark (a fwmark service is identified by its mark and family)',
  ]);
  const fw = parseDirectorConfig('services:\n  - fwmark: 5\n    family: inet6\n    servers:\n      - address: 2001:db8::21\n        checks: [{ type: tcp, port: 80 }]\n', 'd.yaml');
  assert.equal(fw.services[0].name, 'fwmark 5 inet6');
  assert.deepEqual(fw.services[0].key, { family: 'inet6', fwmark: 5 });
  assert.equal(fw.services[0].servers[0].port, 0);
  assert.equal(checksOf(fw.services[0], fw.services[0].servers[0])[0].describe, 'tcp [2001:db8::21]:80');
});

test('refused: an invalid cron expression, a persistence netmask of the wrong family', () => {
  assert.deepEqual(refusal(`global:\n  resync: "61 * * * *"\n${service('')}`), [
    'd.yaml:2:11: global.resync: "61 * * * *" is not a valid cron expression (minute hour day-of-month month day-of-week, optionally seconds first)',
  ]);
  assert.deepEqual(refusal(service('    maintenance:\n      - { servers: [198.18.0.21, 198.18.0.9], schedule: "0 3 * * 8", duration: 1h }\n')), [
    'd.yaml:5:34: services[0].maintenance[0].servers[1]: "198.18.0.9" is not a server of this service',
    'd.yaml:5:57: services[0].maintenance[0].schedule: "0 3 * * 8" is not a valid cron expression (minute hour day-of-month month day-of-week, optionally seconds first)',
  ]);
  assert.deepEqual(refusal(service('    persistence: { timeout: 300, netmask: "64" }\n').replace('198.18.0.10', '2001:db8::10').replace('198.18.0.21', '2001:db8::21')), [
    'd.yaml:4:43: services[0].persistence.netmask: netmask is for inet services; an inet6 service takes prefix (e.g. prefix: 64)',
  ]);
  assert.deepEqual(refusal(service('    persistence: { timeout: 300, prefix: 24 }\n')), [
    'd.yaml:4:42: services[0].persistence.prefix: prefix is for inet6 services; an inet service takes netmask (e.g. 255.255.255.0)',
  ]);
  assert.deepEqual(refusal(service('    persistence: { timeout: 300, netmask: 255.0.255.0 }\n')), [
    'd.yaml:4:43: services[0].persistence.netmask: "255.0.255.0" is not an IPv4 netmask (contiguous, like 255.255.255.0)',
  ]);
});

test('IPVS settings: the two that make weight 0 stop new connections by default, others as given, bad ones refused', () => {
  const given = parseDirectorConfig(`global:\n  ipvs_sysctl: { expire_quiescent_template: 0, sloppy_tcp: 1, conn_reuse_mode: 2 }\n${service('')}`, 'd.yaml');
  assert.deepEqual(given.global.ipvsSysctl, { expire_nodest_conn: 1, expire_quiescent_template: 0, sloppy_tcp: 1, conn_reuse_mode: 2 });
  assert.deepEqual(refusal(`global:\n  ipvs_sysctl:\n    expire_nodest_conn: 2\n    drop_packet: 1\n${service('')}`), [
    'd.yaml:3:25: global.ipvs_sysctl.expire_nodest_conn: 2 is out of range (0..1)',
    'd.yaml:4:5: global.ipvs_sysctl.drop_packet: unknown key (known: expire_nodest_conn, expire_quiescent_template, conn_reuse_mode, sloppy_tcp, sloppy_sctp, conntrack, backup_only)',
  ]);
});

test('a status page off loopback needs auth and TLS; its key file is a secret', () => {
  const status = (extra: string) => `global:\n  status:\n    listen: 198.18.0.2:9180\n${extra}${service('')}`;
  const auth = `    auth: { user: ops, password_file: ${secret} }\n`;
  const because = 'the status page shows the whole table, and Basic auth over plain HTTP sends the password in clear';
  assert.deepEqual(refusal(status(auth)), [`d.yaml:3:5: global.status: listen 198.18.0.2:9180 is not loopback: set auth (user and password_file) and tls (cert_file and key_file): ${because}`]);
  assert.deepEqual(refusal(status(`    tls: { cert_file: ${open}, key_file: ${secret} }\n`)), [
    `d.yaml:3:5: global.status: listen 198.18.0.2:9180 is not loopback: set auth (user and password_file) and tls (cert_file and key_file): ${because}`,
  ]);
  const ok = parseDirectorConfig(status(`${auth}    tls: { cert_file: ${open}, key_file: ${secret} }\n`), 'd.yaml');
  assert.deepEqual(ok.global.status.tls, { certFile: open, keyFile: secret });
  assert.deepEqual(refusal(status(`${auth}    tls: { cert_file: ${dir}/none.pem, key_file: ${open} }\n`)), [
    `d.yaml:5:23: global.status.tls.cert_file: cannot read "${dir}/none.pem": ENOENT`,
    `d.yaml:5:${44 + dir.length}: global.status.tls.key_file: key file ${open} is world-readable (mode 0644); run chmod 600 ${open}`,
  ]);
});

test("a service's notify program: an absolute path, carried to the service", () => {
  assert.equal(parseDirectorConfig(service('    notify: /usr/local/bin/lvs-alert\n'), 'd.yaml').services[0].notify, '/usr/local/bin/lvs-alert');
  assert.equal(parseDirectorConfig(service(''), 'd.yaml').services[0].notify, undefined);
  assert.deepEqual(refusal(service('    notify: lvs-alert --mail\n')), ['d.yaml:4:13: services[0].notify: must start with an absolute path, got "lvs-alert --mail"']);
});

test('check-config lists every problem without throwing; a good file is ok', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'global:\n  status: { listen: true }\n  timeouts: { tcp: 1.5 }\nservices:\n  - { address: 198.18.0.10, port: 80, servers: [], one_packet: true }\n');
  assert.deepEqual(checkConfig(bad), {
    ok: false,
    errors: [
      `${bad}:2:21: global.status.listen: must be ADDRESS:PORT ([IPv6]:PORT), "" or false, got true`,
      `${bad}:3:20: global.timeouts.tcp: 1.5 must be a whole number of seconds (IPVS counts in seconds)`,
      `${bad}:5:64: services[0].one_packet: is for UDP services (protocol is tcp)`,
    ],
  });
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'services:\n  - { protocol: udp, address: 198.18.0.53, port: 53, one_packet: true, servers: [{ address: 198.18.0.54 }] }\n');
  assert.deepEqual(checkConfig(good), { ok: true, errors: [] });
});

test('YAML syntax errors and an unreadable file are refused with their place', () => {
  assert.match(refusal('services: [\n')[0], /^d\.yaml:\d+:\d+: /);
  assert.deepEqual(checkConfig(join(dir, 'nope.yaml')), { ok: false, errors: [`${join(dir, 'nope.yaml')}: cannot read: no such file`] });
});

test('active: one or all; anything else is refused at its place', () => {
  assert.equal(parseDirectorConfig(service('    active: one\n'), 'd.yaml').services[0].active, 'one');
  assert.deepEqual(refusal(service('    active: two\n')), ['d.yaml:4:13: services[0].active: must be one of all, one, got "two"']);
});
