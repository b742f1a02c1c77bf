// The director config's vrrp section: keepalived's defaults written out, the normalised shape, and
// the mistakes an operator makes with a VRRP pair refused with their place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { parseDirectorConfig } from '../../../src/config/director';
import { splitCommand } from '../../../src/config/vrrp';

const SERVICES = `services:
  - name: mysql-writer
    address: 198.18.0.10
    port: 3306
    servers:
      - address: 198.18.0.21
`;

function refusal(text: string): string[] {
  try {
    parseDirectorConfig(text, 'd.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.errors];
  }
  assert.fail('expected a ConfigError');
}

test('an instance with only the required keys gets keepalived defaults (priority 100, 1 s, VRRPv2, preempt)', () => {
  const config = parseDirectorConfig(`${SERVICES}vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, addresses: [198.18.0.10/24] }\n`, 'd.yaml');
  assert.deepEqual(config.vrrp, {
    scripts: [],
    instances: [
      {
        name: 'VI_1',
        interface: 'eth0',
        vrid: 51,
        priority: 100,
        advertIntervalMs: 1000,
        version: 2,
        family: 4,
        initialState: 'backup',
        preempt: true,
        preemptDelayMs: 0,
        addresses: [{ address: '198.18.0.10', family: 4, prefix: 24 }],
        unicastPeers: [],
        trackInterfaces: [],
        trackScripts: [],
        trackServices: [],
      },
    ],
    syncGroups: [],
  });
});

test('IPv6 addresses make a VRRPv3 instance; tracking, unicast peers, scripts and groups are carried', () => {
  const config = parseDirectorConfig(
    `${SERVICES}global:
  sync_daemon: { interface: eth0, sync_id: 51, instance: VI_1 }
vrrp:
  scripts:
    chk_mysql: { exec: '/usr/local/bin/chk --port 3306 "a b"', interval: 2s, weight: -20, fall: 2 }
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      priority: 150
      advert_interval: 500ms
      version: 3
      preempt_delay: 30s
      addresses: [{ address: 198.18.0.10, prefix: 32, label: "eth0:vip" }]
      unicast_source: 198.18.1.1
      unicast_peers: [198.18.1.2]
      track_interfaces: [eth1, { name: eth2, weight: -10 }]
      track_scripts: [chk_mysql]
      track_services: [{ service: mysql-writer, weight: 0 }]
      notify: /etc/lvsd/notify.sh
    - name: VI_6
      interface: eth0
      vrid: 51
      addresses: ["2001:DB8::10/64"]
  sync_groups:
    - { name: G1, instances: [VI_1, VI_6] }
`,
    'd.yaml',
  );
  const [v4, v6] = config.vrrp!.instances;
  assert.equal(v4.version, 3);
  assert.equal(v4.advertIntervalMs, 500);
  assert.equal(v4.preemptDelayMs, 30_000);
  assert.deepEqual(v4.addresses, [{ address: '198.18.0.10', family: 4, prefix: 32, label: 'eth0:vip' }]);
  assert.equal(v4.unicastSource, '198.18.1.1');
  assert.deepEqual(v4.unicastPeers, ['198.18.1.2']);
  assert.deepEqual(v4.trackInterfaces, [{ name: 'eth1', weight: 0 }, { name: 'eth2', weight: -10 }]);
  assert.deepEqual(v4.trackScripts, [{ name: 'chk_mysql', weight: -20 }], "the script's weight when the instance gives none");
  assert.deepEqual(v4.trackServices, [{ service: 'mysql-writer', weight: 0 }]);
  assert.equal(v4.notify, '/etc/lvsd/notify.sh');
  assert.deepEqual({ family: v6.family, version: v6.version, addresses: v6.addresses }, { family: 6, version: 3, addresses: [{ address: '2001:db8::10', family: 6, prefix: 64 }] });
  assert.deepEqual(config.vrrp!.scripts, [{ name: 'chk_mysql', path: '/usr/local/bin/chk', args: ['--port', '3306', 'a b'], intervalMs: 2000, timeoutMs: 2000, weight: -20, rise: 1, fall: 2 }]);
  assert.deepEqual(config.vrrp!.syncGroups, [{ name: 'G1', instances: ['VI_1', 'VI_6'] }]);
  assert.equal(config.global.syncDaemon?.instance, 'VI_1');
  assert.equal(config.global.syncDaemon?.state, undefined);
});

test('mistakes in a vrrp section are all named by their place', () => {
  const errors = refusal(`${SERVICES}global:
  sync_daemon: { interface: eth0, instance: VI_9 }
vrrp:
  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      advert_interval: 1500ms
      preempt: false
      state: master
      addresses: [198.18.0.10/33, 198.18.0.12, "2001:db8::1"]
      track_scripts: [chk_nothing]
      track_services: [{ service: no-such, weight: -10 }]
    - { name: VI_1, interface: eth0, vrid: 51, version: 2, addresses: ["2001:db8::2"] }
    - { name: VI_3, interface: eth0, vrid: 0, addresses: [198.18.0.11], bogus: 1 }
  sync_groups:
    - { name: G1, instances: [VI_1, VI_7] }
`);
  const text = errors.join('\n');
  const expect = [
    /d\.yaml:\d+:\d+: global\.sync_daemon\.instance: "VI_9" is not one of vrrp\.instances/,
    /vrrp\.instances\[0\]\.advert_interval: VRRPv2 counts whole seconds/,
    /vrrp\.instances\[0\]\.state: state: master with preempt: false/,
    /vrrp\.instances\[0\]\.addresses\[0\]: prefix \/33 is longer than an IPv4 address/,
    /vrrp\.instances\[0\]\.track_scripts\[0\]: "chk_nothing" is not one of vrrp\.scripts/,
    /vrrp\.instances\[0\]\.track_services\[0\]\.service: "no-such" is not the name of a service/,
    /vrrp\.instances\[0\]\.addresses: mixes IPv4 and IPv6/,
    /vrrp\.instances\[1\]\.name: duplicate instance name "VI_1"/,
    /vrrp\.instances\[1\]\.version: VRRPv2 is IPv4 only/,
    /vrrp\.instances\[2\]\.vrid: 0 is out of range \(1\.\.255\)/,
    /vrrp\.instances\[2\]\.bogus: unknown key/,
    /vrrp\.sync_groups\[0\]\.instances\[1\]: "VI_7" is not one of vrrp\.instances/,
  ];
  for (const re of expect) assert.match(text, re);
});

test('the same vrid twice on one interface and family is refused; on another interface it is fine', () => {
  const twice = refusal(`${SERVICES}vrrp:\n  instances:\n    - { name: A, interface: eth0, vrid: 7, addresses: [198.18.0.10] }\n    - { name: B, interface: eth0, vrid: 7, addresses: [198.18.0.11] }\n`);
  assert.match(twice.join('\n'), /vrrp\.instances\[1\]\.vrid: vrid 7 on eth0 \(IPv4\) is also vrrp\.instances\[0\]/);
  const config = parseDirectorConfig(`${SERVICES}vrrp:\n  instances:\n    - { name: A, interface: eth0, vrid: 7, addresses: [198.18.0.10] }\n    - { name: B, interface: eth1, vrid: 7, addresses: [198.18.0.11] }\n`, 'd.yaml');
  assert.equal(config.vrrp!.instances.length, 2);
});

test('a sync daemon needs a fixed state or an instance to follow, not both', () => {
  assert.match(refusal(`${SERVICES}global:\n  sync_daemon: { interface: eth0 }\n`).join('\n'), /global\.sync_daemon: needs state \(master or backup\) or instance/);
  assert.match(
    refusal(`${SERVICES}global:\n  sync_daemon: { interface: eth0, state: master, instance: VI_1 }\nvrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 1, addresses: [198.18.0.10] }\n`).join('\n'),
    /global\.sync_daemon: state or instance, not both/,
  );
});

test('script command lines split at spaces, quotes keep them, a bare name is looked up, a relative path refused', () => {
  assert.deepEqual(splitCommand('/bin/check  -x "two words" y'), ['/bin/check', '-x', 'two words', 'y']);
  const [program, ...args] = splitCommand('sh -c true') as string[];
  assert.match(program, /^\/(usr\/)?bin\/sh$/);
  assert.deepEqual(args, ['-c', 'true']);
  assert.equal(splitCommand('no-such-program-lvsd -x'), '"no-such-program-lvsd" is not an executable in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  assert.equal(splitCommand('bin/check'), '"bin/check": give an absolute path or a bare program name');
  assert.equal(splitCommand('/bin/check "open'), 'has an unmatched "');
});

test('auth_pass_file gives a VRRPv2 instance simple password authentication: the config keeps where the password is, never the password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-auth-'));
  try {
    const file = join(dir, 'vi1.pass');
    writeFileSync(file, 'not-in-the-config\n', { mode: 0o600 });
    const config = parseDirectorConfig(
      `${SERVICES}vrrp:\n  instances:\n    - { name: VI_1, interface: eth0, vrid: 51, addresses: [198.18.0.10], auth_pass_file: ${file} }\n    - { name: VI_2, interface: eth0, vrid: 52, addresses: [198.18.0.11], auth_pass_env: VRRP_PASS }\n    - { name: VI_3, interface: eth0, vrid: 53, addresses: [198.18.0.12] }\n`,
      'd.yaml',
    );
    assert.deepEqual(config.vrrp!.instances.map((i) => i.authPass), [{ file }, { env: 'VRRP_PASS' }, undefined]);
    assert.ok(!JSON.stringify(config).includes('not-in-the-config'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('authentication on a VRRPv3 instance, two password sources, and a password file others can read are refused at their place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-auth-'));
  try {
    const open = join(dir, 'open.pass');
    writeFileSync(open, 'secret\n', { mode: 0o644 });
    chmodSync(open, 0o644);
    const errors = refusal(`${SERVICES}vrrp:
  instances:
    - name: V3
      interface: eth0
      vrid: 1
      version: 3
      addresses: [198.18.0.10]
      auth_pass_env: VRRP_PASS
    - { name: V6, interface: eth0, vrid: 2, addresses: ["2001:db8::10"], auth_pass_credential: vrrp }
    - { name: TWO, interface: eth0, vrid: 3, addresses: [198.18.0.11], auth_pass_env: A, auth_pass_file: /etc/lvsd/x.pass }
    - { name: OPEN, interface: eth0, vrid: 4, addresses: [198.18.0.12], auth_pass_file: ${open} }
    - { name: MISSING, interface: eth0, vrid: 5, addresses: [198.18.0.13], auth_pass_file: ${join(dir, 'none.pass')} }
`).join('\n');
    assert.match(errors, /^d\.yaml:14:22: vrrp\.instances\[0\]\.auth_pass_env: VRRPv3 has no authentication \(RFC 5798 removed it; keepalived ignores it too\)/m);
    assert.match(errors, /^d\.yaml:15:\d+: vrrp\.instances\[1\]\.auth_pass_credential: VRRPv3 has no authentication/m);
    assert.match(errors, /^d\.yaml:16:\d+: vrrp\.instances\[2\]\.auth_pass_env: give one of auth_pass_file, auth_pass_env, not several/m);
    assert.match(errors, new RegExp(`^d\\.yaml:17:\\d+: vrrp\\.instances\\[3\\]\\.auth_pass_file: password file ${open} is world-readable \\(mode 0644\\); run chmod 600`, 'm'));
    assert.match(errors, /^d\.yaml:18:\d+: vrrp\.instances\[4\]\.auth_pass_file: password file .*none\.pass cannot be read: no such file/m);
    assert.ok(!errors.includes('secret'));
    // version 3 for the whole section reaches an instance without a version of its own
    const global3 = refusal(`${SERVICES}vrrp:\n  version: 3\n  instances:\n    - { name: A, interface: eth0, vrid: 1, addresses: [198.18.0.10], auth_pass_env: P }\n`).join('\n');
    assert.match(global3, /vrrp\.instances\[0\]\.auth_pass_env: VRRPv3 has no authentication/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
