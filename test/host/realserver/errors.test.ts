// Each refusal is clear, names its cause, and leaves the system and the state file as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netns, type Netns } from '../../support/netns';

const DEFAULTS = {
  'net.ipv4.conf.lo.arp_ignore': '0',
  'net.ipv4.conf.lo.arp_announce': '0',
  'net.ipv4.conf.all.arp_ignore': '0',
  'net.ipv4.conf.all.arp_announce': '0',
};

function assertUntouched(ns: Netns, state: string, addrs = ['lo 127.0.0.1/8', 'lo ::1/128']): void {
  assert.deepEqual(ns.allAddrs(), addrs);
  assert.deepEqual(ns.arpSysctls(), DEFAULTS);
  assert.equal(existsSync(state), false, 'no state file is left behind');
}

test('without CAP_NET_ADMIN (nobody, no capabilities): refused before touching anything', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  const r = ns.lvsdUnprivileged(['up', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lvsd: realserver up needs CAP_NET_ADMIN/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assertUntouched(ns, state);
});

test('capabilities only in a user namespace that does not own the network namespace: the kernel EPERM is reported the same way', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  // Inside `unshare --user --map-root-user` CapEff shows every capability, but rtnetlink checks them
  // against the network namespace's owner, so the kernel answers EPERM.
  const r = ns.run('unshare', ['--user', '--map-root-user', join(__dirname, '../../../../bin/lvsd'), 'realserver', 'up', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^lvsd: realserver up needs CAP_NET_ADMIN/);
  assertUntouched(ns, state);
});

test('a VIP also configured on another interface is refused, naming that interface', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  ns.must('ip', ['link', 'add', 'lvsd-v0', 'type', 'veth', 'peer', 'name', 'lvsd-v1']);
  ns.must('ip', ['addr', 'add', '198.18.0.10/24', 'dev', 'lvsd-v0']);
  const before = ns.allAddrs();
  const r = ns.lvsd(['up', '--vip', '198.18.0.11', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /VIP 198\.18\.0\.10 is also configured on lvsd-v0: that interface would answer ARP/);
  assertUntouched(ns, state, before);
});

test('an invalid address is refused naming the flag, or the config file with line and column', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  const flag = ns.lvsd(['up', '--vip', '198.18.0.256', '--state', state]);
  assert.equal(flag.status, 1);
  assert.match(flag.stderr, /^lvsd: --vip: "198\.18\.0\.256" is not an IPv4 or IPv6 address$/m);

  const prefixed = ns.lvsd(['up', '--vip', '198.18.0.10/24', '--state', state]);
  assert.match(prefixed.stderr, /--vip: VIP "198\.18\.0\.10\/24" must be a single address without a prefix length/);

  const file = join(ns.dir, 'realserver.yaml');
  writeFileSync(file, 'mode: dr\nvips:\n  - 198.18.0.10\n  - 2001:db8::zz\n  - 127.0.0.2\nstate: /tmp/x.json\ncolour: blue\n');
  const config = ns.lvsd(['up', '--config', file, '--state', state]);
  assert.equal(config.status, 1);
  assert.ok(config.stderr.includes(`${file}:4:5: vips[1]: "2001:db8::zz" is not an IPv4 or IPv6 address`), config.stderr);
  assert.ok(config.stderr.includes(`${file}:5:5: vips[2]: VIP 127.0.0.2 is a loopback address`), config.stderr);
  assert.ok(config.stderr.includes(`${file}:7:1: colour: unknown key (known: mode, vips, tunnel, state)`), config.stderr);
  assertUntouched(ns, state);
});

test('a state file for another VIP set is refused; --force switches sets and keeps the original prior values', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  ns.setSysctl('net.ipv4.conf.lo.arp_ignore', '2');
  assert.equal(ns.lvsd(['up', '--vip', '198.18.0.10', '--state', state]).status, 0);
  const afterFirst = ns.allAddrs();

  const other = ns.lvsd(['up', '--vip', '198.18.0.20', '--state', state]);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /state file .*state\.json was written for mode dr on lo with VIPs 198\.18\.0\.10, but this up is for .* 198\.18\.0\.20: run `lvsd realserver down --state .*` first, or pass --force/);
  assert.deepEqual(ns.allAddrs(), afterFirst);

  const mismatchedDown = ns.lvsd(['down', '--vip', '198.18.0.20', '--state', state]);
  assert.equal(mismatchedDown.status, 1);
  assert.deepEqual(ns.allAddrs(), afterFirst);

  const forced = ns.lvsd(['up', '--force', '--vip', '198.18.0.20', '--state', state]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /removed 198\.18\.0\.10\/32 from lo/);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo 198.18.0.20/32 lo:0', 'lo ::1/128']);

  assert.equal(ns.lvsd(['down', '--state', state]).status, 0);
  assert.equal(ns.sysctl('net.ipv4.conf.lo.arp_ignore'), '2', 'the value from before the very first up');
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
});

test('a corrupt state file, or one from another network namespace, is refused; --force sets it aside', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  writeFileSync(state, '{"version": 1, "mode": "dr", "vips": [');
  const corrupt = ns.lvsd(['up', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(corrupt.status, 1);
  assert.match(corrupt.stderr, /state file .*state\.json is corrupt \(.*\); pass --force to ignore it/);
  assert.equal(corrupt.stderr.trim().split('\n').length, 1);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);

  const downCorrupt = ns.lvsd(['down', '--force', '--state', state]);
  assert.equal(downCorrupt.status, 1);
  assert.match(downCorrupt.stderr, /with --force, also give the VIPs/);

  const forced = ns.lvsd(['up', '--force', '--vip', '198.18.0.10', '--state', state]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /ignoring unusable state file/);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo 198.18.0.10/32 lo:0', 'lo ::1/128']);

  // The same (valid) file seen from another namespace describes some other system.
  const elsewhere = netns(t);
  const copied = join(elsewhere.dir, 'state.json');
  copyFileSync(state, copied);
  const foreign = elsewhere.lvsd(['down', '--state', copied]);
  assert.equal(foreign.status, 1);
  assert.match(foreign.stderr, /was written in another network namespace or before a reboot/);
  assert.equal(ns.lvsd(['down', '--state', state]).status, 0);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
});

test('a state file that cannot be written: refused before any change', (t) => {
  const ns = netns(t);
  const r = ns.lvsd(['up', '--vip', '198.18.0.10', '--state', '/proc/lvsd-nowhere/state.json']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lvsd: cannot write state file \/proc\/lvsd-nowhere\/state\.json \(.*\); nothing was changed without it/);
  assertUntouched(ns, join(ns.dir, 'state.json'));
});

test('down --force with a corrupt state file removes the VIPs given and restores kernel defaults', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  assert.equal(ns.lvsd(['up', '--vip', '198.18.0.10', '--vip', '2001:db8::10', '--state', state]).status, 0);
  writeFileSync(state, 'not json');
  const refused = ns.lvsd(['down', '--state', state]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /is corrupt/);
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_ignore'), '1', 'nothing undone without --force');

  const forced = ns.lvsd(['down', '--force', '--vip', '198.18.0.10', '--vip', '2001:db8::10', '--state', state]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /the prior sysctl values are unknown, so kernel defaults are restored/);
  assertUntouched(ns, state);
});
