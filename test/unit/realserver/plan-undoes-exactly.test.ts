// The plans behind up and down, as pure functions of (request, observed system, previous state).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDown, planUp, conflicts, type Observed } from '../../../realserver/realserver';
import type { RealserverConfig } from '../../../realserver/config';

const LO = { index: 1, name: 'lo', up: true, flags: 0x9 };
const ETH = { index: 2, name: 'eth0', up: true, flags: 0x1003 };
const ARP_KEYS = ['lo.arp_ignore', 'lo.arp_announce', 'all.arp_ignore', 'all.arp_announce'].map((k) => `net.ipv4.conf.${k}`);

function observed(extra: Partial<Observed> & { sysctl?: Record<string, string> } = {}): Observed {
  const sysctls = new Map<string, string | undefined>(ARP_KEYS.map((k) => [k, '0']));
  for (const [k, v] of Object.entries(extra.sysctl ?? {})) sysctls.set(k, v);
  return {
    links: extra.links ?? [LO, ETH],
    addresses: extra.addresses ?? [{ index: 1, family: 4, address: '127.0.0.1', prefixlen: 8, label: 'lo', flags: 0x80, scope: 254 }],
    sysctls,
  };
}

const dr = (...vips: string[]): RealserverConfig => ({
  mode: 'dr',
  vips: vips.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  statePath: '/unused',
});

test('first up on a default host: add each VIP with the next lo:N label, set the four ARP sysctls, record zeros', () => {
  const plan = planUp(dr('198.18.0.10', '2001:db8::10', '198.18.0.11'), observed(), undefined);
  assert.deepEqual(plan.changes.filter((c) => c.kind === 'add-address').map((c) => c.kind === 'add-address' && c.address), [
    { address: '198.18.0.10', family: 4, prefixlen: 32, label: 'lo:0' },
    { address: '2001:db8::10', family: 6, prefixlen: 128 },
    { address: '198.18.0.11', family: 4, prefixlen: 32, label: 'lo:1' },
  ]);
  assert.deepEqual(plan.changes.filter((c) => c.kind === 'set-sysctl').map((c) => c.kind === 'set-sysctl' && `${c.key}=${c.to}`), [
    'net.ipv4.conf.lo.arp_ignore=1',
    'net.ipv4.conf.lo.arp_announce=2',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
  ]);
  assert.deepEqual(plan.state.sysctls.map((s) => s.before), ['0', '0', '0', '0']);
  assert.equal(plan.state.added.length, 3);
});

test('a VIP already on lo is left out of "added" (down keeps it), and its label is not reused', () => {
  const obs = observed({
    addresses: [{ index: 1, family: 4, address: '198.18.0.10', prefixlen: 32, label: 'lo:0', flags: 0x80, scope: 0 }],
    sysctl: { 'net.ipv4.conf.lo.arp_ignore': '2' },
  });
  const plan = planUp(dr('198.18.0.10', '198.18.0.11'), obs, undefined);
  assert.deepEqual(plan.state.added, [{ address: '198.18.0.11', family: 4, prefixlen: 32, label: 'lo:1' }]);
  assert.equal(plan.state.sysctls[0].before, '2');
  assert.match(plan.notes[0], /198\.18\.0\.10 was already on lo/);
});

test('a later up keeps the prior values recorded by the first, whatever the system shows now', () => {
  const first = planUp(dr('198.18.0.10'), observed({ sysctl: { 'net.ipv4.conf.all.arp_ignore': '2' } }), undefined);
  const now = observed({
    addresses: [{ index: 1, family: 4, address: '198.18.0.10', prefixlen: 32, label: 'lo:0', flags: 0x80, scope: 0 }],
    sysctl: { 'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2', 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' },
  });
  const second = planUp(dr('198.18.0.10'), now, first.state);
  assert.deepEqual(second.changes, []);
  assert.deepEqual(second.state.sysctls, first.state.sysctls);
  assert.deepEqual(second.state.added, first.state.added);
});

test('down removes only what was added and puts back exactly the recorded values', () => {
  const before = observed({
    addresses: [{ index: 1, family: 4, address: '198.18.0.10', prefixlen: 32, label: 'lo:5', flags: 0x80, scope: 0 }],
    sysctl: { 'net.ipv4.conf.lo.arp_ignore': '2', 'net.ipv4.conf.all.arp_announce': '1' },
  });
  const { state } = planUp(dr('198.18.0.10', '198.18.0.11'), before, undefined);
  const after = observed({
    addresses: [
      { index: 1, family: 4, address: '198.18.0.10', prefixlen: 32, label: 'lo:5', flags: 0x80, scope: 0 },
      { index: 1, family: 4, address: '198.18.0.11', prefixlen: 32, label: 'lo:0', flags: 0x80, scope: 0 },
    ],
    sysctl: { 'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2', 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' },
  });
  assert.deepEqual(
    planDown(state, after).map((c) => (c.kind === 'delete-address' ? `del ${c.address.address}` : c.kind === 'set-sysctl' ? `${c.key}=${c.to}` : c.kind)),
    ['del 198.18.0.11', 'net.ipv4.conf.lo.arp_ignore=2', 'net.ipv4.conf.lo.arp_announce=0', 'net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.all.arp_announce=1'],
  );
});

test('switching VIP sets (--force) retires the old VIPs lvsd added and keeps the original prior values', () => {
  const first = planUp(dr('198.18.0.10', '198.18.0.11'), observed({ sysctl: { 'net.ipv4.conf.lo.arp_ignore': '2' } }), undefined);
  const now = observed({
    addresses: [
      { index: 1, family: 4, address: '198.18.0.10', prefixlen: 32, label: 'lo:0', flags: 0x80, scope: 0 },
      { index: 1, family: 4, address: '198.18.0.11', prefixlen: 32, label: 'lo:1', flags: 0x80, scope: 0 },
    ],
    sysctl: { 'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2', 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' },
  });
  const switched = planUp(dr('198.18.0.11', '198.18.0.20'), now, first.state);
  assert.deepEqual(
    switched.changes.map((c) => (c.kind === 'delete-address' ? `del ${c.address.address}` : c.kind === 'add-address' ? `add ${c.address.address} ${c.address.label}` : c.kind)),
    ['del 198.18.0.10', 'add 198.18.0.20 lo:0'],
  );
  assert.equal(switched.state.sysctls[0].before, '2');
  assert.deepEqual(switched.state.added.map((a) => a.address), ['198.18.0.11', '198.18.0.20']);
});

test('tun mode: a missing tunnel device is created and brought up; rp_filter prior value of a new device is the default one', () => {
  const config: RealserverConfig = { mode: 'tun', vips: [{ address: '198.18.0.10', family: 4 }], tunnel: { kind: 'ipip', device: 'tunl0' }, statePath: '/unused' };
  const plan = planUp(config, observed({ sysctl: { 'net.ipv4.conf.all.rp_filter': '2', 'net.ipv4.conf.default.rp_filter': '1' } }), undefined);
  assert.deepEqual(plan.changes.slice(0, 3).map((c) => c.kind), ['create-tunnel', 'link-up', 'add-address']);
  assert.deepEqual(plan.state.tunnel, { kind: 'ipip', created: true });
  assert.equal(plan.state.deviceWasUp, false);
  assert.deepEqual(plan.state.sysctls.slice(4), [
    { key: 'net.ipv4.conf.tunl0.rp_filter', before: '1' },
    { key: 'net.ipv4.conf.all.rp_filter', before: '2' },
  ]);
});

test('a VIP on another interface is a conflict naming that interface; on lo it is not', () => {
  const obs = observed({ addresses: [{ index: 2, family: 4, address: '198.18.0.10', prefixlen: 24, flags: 0x80, scope: 0 }] });
  const found = conflicts([{ address: '198.18.0.10', family: 4 }], 'lo', obs);
  assert.equal(found.length, 1);
  assert.match(found[0], /^VIP 198\.18\.0\.10 is also configured on eth0: .* \(ip addr del 198\.18\.0\.10\/24 dev eth0\)$/);
  assert.deepEqual(conflicts([{ address: '198.18.0.10', family: 4 }], 'lo', observed()), []);
});
