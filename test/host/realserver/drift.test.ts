// `status` shows what is in place and any drift, with a non-zero exit; `up` repairs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { netns } from '../../support/netns';

test('status reports a VIP removed by hand and a sysctl changed by hand, exit 2; up puts them back', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  assert.equal(ns.lvsd(['up', '--vip', '198.18.0.10', '--vip', '198.18.0.12', '--state', state]).status, 0);

  ns.must('ip', ['addr', 'del', '198.18.0.12/32', 'dev', 'lo']);
  ns.setSysctl('net.ipv4.conf.all.arp_announce', '0');
  const drifted = ns.lvsd(['status', '--state', state]);
  assert.equal(drifted.status, 2);
  assert.match(drifted.stdout, /DRIFT: VIP 198\.18\.0\.12 is missing from lo/);
  assert.match(drifted.stdout, /DRIFT: net\.ipv4\.conf\.all\.arp_announce is 0, want 2/);
  assert.match(drifted.stdout, /198\.18\.0\.10\/32 on lo label lo:0: ok/);

  const repair = ns.lvsd(['up', '--vip', '198.18.0.10', '--vip', '198.18.0.12', '--state', state]);
  assert.equal(repair.status, 0, repair.stderr);
  assert.match(repair.stdout, /added 198\.18\.0\.12\/32 to lo/);
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_announce'), '2');
  assert.equal(ns.lvsd(['status', '--state', state]).status, 0);

  // down still restores the values from before the first up, not those seen at the repair.
  assert.equal(ns.lvsd(['down', '--state', state]).status, 0);
  assert.equal(ns.sysctl('net.ipv4.conf.all.arp_announce'), '0');
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
});

test('status without a state file or VIPs says "not set up" and exits 3', (t) => {
  const ns = netns(t);
  const r = ns.lvsd(['status', '--state', join(ns.dir, 'none.json')]);
  assert.equal(r.status, 3);
  assert.match(r.stdout, /not set up/);
});
