// Two directors' VRRP (real raw sockets, two network namespaces) whose instance is misconfigured
// on one side, as keepalived 2.2.7 treats it: another address list, or another VRRPv2 advert
// interval. Each side refuses the other's adverts (both end MASTER: they take no part in the
// election), counts them as invalid by reason and not as received, and warns once per reason.
// Addresses from 198.18.77.0/24, only inside the namespaces.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Netns } from '../../support/netns';
import { runVrrp, vethPair, type Ran, type Side } from '../../support/vrrp-pair';

const RUN_MS = 12_000; // node start + master-down (3.6 s), then several adverts each way
const made: Netns[] = [];
after(() => {
  for (const ns of made) ns.destroy();
});

function config(side: Side, vip: string, interval: string): string {
  return `services:
  - { name: web, address: 198.18.77.10, port: 80, servers: [{ address: 198.18.77.21 }] }
vrrp:
  instances:
    - name: VI_1
      interface: ${side.dev}
      vrid: 80
      priority: 100
      advert_interval: ${interval}
      addresses: [${vip}/32]
`;
}

function assertRefused(r: Ran, reason: string, detail: RegExp, who: string): void {
  const s = r.status[0];
  assert.equal(s.state, 'master', `${who}\n${r.log}`);
  assert.equal(s.counters.received, 0, `${who} accepted an advert`);
  assert.ok((s.counters.invalid[reason] ?? 0) >= 2, `${who}: invalid ${JSON.stringify(s.counters.invalid)}`);
  assert.deepEqual(Object.keys(s.counters.invalid), [reason], who);
  assert.match(r.metrics, new RegExp(`^lvsd_vrrp_adverts_invalid_total\\{instance="VI_1",reason="${reason}"\\} ${s.counters.invalid[reason]}$`, 'm'), who);
  assert.match(r.metrics, /^lvsd_vrrp_adverts_received_total\{instance="VI_1"\} 0$/m, who);
  const warnings = r.log.split('\n').filter((l) => l.includes('"level":40') && l.includes('ignored ('));
  assert.equal(warnings.length, 1, `${who}: one warning for the reason\n${warnings.join('\n')}`);
  assert.match(warnings[0], detail, who);
}

test('another address list or another VRRPv2 interval on the peer: its adverts are invalid "addresses" / "interval", not received, and elect nothing', async () => {
  const [a, b] = vethPair(made);
  const [c, d] = vethPair(made);
  const [ra, rb, rc, rd] = await Promise.all([
    runVrrp(a, config(a, '198.18.77.10', '1s'), RUN_MS),
    runVrrp(b, config(b, '198.18.77.11', '1s'), RUN_MS),
    runVrrp(c, config(c, '198.18.77.10', '1s'), RUN_MS),
    runVrrp(d, config(d, '198.18.77.10', '2s'), RUN_MS),
  ]);
  assertRefused(ra, 'addresses', /advert from 198\.18\.77\.3 ignored \(addresses\): addresses \[198\.18\.77\.11\], ours are \[198\.18\.77\.10\]/, 'A');
  assertRefused(rb, 'addresses', /ignored \(addresses\): addresses \[198\.18\.77\.10\], ours are \[198\.18\.77\.11\]/, 'B');
  assertRefused(rc, 'interval', /advert from 198\.18\.77\.3 ignored \(interval\): advert interval 2000 ms, ours is 1000 ms/, 'C');
  assertRefused(rd, 'interval', /ignored \(interval\): advert interval 1000 ms, ours is 2000 ms/, 'D');
});
