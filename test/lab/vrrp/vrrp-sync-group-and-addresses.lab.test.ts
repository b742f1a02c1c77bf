// Two lvsd directors with a sync group of two instances (issue 20): VI_4 carries two IPv4
// addresses (a /32, and a /24 with a label), VI_6 an IPv6 one. The master holds all three and
// the backup none; a FAULT of one instance (its tracked interface down) moves the whole group to
// the backup, addresses, prefix and label included, and the group comes back together.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../../support/lab-topology';
import { PairLab, runAsync, type DirectorNode } from '../../support/vrrp-lab';

const lab = new PairLab();
const guard = (fn: () => Promise<void>) => lab.guard(fn);
const V4 = ['198.18.0.30', '198.18.0.31'];
const V6 = '2001:db8::30';

before(async () => {
  await lab.build();
  // dir-a's VI_4 tracks a link of its own; dir-b tracks nothing
  await runAsync('ip', ['-n', lab.a.ns, 'link', 'add', 'uplink0', 'type', 'dummy']);
  await runAsync('ip', ['-n', lab.a.ns, 'link', 'set', 'uplink0', 'up']);
});
after(async () => {
  await lab.teardown();
});

function config(node: DirectorNode, priority: number, track: boolean): string {
  return `${node.global()}services: []
vrrp:
  version: 3
  instances:
    - name: VI_4
      interface: eth0
      vrid: 53
      priority: ${priority}
      advert_interval: 1s
      addresses: [${V4[0]}/32, { address: ${V4[1]}, prefix: 24, label: "eth0:vip" }]
${track ? '      track_interfaces: [uplink0]\n' : ''}    - name: VI_6
      interface: eth0
      vrid: 54
      priority: ${priority}
      advert_interval: 1s
      addresses: [${V6}/128]
  sync_groups:
    - name: G
      instances: [VI_4, VI_6]
`;
}

const holdsAll = (n: DirectorNode) => V4.every((a) => n.holdsVip(a)) && n.holdsVip(V6);
const holdsNone = (n: DirectorNode) => !V4.some((a) => n.holdsVip(a)) && !n.holdsVip(V6);
const groupOn = (n: DirectorNode, other: DirectorNode) => () => holdsAll(n) && holdsNone(other);

/** `ip -o -4 addr show dev eth0` in the node's namespace. */
async function ipv4Lines(n: DirectorNode): Promise<string> {
  const r = await runAsync('ip', ['-n', n.ns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
  return r.stdout;
}

test('the master holds every address of both instances (prefix and label as configured), the backup none', guard(async () => {
  lab.a.start('lvsd', config(lab.a, 150, true));
  lab.b.start('lvsd', config(lab.b, 100, false));
  for (const i of ['VI_4', 'VI_6']) await lab.a.waitState('master', 60_000, i);
  for (const i of ['VI_4', 'VI_6']) await lab.b.waitState('backup', 30_000, i);
  await waitFor('the group on dir-a', groupOn(lab.a, lab.b), 15_000, 50);
  const lines = await ipv4Lines(lab.a);
  console.log(`# sync group: dir-a holds ${V4.join(', ')} and ${V6}; ${lines.split('\n').find((l) => l.includes(V4[1]))?.replace(/\s+/g, ' ').trim()}`);
  assert.match(lines, new RegExp(`inet ${V4[0].replace(/\./g, '\\.')}/32 `));
  assert.match(lines, new RegExp(`inet ${V4[1].replace(/\./g, '\\.')}/24 .*eth0:vip`));
}));

test('a FAULT of one instance moves the whole group: the backup holds all three addresses, with prefix and label', guard(async () => {
  const t0 = Date.now();
  await runAsync('ip', ['-n', lab.a.ns, 'link', 'set', 'uplink0', 'down']);
  await lab.a.waitState('fault', 30_000, 'VI_4');
  await waitFor('the group on dir-b', groupOn(lab.b, lab.a), 30_000, 50);
  const states = await Promise.all(['VI_4', 'VI_6'].map((i) => lab.a.vrrpState(i)));
  const lines = await ipv4Lines(lab.b);
  console.log(`# sync group: VI_4's tracked link down on dir-a: dir-a ${states.join('/')}, all three addresses on dir-b ${Date.now() - t0} ms later`);
  assert.deepEqual(states, ['fault', 'fault'], 'FAULT spreads through the group');
  assert.match(lines, new RegExp(`inet ${V4[1].replace(/\./g, '\\.')}/24 .*eth0:vip`));
}));

test('the link back: dir-a takes the whole group back by preemption', guard(async () => {
  const t0 = Date.now();
  await runAsync('ip', ['-n', lab.a.ns, 'link', 'set', 'uplink0', 'up']);
  await waitFor('the group back on dir-a', groupOn(lab.a, lab.b), 30_000, 50);
  console.log(`# sync group: back on dir-a ${Date.now() - t0} ms after the link came up`);
  for (const i of ['VI_4', 'VI_6']) assert.equal(await lab.b.vrrpState(i), 'backup');
  await Promise.all([lab.a.stop('SIGTERM'), lab.b.stop('SIGTERM')]);
  assert.ok(holdsNone(lab.a) && holdsNone(lab.b), 'a clean stop removes every address');
}));
