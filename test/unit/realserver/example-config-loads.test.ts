// The shipped example config loads into the expected request, and both copies are the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../realserver/config';

const REPO = join(__dirname, '../../../..');

test('config/realserver.example.yaml loads as dr mode with its three VIPs', () => {
  const config = resolveConfig({ config: join(REPO, 'config/realserver.example.yaml') }, { requireVips: true });
  assert.deepEqual(config, {
    mode: 'dr',
    vips: [
      { address: '198.18.0.10', family: 4 },
      { address: '198.18.0.11', family: 4 },
      { address: '2001:db8::10', family: 6 },
    ],
    tunnel: undefined,
    statePath: '/run/lvsd/realserver.json',
  });
});

test('realserver/realserver.example.yaml is the same file as config/realserver.example.yaml', () => {
  assert.equal(readFileSync(join(REPO, 'realserver/realserver.example.yaml'), 'utf8'), readFileSync(join(REPO, 'config/realserver.example.yaml'), 'utf8'));
});

test('the example tunnel section, uncommented, gives tun mode with a named device and local address', () => {
  const text = readFileSync(join(REPO, 'config/realserver.example.yaml'), 'utf8')
    .replace('mode: dr', 'mode: tun')
    .replace('  - 2001:db8::10\n', '')
    .replace(/^# (tunnel:|  \w+:.*)$/gm, '$1');
  const path = join(tmpdir(), `lvsd-example-tun-${process.pid}.yaml`);
  writeFileSync(path, text);
  const config = resolveConfig({ config: path }, { requireVips: true });
  assert.deepEqual(config.tunnel, { kind: 'ipip', device: 'tunl0', local: '192.0.2.21' });
});
