// Bad input is refused with the place named: the flag, or file:line:column. All problems at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../src/errors';
import { parseVip, resolveConfig } from '../../../realserver/config';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-rs-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.message;
  }
  assert.fail('expected an InputError');
}

test('VIPs are canonicalised; prefixes, loopback, multicast, link-local and mapped addresses are refused', () => {
  assert.deepEqual(parseVip(' 198.18.0.10 ', '--vip'), { address: '198.18.0.10', family: 4 });
  assert.deepEqual(parseVip('2001:DB8:0::0010', '--vip'), { address: '2001:db8::10', family: 6 });
  assert.match(refusal(() => parseVip('198.18.0.10/32', '--vip')), /^--vip: VIP "198.18.0.10\/32" must be a single address without a prefix length/);
  assert.match(refusal(() => parseVip('127.0.0.5', '--vip')), /loopback/);
  assert.match(refusal(() => parseVip('224.0.0.1', '--vip')), /multicast/);
  assert.match(refusal(() => parseVip('0.1.2.3', '--vip')), /0\.0\.0\.0\/8/);
  assert.match(refusal(() => parseVip('fe80::1', '--vip')), /link-local/);
  assert.match(refusal(() => parseVip('::ffff:192.0.2.1', '--vip')), /IPv4-mapped/);
  assert.match(refusal(() => parseVip('::1', '--vip')), /loopback/);
  assert.equal(refusal(() => parseVip('198.18.0.010', 'x.yaml:3:5')), 'x.yaml:3:5: "198.18.0.010" is not an IPv4 or IPv6 address');
});

test('every problem in a config file is reported at once, each as file:line:column', () => {
  const path = file('bad.yaml', 'mode: direct\nvips:\n  - 198.18.0.10\n  - nope\n  - 198.18.0.10\ntunnel:\n  kind: vxlan\n  colour: red\n');
  const message = refusal(() => resolveConfig({ config: path }, { requireVips: true }));
  assert.deepEqual(message.split('\n'), [
    `${path}:1:7: mode: must be one of dr, tun, got "direct"`,
    `${path}:4:5: vips[1]: "nope" is not an IPv4 or IPv6 address`,
    `${path}:5:5: vips[2]: VIP 198.18.0.10 is listed twice (also vips[0])`,
    `${path}:7:9: tunnel.kind: must be one of ipip, gre, got "vxlan"`,
    `${path}:8:3: tunnel.colour: unknown key (known: kind, device, local)`,
  ]);
});

test('YAML syntax errors and a missing vips list name the place', () => {
  const broken = file('broken.yaml', 'vips: [198.18.0.10\nmode: dr\n');
  assert.match(refusal(() => resolveConfig({ config: broken }, { requireVips: true })), new RegExp(`^${broken}:\\d+:\\d+: `));
  const empty = file('novips.yaml', 'mode: dr\n');
  assert.equal(refusal(() => resolveConfig({ config: empty }, { requireVips: true })), `${empty}:1:1: missing required key "vips"`);
  const dup = file('dup.yaml', 'vips:\n  - 198.18.0.10\n  - 198.18.0.10\n');
  assert.equal(refusal(() => resolveConfig({ config: dup }, { requireVips: true })), `${dup}:3:5: vips[1]: VIP 198.18.0.10 is listed twice (also vips[0])`);
  const badLocal = file('local.yaml', 'mode: tun\nvips: [198.18.0.10]\ntunnel: { kind: gre, device: "has space", local: 2001:db8::2 }\n');
  assert.deepEqual(refusal(() => resolveConfig({ config: badLocal }, { requireVips: true })).split('\n'), [
    `${badLocal}:3:30: tunnel.device: must be an interface name (1-15 characters of A-Z a-z 0-9 _ . -), got "has space"`,
    `${badLocal}:3:50: tunnel.local: tunnel local address "2001:db8::2" is not an IPv4 address (ipip and gre run over IPv4)`,
  ]);
  assert.match(refusal(() => resolveConfig({ config: join(dir, 'absent.yaml') }, { requireVips: true })), /^--config .*absent\.yaml: cannot read/);
});

test('flags: no VIPs, both --vip and --config, a tunnel in dr mode, IPv6 in tun mode, a bad tunnel address', () => {
  assert.match(refusal(() => resolveConfig({}, { requireVips: true })), /no VIPs given: pass --vip ADDRESS \(repeatable\) or --config FILE/);
  const ok = file('ok.yaml', 'vips: [198.18.0.10]\n');
  assert.match(refusal(() => resolveConfig({ vip: ['198.18.0.11'], config: ok }, { requireVips: true })), /either as flags or in the config file, not both/);
  assert.match(refusal(() => resolveConfig({ vip: ['198.18.0.11'], tunnel: 'ipip' }, { requireVips: true })), /--tunnel: a tunnel is only used with --mode tun/);
  assert.match(refusal(() => resolveConfig({ vip: ['2001:db8::1'], mode: 'tun' }, { requireVips: true })), /TUN mode supports IPv4 VIPs only/);
  assert.match(refusal(() => resolveConfig({ vip: ['198.18.0.1'], mode: 'tun', tunnelLocal: '2001:db8::2' }, { requireVips: true })), /--tunnel-local: .* is not an IPv4 address/);
  assert.match(refusal(() => resolveConfig({ vip: ['198.18.0.1'], mode: 'tun', tunnelDevice: 'has space' }, { requireVips: true })), /--tunnel-device: "has space" is not a valid interface name/);
});

test('defaults: dr mode, /run/lvsd/realserver.json; tun mode defaults to ipip on tunl0 (gre on gre0)', () => {
  assert.deepEqual(resolveConfig({ vip: ['198.18.0.10'] }, { requireVips: true }), {
    mode: 'dr',
    vips: [{ address: '198.18.0.10', family: 4 }],
    tunnel: undefined,
    statePath: '/run/lvsd/realserver.json',
  });
  assert.deepEqual(resolveConfig({ vip: ['198.18.0.10'], mode: 'tun' }, { requireVips: true }).tunnel, { kind: 'ipip', device: 'tunl0' });
  assert.deepEqual(resolveConfig({ vip: ['198.18.0.10'], mode: 'tun', tunnel: 'gre' }, { requireVips: true }).tunnel, { kind: 'gre', device: 'gre0' });
});
