// Two directors' VRRP (DirectorVrrp from the director config, real raw sockets) in two network
// namespaces this test makes, joined by a veth pair, with VRRPv2 simple password authentication
// (auth_pass_file): the same password elects one master that holds the VIP, even when one side
// has it longer than 8 bytes (both use the first 8, as keepalived); different passwords, or a
// password on one side only, leave each deaf to the other (both MASTER) with every advert of the
// other counted as invalid 'auth'. In every case the password appears nowhere in the status, the
// metrics or the log (debug level). Addresses from 198.18.77.0/24, only inside the namespaces.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../support/netns';
import { holds, runVrrp, vethPair, within, type Ran, type Side } from '../../support/vrrp-pair';

const VIP = '198.18.77.10';
const RUN_MS = 15_000; // node start + master-down (3.6 s) with room for a busy machine: four of these start at once
const made: Netns[] = [];
after(() => {
  for (const ns of made) ns.destroy();
});

const pair = (): [Side, Side] => vethPair(made);

function config(side: Side, priority: number, password: string | undefined): string {
  let auth = '';
  if (password !== undefined) {
    const file = join(side.ns.dir, 'vrrp.pass');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    auth = `\n      auth_pass_file: ${file}`;
  }
  return `services:
  - { name: web, address: ${VIP}, port: 80, servers: [{ address: 198.18.77.21 }] }
vrrp:
  instances:
    - name: VI_1
      interface: ${side.dev}
      vrid: 77
      priority: ${priority}
      addresses: [${VIP}/32]${auth}
`;
}

function run(side: Side, text: string, rewrite?: string): Promise<Ran> {
  return runVrrp(side, text, RUN_MS, rewrite ? { file: join(side.ns.dir, 'vrrp.pass'), password: rewrite } : undefined);
}

function holdsVip(side: Side): boolean {
  return holds(side, VIP);
}

function assertNoSecret(r: Ran, secrets: string[], who: string): void {
  const places = { status: JSON.stringify(r.status), metrics: r.metrics, log: r.log, 'reload check': JSON.stringify(r.authChanges ?? {}) };
  for (const [place, text] of Object.entries(places)) {
    for (const s of secrets) assert.ok(!text.includes(s), `${who}: the password ${JSON.stringify(s)} is in the ${place}`);
  }
}

test('the same password (one side longer than 8 bytes): one master holds the VIP, the backup accepts its adverts, no advert is invalid; another password in the file is a change a reload names', async () => {
  const [a, b] = pair();
  // after the run A's file gets another password: what a reload would find
  const runA = run(a, config(a, 150, 'S3cr3t-p-and-more'), 'N3w-pass');
  const runB = run(b, config(b, 100, 'S3cr3t-p'));
  // A's master-down interval is 3 s + skew; leave room for node to start on a busy machine
  const tookVip = await within(RUN_MS - 1000, () => holdsVip(a));
  const bHeld = holdsVip(b);
  const [ra, rb] = await Promise.all([runA, runB]);
  assert.ok(tookVip, `A never held the VIP\n${ra.log}`);
  assert.equal(bHeld, false, 'B held the VIP too');
  const [sa, sb] = [ra.status[0], rb.status[0]];
  assert.equal(sa.state, 'master', ra.log);
  assert.equal(sb.state, 'backup', rb.log);
  assert.equal(sa.authentication, 'simple-password');
  assert.equal(sb.authentication, 'simple-password');
  assert.ok(sb.counters.received >= 2, `B accepted ${sb.counters.received} adverts`);
  assert.deepEqual(sa.counters.invalid, {});
  assert.deepEqual(sb.counters.invalid, {});
  // the longer password is cut with a warning that names the source, not the password
  assert.match(ra.log, /the password in file .*vrrp\.pass is longer than 8 bytes: only its first 8 are sent and checked, as keepalived does/);
  assert.doesNotMatch(rb.log, /longer than 8 bytes/);
  // a reload with the same file finds nothing; with another password in it, a change it names
  // without the password (the daemon then refuses the reload and asks for a restart)
  assert.deepEqual(ra.authChanges?.before, []);
  assert.equal(ra.authChanges?.after.length, 1);
  assert.match(ra.authChanges!.after[0], /^vrrp instance VI_1: the password in file .*vrrp\.pass changed$/);
  assertNoSecret(ra, ['S3cr3t', 'and-more', 'N3w'], 'A');
  assertNoSecret(rb, ['S3cr3t'], 'B');
});

test('different passwords, or a password on one side only: each ignores the other, both are MASTER, every advert counted as invalid auth', async () => {
  const [a, b] = pair();
  const [c, d] = pair();
  const runs = Promise.all([
    run(a, config(a, 150, 'S3cr3t-A')),
    run(b, config(b, 100, 'S3cr3t-B')),
    run(c, config(c, 150, 'S3cr3t-C')),
    run(d, config(d, 100, undefined)),
  ]);
  const both = await within(RUN_MS - 1000, () => holdsVip(a) && holdsVip(b) && holdsVip(c) && holdsVip(d));
  const [ra, rb, rc, rd] = await runs;
  assert.ok(both, 'not every side took the VIP: they heard each other');
  for (const [r, name] of [[ra, 'A'], [rb, 'B'], [rc, 'C'], [rd, 'D']] as const) {
    const s = r.status[0];
    assert.equal(s.state, 'master', `${name}\n${r.log}`);
    assert.equal(s.counters.received, 0, `${name} accepted an advert`);
    assert.ok((s.counters.invalid.auth ?? 0) >= 2, `${name}: invalid ${JSON.stringify(s.counters.invalid)}`);
    assert.match(r.metrics, /^lvsd_vrrp_adverts_invalid_total\{instance="VI_1",reason="auth"\} \d+$/m, name);
    assertNoSecret(r, ['S3cr3t'], name);
  }
  assert.equal(rd.status[0].authentication, 'none');
  assert.match(ra.log, /advert from 198\.18\.77\.3 ignored \(auth\): auth type 1 with a password other than this instance's/);
  assert.match(rc.log, /advert from 198\.18\.77\.3 ignored \(auth\): auth type 0 \(none\); this instance expects 1 \(simple password, auth_pass\)/);
  assert.match(rd.log, /advert from 198\.18\.77\.2 ignored \(auth\): auth type 1 \(simple password\); this instance has no authentication \(type 0\)/);
});
