// A reload hands the running config to loadedConfigOf: a service whose parsed config is unchanged
// keeps its spec object (the director then skips it); any change, and any service whose checks
// read files when made, gets a new spec.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDirectorConfig, type ServiceConfig } from '../../../src/config/director';
import { loadedConfigOf, sameServiceConfig } from '../../../src/director/spec';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-spec-reuse-'));
const pw = join(dir, 'pw');
writeFileSync(pw, 'secret\n', { mode: 0o600 });

const yaml = (weight: number) => `
global:
  state_file: ${join(dir, 'state.json')}
services:
  - name: full
    address: 198.18.0.10
    port: 3306
    scheduler: sh
    scheduler_flags: [sh-fallback]
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    persistence_engine: sip
    forward: dr
    quorum: { weight: 2, hysteresis: 1 }
    sorry_server: { address: 198.18.0.99, port: 3306 }
    slow_start: 30s
    all_down: sorry
    checks: [{ type: tcp, interval: 2s }]
    servers:
      - address: 198.18.1.21
        weight: ${weight}
        thresholds: { upper: 100, lower: 10 }
        checks: [{ type: tcp, port: 81 }]
      - address: 198.18.1.22
        port: 3307
        forward: tunnel
        tunnel: { type: gue, port: 6080, checksum: csum }
    maintenance: [{ servers: ["198.18.1.21:3306"], schedule: "0 3 * * *", duration: 10m }]
  - address: 198.18.0.11
    port: 80
    servers: [{ address: 198.18.1.31 }]
  - address: 198.18.0.12
    port: 3306
    servers: [{ address: 198.18.1.41 }]
    checks: [{ type: mysql, user: monitor, password_file: ${pw} }]
`;

test('an unchanged service keeps its spec object; a changed one and one with MySQL checks are made again', () => {
  const first = loadedConfigOf(parseDirectorConfig(yaml(3), 'a.yaml'));
  const same = loadedConfigOf(parseDirectorConfig(yaml(3), 'a.yaml'), first);
  assert.equal(same.services[0], first.services[0]);
  assert.equal(same.services[1], first.services[1]);
  assert.notEqual(same.services[2], first.services[2], 'a MySQL-check service is remade (its password file is read again)');
  const changed = loadedConfigOf(parseDirectorConfig(yaml(4), 'a.yaml'), same);
  assert.notEqual(changed.services[0], same.services[0]);
  assert.equal(changed.services[0].servers[0].server.weight, 4);
  assert.equal(changed.services[1], first.services[1]);
});

test('services that moved in the file keep their specs; a new one is made', () => {
  const first = loadedConfigOf(parseDirectorConfig(yaml(3), 'a.yaml'));
  const parsed = parseDirectorConfig(yaml(3), 'a.yaml');
  const [full, web] = parsed.services;
  const extra: ServiceConfig = { ...web, name: '198.18.0.13:80', key: { family: 'inet', protocol: 'tcp', address: '198.18.0.13', port: 80 } };
  const moved = loadedConfigOf({ ...parsed, services: [extra, web, full] }, first);
  assert.equal(moved.services[1], first.services[1]);
  assert.equal(moved.services[2], first.services[0]);
  assert.notEqual(moved.services[0], first.services[1]);
  assert.equal(moved.services[0].service.key.address, '198.18.0.13');
});

test('a change to any field of a parsed service makes it differ', () => {
  const base = parseDirectorConfig(yaml(3), 'a.yaml').services[0];
  assert.ok(sameServiceConfig(base, structuredClone(base) as ServiceConfig));
  const leaves: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    } else leaves.push(path);
  };
  walk(base, []);
  assert.ok(leaves.length > 50, `only ${leaves.length} fields`);
  for (const path of leaves) {
    const copy = structuredClone(base) as unknown as Record<string | number, unknown>;
    let o = copy;
    for (const seg of path.slice(0, -1)) o = o[seg] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    const v = o[last];
    o[last] = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : `${String(v)}x`;
    assert.equal(sameServiceConfig(base, copy as unknown as ServiceConfig), false, `a change at ${path.join('.')} went unseen`);
  }
});
