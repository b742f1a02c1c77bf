// `lvsd director import-keepalived`, VRRP part: keepalived.conf's vrrp_instance, vrrp_script,
// vrrp_sync_group and global_defs vrrp_version / lvs_sync_daemon become the director config's
// `vrrp:` section, with keepalived's own defaults written out (and derived as keepalived derives
// them), and every line lvsd cannot carry over named as file:line: keyword: why.
// The YAML is read back as plain objects, so these prove the translation apart from the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDirectorConfig } from '../../../src/config/director';
import { loadPassword } from '../../../src/health/mysql/credentials';
import { simplePasswordKey } from '../../../src/vrrp/packet';
import { formatImportProblem, importKeepalivedFile, parseKeepalived, translateKeepalived } from '../../../src/config/keepalived';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'keepalived', 'vrrp');

interface Imported {
  yaml: string;
  doc: { global?: { sync_daemon?: Record<string, unknown> }; vrrp?: Record<string, any>; services?: unknown[] };
  /** `file:line: keyword` of each line named */
  named: string[];
  /** the whole `file:line: keyword: why` lines */
  lines: string[];
}

function imported(result: { yaml: string; problems: Parameters<typeof formatImportProblem>[0][] }): Imported {
  const lines = result.problems.map(formatImportProblem);
  return { yaml: result.yaml, doc: parse(result.yaml), lines, named: lines.map((l) => l.split(': ').slice(0, 2).join(': ')) };
}

function fromFile(name: string): Imported & { path: string } {
  const path = join(FIXTURES, name);
  return { ...imported(importKeepalivedFile(path)), path };
}

function fromText(text: string): Imported {
  return imported(translateKeepalived(parseKeepalived(text, 'k.conf'), 'k.conf'));
}

function instance(i: Imported, name: string): Record<string, any> {
  const found = (i.doc.vrrp?.instances as Record<string, any>[] | undefined)?.find((x) => x.name === name);
  assert.ok(found, `instance ${name} in ${i.yaml}`);
  return found;
}

test("seed 002's BACKUP/nopreempt pair: two backups that do not preempt, keepalived's defaults written out, PASS as auth_pass_file and its password never written", () => {
  const master = fromFile('seed-002-master.conf');
  const backup = fromFile('seed-002-backup.conf');
  assert.equal(master.doc.vrrp!.version, 2); // keepalived's default vrrp_version
  assert.match(master.yaml, /version: 2 # keepalived default vrrp_version 2/);
  const expected = {
    name: 'VI_1',
    interface: 'eth0',
    vrid: 60,
    priority: 100,
    advert_interval: '5s',
    state: 'backup',
    preempt: false,
    preempt_delay: '0s',
    addresses: ['198.18.14.100/32'], // keepalived adds an address without a prefix as /32
    auth_pass_file: '/etc/lvsd/vrrp-VI_1.pass',
  };
  assert.deepEqual(instance(master, 'VI_1'), expected);
  assert.deepEqual(instance(backup, 'VI_1'), { ...expected, priority: 98 });
  // the LVS part is still there
  assert.equal(master.doc.services?.length, 1);
  for (const side of [master, backup]) {
    // the key names the auth_type line, never the auth_pass line (its comment would carry the password)
    assert.match(side.yaml, new RegExp(`auth_pass_file: /etc/lvsd/vrrp-VI_1\\.pass # .*seed-002-${side === master ? 'master' : 'backup'}\\.conf:22 auth_type PASS\n`));
    assert.ok(side.named.includes(`${side.path}:23: auth_pass`), side.lines.join('\n'));
    assert.match(
      side.lines.find((l) => l.includes(':23: auth_pass'))!,
      /the password of this line is not copied .*auth_pass_file \/etc\/lvsd\/vrrp-VI_1\.pass; before starting lvsd put the password in it, readable by root only \(`install -m 600 \/dev\/null \/etc\/lvsd\/vrrp-VI_1\.pass`/,
    );
    // the password is in no line and nowhere in the YAML
    assert.ok(!side.yaml.includes('1234') && !side.lines.some((l) => l.includes('1234')));
  }
  // nothing else of VI_1 is left out
  assert.deepEqual(
    master.named.filter((n) => /:(1[4-9]|2\d):/.test(n)),
    [`${master.path}:23: auth_pass`],
  );
});

test("seed 004's state MASTER: a master that preempts, each value naming its line; garp_master_delay named", () => {
  const i = fromFile('seed-004-ha-master.conf');
  assert.deepEqual(instance(i, 'VI_1'), {
    name: 'VI_1',
    interface: 'ens192',
    vrid: 88,
    priority: 100,
    advert_interval: '1s',
    state: 'master',
    preempt: true,
    preempt_delay: '0s',
    addresses: ['198.18.216.194/32'],
    auth_pass_file: '/etc/lvsd/vrrp-VI_1.pass',
  });
  assert.match(i.yaml, /state: master # .*seed-004-ha-master\.conf:7 state MASTER\n/);
  assert.match(i.yaml, /preempt: true # keepalived default: preempt\n/);
  assert.deepEqual(i.named, [`${i.path}:3: router_id`, `${i.path}:10: garp_master_delay`, `${i.path}:15: auth_pass`]);
  assert.ok(!i.yaml.includes('123456') && !i.lines.some((l) => l.includes('123456')));
  assert.match(i.lines[1], /gratuitous ARP/);
});

test('track_script chk_mysql with unicast peers: the script with its defaults, the trackers, source and peers; notify kept, notify_master named', () => {
  const db1 = fromFile('mysql-unicast-db1.conf');
  const db2 = fromFile('mysql-unicast-db2.conf');
  for (const side of [db1, db2]) {
    assert.deepEqual(side.doc.vrrp!.scripts, {
      chk_mysql: {
        exec: '/usr/local/bin/check_mysql.sh --socket /run/mysqld/mysqld.sock',
        interval: '2s',
        timeout: '2s', // keepalived: the timeout defaults to the interval
        weight: 0, // failing = FAULT
        rise: 2,
        fall: 2,
      },
    });
  }
  const a = instance(db1, 'VI_MYSQL');
  const b = instance(db2, 'VI_MYSQL');
  assert.deepEqual(a, {
    name: 'VI_MYSQL',
    interface: 'eth1',
    vrid: 51,
    priority: 150,
    advert_interval: '1s',
    state: 'backup',
    preempt: false,
    preempt_delay: '0s',
    addresses: [{ address: '198.18.1.100', prefix: 24, label: 'eth1:vip' }], // dev eth1 is the instance's own
    unicast_source: '198.18.1.1',
    unicast_peers: ['198.18.1.2'],
    track_interfaces: ['eth0', { name: 'eth2', weight: -20 }],
    track_scripts: ['chk_mysql'],
    notify: '/etc/keepalived/notify.sh',
  });
  assert.deepEqual(b, { ...a, priority: 100, unicast_source: '198.18.1.2', unicast_peers: ['198.18.1.1'] });
  // the sync daemon follows VI_MYSQL; its id defaults to the vrid, as keepalived's
  assert.deepEqual(db1.doc.global?.sync_daemon, { interface: 'eth1', sync_id: 51, instance: 'VI_MYSQL' });
  assert.deepEqual(db1.named, [
    `${db1.path}:3: router_id`,
    `${db1.path}:4: script_user`,
    `${db1.path}:5: enable_script_security`,
    `${db1.path}:38: notify_master`,
  ]);
  assert.match(db1.lines[3], /one notify program, called as keepalived calls notify \(INSTANCE\|GROUP name STATE priority\)/);
});

test("a sync group: its members and notify; its unweighted track_interface copied to each member; a member's weighted track_script left out, as keepalived ignores it", () => {
  const i = fromFile('nat-sync-group.conf');
  assert.deepEqual(i.doc.vrrp!.sync_groups, [{ name: 'VG1', instances: ['VI_EXT', 'VI_INT'], notify: '/etc/keepalived/group-notify.sh' }]);
  const ext = instance(i, 'VI_EXT');
  const int = instance(i, 'VI_INT');
  assert.deepEqual(ext.track_interfaces, ['eth2']);
  assert.deepEqual(int.track_interfaces, ['eth2']);
  assert.equal(ext.track_scripts, undefined);
  assert.deepEqual([ext.state, ext.priority, ext.preempt, int.state, int.vrid], ['master', 150, true, 'master', 52]);
  assert.match(i.yaml, /# .*nat-sync-group\.conf:17 eth2 \(sync group VG1\)\n/);
  // the explicit id wins over the instance's vrid
  assert.deepEqual(i.doc.global?.sync_daemon, { interface: 'eth1', sync_id: 5, instance: 'VI_INT' });
  assert.deepEqual(i.named, [`${i.path}:20: notify_fault`, `${i.path}:32: chk_uplink`]);
  assert.match(i.lines[1], /weight 10 in a member of sync group VG1: keepalived ignores a weighted tracker there/);
});

test('IPv6 addresses make a VRRPv3 instance (a bare one is a /128); an IPv4 one in it is left out; vrrp_version 3 and centisecond intervals', () => {
  const i = fromFile('ipv6.conf');
  assert.equal(i.doc.vrrp!.version, 3);
  assert.deepEqual(instance(i, 'VI_6'), {
    name: 'VI_6',
    interface: 'eth0',
    vrid: 61,
    priority: 120,
    advert_interval: '500ms',
    version: 3,
    state: 'backup',
    preempt: true,
    preempt_delay: '0s',
    addresses: ['2001:db8::10/64', '2001:db8::11/128'],
    unicast_peers: ['2001:db8::2'],
  });
  const v4 = instance(i, 'VI_4');
  // VRRPv3 (global): keepalived rounds the interval to centiseconds; no per-instance version
  assert.equal(v4.advert_interval, '330ms');
  assert.equal(v4.version, undefined);
  assert.deepEqual(v4.addresses, ['198.18.2.10/24']);
  assert.deepEqual(i.named, [`${i.path}:11: version`, `${i.path}:30: 2001:db8::12/64`]);
  assert.match(i.lines[0], /IPv6 instance runs VRRPv3/);
  assert.match(i.lines[1], /an IPv6 address in an IPv4 instance/);
});

test("keepalived's derived defaults: MASTER without a priority is 255; no state at 255 is master; neither is backup at 100; a bad priority is 100, a bad advert_int 1 s; VRRPv2 rounds advert_int to seconds", () => {
  const i = fromText(`
vrrp_instance OWNER {
  state MASTER
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    198.18.3.1
  }
}
vrrp_instance HIGH {
  interface eth0
  virtual_router_id 2
  priority 255
  advert_int 2.6
  virtual_ipaddress {
    198.18.3.2
  }
}
vrrp_instance PLAIN {
  interface eth0
  virtual_router_id 3
  virtual_ipaddress {
    198.18.3.3
  }
}
vrrp_instance BAD_PRIORITY {
  state MASTER
  priority 300
  advert_int 300
  interface eth0
  virtual_router_id 4
  virtual_ipaddress {
    198.18.3.4
  }
}`);
  assert.deepEqual(
    ['OWNER', 'HIGH', 'PLAIN', 'BAD_PRIORITY'].map((n) => {
      const x = instance(i, n);
      return [x.state, x.priority, x.preempt, x.advert_interval, x.preempt_delay];
    }),
    [
      ['master', 255, true, '1s', '0s'],
      ['master', 255, true, '3s', '0s'],
      ['backup', 100, true, '1s', '0s'],
      ['master', 100, true, '1s', '0s'], // keepalived takes 100 for a bad priority, not the owner's 255
    ],
  );
  assert.match(i.yaml, /priority: 255 # keepalived: state MASTER without a priority is the address owner, 255\n/);
  assert.match(i.yaml, /advert_interval: 3s # k\.conf:14 advert_int 2\.6 \(keepalived rounds it for VRRPv2\)\n/);
  assert.match(i.yaml, /state: backup # keepalived: no state = BACKUP\n/);
  assert.deepEqual(i.lines, ['k.conf:28: priority: "300" is not a priority in 1..255: keepalived uses 100', 'k.conf:29: advert_int: not 0.01..255 seconds: keepalived ignores it (1 s)']);
});

test('nopreempt and preempt_delay with state MASTER are cleared, as keepalived clears them, and named; preempt_delay on a backup is kept', () => {
  const i = fromText(`
vrrp_instance A {
  state MASTER
  nopreempt
  preempt_delay 30
  interface eth0
  virtual_router_id 10
  priority 200
  virtual_ipaddress {
    198.18.4.1
  }
}
vrrp_instance B {
  state BACKUP
  preempt_delay 12.5
  interface eth0
  virtual_router_id 11
  priority 100
  virtual_ipaddress {
    198.18.4.2
  }
}`);
  const a = instance(i, 'A');
  const b = instance(i, 'B');
  assert.deepEqual([a.preempt, a.preempt_delay, b.preempt, b.preempt_delay], [true, '0s', true, '12500ms']);
  assert.deepEqual(i.named, ['k.conf:4: nopreempt', 'k.conf:5: preempt_delay']);
  assert.match(i.lines[0], /keepalived clears nopreempt with state MASTER/);
});

test('mistyped and unknown keywords are named with their file:line; an instance without a valid virtual_router_id is left out, as keepalived drops it', () => {
  const i = fromText(`vrrp_script chk {
  script /bin/true
  intervall 2
}
vrrp_instanse VI_X {
  state BACKUP
}
vrrp_instance VI_1 {
  state backup
  interface eth0
  virtual_router_id 51
  priorty 150
  nopreemt
  virtual_ipaddress {
    198.18.5.1/24 lable eth0:1
    198.18.5.2
  }
  track_script {
    chk
    chk_missing
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_idd 52
  virtual_ipaddress {
    198.18.5.3
  }
}
vrrp_sync_group G {
  gruop {
    VI_1
  }
}`);
  assert.deepEqual(i.named, [
    'k.conf:3: intervall',
    'k.conf:5: vrrp_instanse',
    'k.conf:9: state',
    'k.conf:12: priorty',
    'k.conf:13: nopreemt',
    'k.conf:15: 198.18.5.1/24',
    'k.conf:20: chk_missing',
    'k.conf:23: vrrp_instance',
    'k.conf:25: virtual_router_idd',
    'k.conf:30: vrrp_sync_group', // no group { }
    'k.conf:30: vrrp_sync_group', // so no member
    'k.conf:31: gruop',
  ]);
  const why = (n: string) => i.lines.find((l) => l.startsWith(`${n}: `))!;
  assert.match(why('k.conf:3: intervall'), /not a vrrp_script keyword keepalived knows \(did you mean interval\?\)/);
  assert.match(why('k.conf:5: vrrp_instanse'), /not a keepalived\.conf block or keyword keepalived knows \(did you mean vrrp_instance\?\)/);
  assert.match(why('k.conf:9: state'), /"backup" is not MASTER or BACKUP \(upper case\): keepalived runs it as BACKUP/);
  assert.match(why('k.conf:12: priorty'), /not a vrrp_instance keyword keepalived knows \(did you mean priority\?\)/);
  assert.match(why('k.conf:13: nopreemt'), /did you mean nopreempt\?/);
  assert.match(why('k.conf:15: 198.18.5.1/24'), /"lable": not a virtual_ipaddress option keepalived knows \(did you mean label\?\)/);
  assert.match(why('k.conf:20: chk_missing'), /no vrrp_script chk_missing: keepalived ignores a track_script it cannot find too/);
  assert.match(why('k.conf:25: virtual_router_idd'), /did you mean virtual_router_id\?/);
  assert.match(why('k.conf:31: gruop'), /did you mean group\?/);
  assert.match(why('k.conf:23: vrrp_instance'), /no valid virtual_router_id/);
  // what is left of VI_1: defaults where the mistyped lines were, the good address and tracker
  const vi1 = instance(i, 'VI_1');
  assert.deepEqual([vi1.state, vi1.priority, vi1.preempt, vi1.addresses, vi1.track_scripts], ['backup', 100, true, ['198.18.5.2/32'], ['chk']]);
  assert.equal((i.doc.vrrp!.instances as unknown[]).length, 1);
  assert.equal(i.doc.vrrp!.sync_groups, undefined);
});

test('what the vrrp: section cannot express is left out and named: excluded addresses, an address on another dev, reverse weights, AH, vmac, notify_stop, a user', () => {
  const i = fromText(`vrrp_script chk {
  script "/usr/local/bin/chk web"
  weight 5
  user nobody
}
vrrp_script chk_rev {
  script /usr/local/bin/standby-wanted
  weight 0 reverse
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 7
  use_vmac
  authentication {
    auth_type AH
    auth_pass s3cret99
  }
  virtual_ipaddress {
    198.18.6.1/24 brd 198.18.6.255 scope global
    198.18.6.2/24 dev eth1
  }
  virtual_ipaddress_excluded {
    198.18.6.3
  }
  track_interface {
    eth0
    eth3 weight 10 reverse
  }
  track_script {
    chk weight -5
    chk_rev
  }
  notify /etc/keepalived/notify.sh keepalived_script
  notify_stop /etc/keepalived/stop.sh
}`);
  const why = (n: string) => i.lines.find((l) => l.startsWith(`${n}: `)) ?? assert.fail(`${n} in\n${i.lines.join('\n')}`);
  assert.match(why('k.conf:4: user'), /run as lvsd's user/);
  assert.match(why('k.conf:8: weight'), /reverse: .*script left out/);
  assert.match(why('k.conf:13: use_vmac'), /no VRRP virtual MAC/);
  assert.match(why('k.conf:15: auth_type'), /auth_type AH \(IPsec AH, deprecated in keepalived\) is not supported by lvsd: .*use auth_type PASS \(auth_pass_file in lvsd\) or no authentication on both sides/);
  assert.equal(instance(i, 'VI_1').auth_pass_file, undefined);
  assert.ok(!i.yaml.includes('s3cret99') && !i.lines.some((l) => l.includes('s3cret99')));
  assert.match(why('k.conf:19: 198.18.6.1/24'), /brd 198\.18\.6\.255: lvsd adds the address with its prefix and label only .*; the address is kept/);
  assert.match(why('k.conf:20: 198.18.6.2/24'), /dev eth1: lvsd adds an instance's addresses on its interface \(eth0\) only; address left out/);
  assert.match(why('k.conf:23: 198.18.6.3'), /no addresses left out of the adverts/);
  assert.match(why('k.conf:26: eth0'), /own interface/);
  assert.match(why('k.conf:27: eth3'), /reverse/);
  assert.match(why('k.conf:31: chk_rev'), /vrrp_script chk_rev is left out \(named at its line\), so is this tracker/);
  assert.match(why('k.conf:33: notify'), /user "keepalived_script": lvsd runs the notify program as its own user/);
  assert.match(why('k.conf:34: notify_stop'), /called without those words, so it is left out: call it from a notify program that looks at its third argument \(MASTER, BACKUP, FAULT, or STOP at a clean stop\)/);
  assert.equal(i.lines.length, 12, i.lines.join('\n'));
  const vi = instance(i, 'VI_1');
  assert.deepEqual(vi.addresses, ['198.18.6.1/24']);
  assert.equal(vi.track_interfaces, undefined);
  assert.deepEqual(vi.track_scripts, [{ name: 'chk', weight: -5 }]);
  assert.equal(vi.notify, '/etc/keepalived/notify.sh');
  assert.deepEqual(Object.keys(i.doc.vrrp!.scripts), ['chk']);
  assert.equal(i.doc.vrrp!.scripts.chk.exec, '/usr/local/bin/chk web');
  assert.equal(i.doc.vrrp!.scripts.chk.weight, 5);
  assert.ok(!i.yaml.includes('s3cret99') && !i.lines.some((l) => l.includes('s3cret99')));
});

test('lvs_sync_daemon naming an instance that is not there runs as backup and is named; without vrrp_instance there is no vrrp section', () => {
  const i = fromText(`global_defs {
  vrrp_version 3
  lvs_sync_daemon eth0 VI_GONE
}
vrrp_script chk {
  script /bin/true
}`);
  assert.equal(i.doc.vrrp, undefined);
  assert.deepEqual(i.doc.global?.sync_daemon, { state: 'backup', interface: 'eth0' });
  assert.deepEqual(i.named, ['k.conf:2: vrrp_version', 'k.conf:3: lvs_sync_daemon', 'k.conf:5: vrrp_script']);
  assert.match(i.lines[1], /no vrrp_instance VI_GONE was translated/);
  assert.match(i.lines[2], /no vrrp_instance in the file/);
});

test('check_unicast_src (instance or global_defs) is named as not needed: lvsd always drops adverts from outside unicast_peers', () => {
  const i = fromText(`global_defs {
  vrrp_check_unicast_src
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  check_unicast_src
  unicast_peer {
    198.18.7.2
  }
  virtual_ipaddress {
    198.18.7.1
  }
}`);
  const says = 'not needed: lvsd always drops an advert whose source is not one of the unicast_peers (counted as invalid "source"), as keepalived with check_unicast_src';
  assert.deepEqual(i.lines, [`k.conf:2: vrrp_check_unicast_src: ${says}`, `k.conf:7: check_unicast_src: ${says}`]);
  assert.deepEqual(instance(i, 'VI_1').unicast_peers, ['198.18.7.2']);
});

test('a list keyword without its { } block is named, as keepalived reads nothing from it', () => {
  const i = fromText(`vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 9
  unicast_peer 198.18.7.2
  virtual_ipaddress {
    198.18.7.1
  }
}`);
  assert.deepEqual(i.lines, ['k.conf:4: unicast_peer: needs a { } block: keepalived reads nothing from this line']);
  assert.equal(instance(i, 'VI_1').unicast_peers, undefined);
});

test("a sync group's weighted tracker is named; with sync_group_tracking_weight the members keep their weights; an IPv6 label is dropped and named", () => {
  const i = fromText(`vrrp_script chk {
  script /usr/local/bin/chk
  weight -30
}
vrrp_sync_group G {
  group {
    A
  }
  sync_group_tracking_weight
  track_interface {
    eth5 weight -10
  }
}
vrrp_instance A {
  interface eth0
  virtual_router_id 20
  virtual_ipaddress {
    2001:db8::20/64 label eth0:v6
  }
  track_script {
    chk
  }
}`);
  const a = instance(i, 'A');
  assert.deepEqual(a.track_scripts, ['chk']); // its -30 applies: the group allows weights
  assert.equal(a.track_interfaces, undefined);
  assert.deepEqual(a.addresses, ['2001:db8::20/64']);
  assert.deepEqual(i.named, ['k.conf:9: sync_group_tracking_weight', 'k.conf:11: eth5', 'k.conf:18: 2001:db8::20/64']);
  assert.match(i.lines[1], /a weighted tracker of sync group G: lvsd's sync groups have no trackers of their own/);
  assert.match(i.lines[2], /label eth0:v6: .*no label on IPv6/);
});

test("every fixture's vrrp: section uses only the keys of the agreed vrrp: shape (no invented keys)", () => {
  const shape = {
    root: ['version', 'scripts', 'instances', 'sync_groups'],
    script: ['exec', 'interval', 'timeout', 'weight', 'rise', 'fall'],
    instance: ['name', 'interface', 'vrid', 'priority', 'advert_interval', 'version', 'state', 'preempt', 'preempt_delay', 'addresses', 'unicast_source', 'unicast_peers', 'track_interfaces', 'track_scripts', 'track_services', 'notify', 'auth_pass_file'],
    address: ['address', 'prefix', 'label'],
    tracker: ['name', 'weight'],
    group: ['name', 'instances', 'notify'],
    syncDaemon: ['state', 'interface', 'sync_id', 'max_len', 'group', 'port', 'ttl', 'instance'],
  };
  const within = (what: string, obj: Record<string, unknown>, keys: string[]) => {
    for (const k of Object.keys(obj)) assert.ok(keys.includes(k), `${what}: ${k}`);
  };
  const files = ['seed-002-master.conf', 'seed-002-backup.conf', 'seed-004-ha-master.conf', 'mysql-unicast-db1.conf', 'mysql-unicast-db2.conf', 'nat-sync-group.conf', 'ipv6.conf'];
  for (const f of files) {
    const { doc } = fromFile(f);
    const v = doc.vrrp!;
    within(f, v, shape.root);
    for (const s of Object.values(v.scripts ?? {})) within(`${f} script`, s as Record<string, unknown>, shape.script);
    for (const i of v.instances) {
      within(`${f} instance`, i, shape.instance);
      for (const a of i.addresses) if (typeof a !== 'string') within(`${f} address`, a, shape.address);
      for (const t of [...(i.track_interfaces ?? []), ...(i.track_scripts ?? [])]) if (typeof t !== 'string') within(`${f} tracker`, t, shape.tracker);
    }
    for (const g of v.sync_groups ?? []) within(`${f} sync group`, g, shape.group);
    if (doc.global?.sync_daemon) within(`${f} sync_daemon`, doc.global.sync_daemon, shape.syncDaemon);
  }
});

test('authentication blocks as keepalived reads them: PASS with a long password, PASS without one, a password without a type, VRRPv3; no password ever printed', () => {
  const i = fromText(`global_defs {
  vrrp_version 2
}
vrrp_instance LONG {
  interface eth0
  virtual_router_id 1
  authentication {
    auth_type PASS
    auth_pass longer-than-8
  }
  virtual_ipaddress {
    198.18.6.1
  }
}
vrrp_instance EMPTY {
  interface eth0
  virtual_router_id 2
  authentication {
    auth_type PASS
  }
  virtual_ipaddress {
    198.18.6.2
  }
}
vrrp_instance NOTYPE {
  interface eth0
  virtual_router_id 3
  authentication {
    auth_pass untyped1
  }
  virtual_ipaddress {
    198.18.6.3
  }
}
vrrp_instance V3 {
  interface eth0
  virtual_router_id 4
  version 3
  authentication {
    auth_type PASS
    auth_pass v3secret
  }
  virtual_ipaddress {
    198.18.6.4
  }
}`);
  const why = (n: string) => i.lines.find((l) => l.startsWith(`${n}: `)) ?? assert.fail(`${n} in\n${i.lines.join('\n')}`);
  assert.equal(instance(i, 'LONG').auth_pass_file, '/etc/lvsd/vrrp-LONG.pass');
  assert.match(why('k.conf:9: auth_pass'), /auth_pass_file \/etc\/lvsd\/vrrp-LONG\.pass; .*; keepalived uses only its first 8 bytes, and so does lvsd/);
  assert.equal(instance(i, 'EMPTY').auth_pass_file, '/etc/lvsd/vrrp-EMPTY.pass');
  assert.match(why('k.conf:19: auth_type'), /auth_type PASS without auth_pass \(keepalived sends 8 zero bytes, which lvsd does not\): the YAML has auth_pass_file \/etc\/lvsd\/vrrp-EMPTY\.pass; give the keepalived peers an auth_pass/);
  assert.equal(instance(i, 'NOTYPE').auth_pass_file, undefined);
  assert.match(why('k.conf:29: auth_pass'), /auth_pass without auth_type PASS: keepalived sends adverts without authentication, and so does lvsd; left out/);
  assert.equal(instance(i, 'V3').auth_pass_file, undefined);
  assert.match(why('k.conf:39: authentication'), /VRRPv3 has no authentication \(RFC 5798\): keepalived ignores this block/);
  for (const secret of ['longer-than-8', 'longer-t', 'untyped1', 'v3secret']) {
    assert.ok(!i.yaml.includes(secret) && !i.lines.some((l) => l.includes(secret)), secret);
  }
});

test('an imported PASS instance loads once its password file exists, and the director sends the bytes keepalived sends for that auth_pass', () => {
  const i = fromFile('seed-002-master.conf');
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-ka-auth-'));
  try {
    // what the operator is told to do, in a directory of the test's own instead of /etc/lvsd
    const file = join(dir, 'vrrp-VI_1.pass');
    writeFileSync(file, '1234\n', { mode: 0o600 });
    const config = parseDirectorConfig(i.yaml.replace('/etc/lvsd/vrrp-VI_1.pass', file), 'imported.yaml');
    const source = config.vrrp!.instances[0].authPass!;
    assert.deepEqual(source, { file });
    // keepalived's auth_pass 1234: "1234" and four zero bytes
    assert.deepEqual(simplePasswordKey(loadPassword(source)).key, Buffer.from('3132333400000000', 'hex'));
    // before the file exists, the loader names it (check-config on the director)
    assert.throws(() => parseDirectorConfig(i.yaml, 'imported.yaml'), /vrrp\.instances\[0\]\.auth_pass_file: password file \/etc\/lvsd\/vrrp-VI_1\.pass cannot be read: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
