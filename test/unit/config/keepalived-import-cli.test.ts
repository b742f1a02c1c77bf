// `lvsd director import-keepalived FILE`: the YAML on stdout, the lines left out on stderr, and an
// exit status that says which: 0 all translated, 3 some left out, 4 not a valid config, 2 bad syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDirectorConfig } from '../../../src/config/director';

const REPO = join(__dirname, '..', '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lvsd-ka-cli-'));

function importConf(text: string, name: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'lvsd.js'), 'director', 'import-keepalived', path], { encoding: 'utf8', timeout: 30_000 });
  return { path, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CLEAN = 'virtual_server 198.18.9.1 80 {\n  protocol TCP\n  lvs_sched rr\n  real_server 198.18.9.11 80 {\n    TCP_CHECK {\n    }\n  }\n}\n';

test('everything translated: exit 0, the YAML on stdout, nothing on stderr', () => {
  const r = importConf(CLEAN, 'clean.conf');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(parseDirectorConfig(r.stdout, 'out.yaml', { checkFiles: false }).services[0].name, '198.18.9.1:80');
});

test('lines left out: exit 3, each named on stderr as file:line: keyword: why, the YAML still valid', () => {
  const r = importConf(`global_defs {\n  router_id LVS_1\n}\n${CLEAN}`, 'partial.conf');
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`^${r.path}:2: router_id: not about IPVS`, 'm'));
  assert.match(r.stderr, /1 line not translated/);
  assert.equal(parseDirectorConfig(r.stdout, 'out.yaml', { checkFiles: false }).services.length, 1);
});

test('a translation the director refuses: exit 4 with its problems', () => {
  const r = importConf('virtual_server 198.18.9.2 80 {\n  quorum 5\n  sorry_server 198.18.9.99 80\n  real_server 198.18.9.12 80 {\n  }\n}\n', 'invalid.conf');
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /quorum\.weight: 5 can never be met/);
  assert.match(r.stderr, /the import is not a valid director config/);
});

test('bad syntax: exit 2 with file:line, nothing on stdout', () => {
  const r = importConf('virtual_server 198.18.9.3 80 {\n  real_server 198.18.9.13 80 {\n  }\n', 'bad.conf');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /bad\.conf:1: virtual_server: block not closed/);
});

test('VRRP: the vrrp section on stdout, each line not carried over named on stderr as file:line: keyword: why', () => {
  const r = importConf(
    'vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  nopreempt\n  use_vmac\n  virtual_ipaddress {\n    198.18.9.100/24\n  }\n}\n' + CLEAN,
    'vrrp.conf',
  );
  // 3: lines left out, and the YAML (vrrp section included) passes the director's loader
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /^vrrp:\n  version: 2 # keepalived default vrrp_version 2/m);
  assert.match(r.stdout, /^ {6}preempt: false # .*vrrp\.conf:5 nopreempt$/m);
  assert.match(r.stderr, new RegExp(`^${r.path}:6: use_vmac: .*no VRRP virtual MAC`, 'm'));
});

test('VRRP auth_type PASS: auth_pass_file in the YAML, exit 3 with what the operator must do on stderr, the password printed nowhere', () => {
  const r = importConf(
    'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  authentication {\n    auth_type PASS\n    auth_pass Pw0rd-x9\n  }\n  virtual_ipaddress {\n    198.18.9.100/24\n  }\n}\n' + CLEAN,
    'vrrp-pass.conf',
  );
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /^ {6}auth_pass_file: \/etc\/lvsd\/vrrp-VI_1\.pass # .*vrrp-pass\.conf:5 auth_type PASS$/m);
  assert.match(r.stderr, new RegExp(`^${r.path}:6: auth_pass: the password of this line is not copied .*install -m 600 /dev/null /etc/lvsd/vrrp-VI_1\\.pass`, 'm'));
  assert.ok(!r.stdout.includes('Pw0rd') && !r.stderr.includes('Pw0rd'));
  // the YAML is valid for the director once the file exists (checked here without files)
  assert.deepEqual(parseDirectorConfig(r.stdout, 'imported.yaml', { checkFiles: false }).vrrp!.instances[0].authPass, { file: '/etc/lvsd/vrrp-VI_1.pass' });
});
