// The VRRP notify programs of a director (DirectorVrrp, real raw sockets) whose peer runs in a
// second network namespace: a recording program, as keepalived's notify, gets
// `INSTANCE <name> MASTER|BACKUP|FAULT|STOP <priority>` and, for its sync group,
// `GROUP <name> <STATE> 0`, in the order of the transitions: BACKUP at start, MASTER when the
// higher-priority side takes over, STOP at a clean stop. Addresses from 198.18.77.0/24, only
// inside the namespaces.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../support/netns';
import { holds, runVrrp, vethPair, within, type Side } from '../../support/vrrp-pair';

const VIPS = ['198.18.77.10', '198.18.77.11'];
const RUN_MS = 14_000; // node start + master-down (3.4 s), twice if the sync group holds the first member back
const made: Netns[] = [];
after(() => {
  for (const ns of made) ns.destroy();
});

function config(side: Side, priority: number, notify?: string): string {
  const hook = notify ? `\n      notify: ${notify}` : '';
  return `services:
  - { name: web, address: ${VIPS[0]}, port: 80, servers: [{ address: 198.18.77.21 }] }
vrrp:
  instances:
    - name: VI_1
      interface: ${side.dev}
      vrid: 78
      priority: ${priority}
      addresses: [${VIPS[0]}/32]${hook}
    - name: VI_2
      interface: ${side.dev}
      vrid: 79
      priority: ${priority}
      addresses: [${VIPS[1]}/32]
  sync_groups:
    - name: G
      instances: [VI_1, VI_2]${notify ? `\n      notify: ${notify}` : ''}
`;
}

test("notify: keepalived's words and priority for BACKUP -> MASTER, the sync group's GROUP lines, and STOP at a clean stop", async () => {
  const [a, b] = vethPair(made);
  const record = join(a.ns.dir, 'notify.log');
  const program = join(a.ns.dir, 'notify.sh');
  writeFileSync(program, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${record}\n`, { mode: 0o755 });
  const runA = runVrrp(a, config(a, 150, program), RUN_MS);
  const runB = runVrrp(b, config(b, 100), RUN_MS);
  const took = await within(RUN_MS - 1000, () => VIPS.every((v) => holds(a, v)));
  const [ra, rb] = await Promise.all([runA, runB]);
  assert.ok(took, `A never held both VIPs\n${ra.log}`);
  assert.deepEqual(ra.status.map((s) => s.state), ['master', 'master'], ra.log);
  assert.deepEqual(rb.status.map((s) => s.state), ['backup', 'backup'], rb.log);
  // the instance's and the group's lines share one program, so one queue: the order is the events'
  assert.deepEqual(readFileSync(record, 'utf8').trimEnd().split('\n'), [
    'INSTANCE VI_1 BACKUP 150',
    'GROUP G BACKUP 0',
    'INSTANCE VI_1 MASTER 150',
    'GROUP G MASTER 0',
    'INSTANCE VI_1 STOP 150',
    'GROUP G STOP 0',
  ]);
});
