// A director config (YAML) turned into IPVS services and real servers (src/director/spec.ts), and
// what `lvsd director plan` prints for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDirectorConfig } from '../../../src/config/director';
import { formatPlan } from '../../../src/director/plan';
import { loadedConfigOf } from '../../../src/director/spec';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2 } from '../../../src/ipvs/flags';
import type { IpvsOp } from '../../../src/ipvs/types';

const YAML = `
global:
  timeouts: { tcp: 900, udp: 60 }
  state_file: /tmp/lvsd-unit-state.json
services:
  - name: readers
    address: 198.18.0.10
    port: 3306
    scheduler: sh
    scheduler_flags: [sh-fallback, sh-port]
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    forward: dr
    quorum: { weight: 2, hysteresis: 1 }
    sorry_server: { address: 198.18.0.99, port: 3306 }
    slow_start: 30s
    servers:
      - address: 198.18.1.21
        weight: 3
        thresholds: { upper: 100, lower: 10 }
      - address: 198.18.1.22
        port: 3307
        forward: tunnel
        tunnel: { type: gue, port: 6080, checksum: csum }
  - fwmark: 7
    family: inet6
    one_packet: true
    scheduler: rr
    servers:
      - address: 2001:db8::21
`;

test('services, flags, persistence, servers, tunnels and policies come out as IPVS objects', () => {
  const loaded = loadedConfigOf(parseDirectorConfig(YAML, 'director.yaml', { checkFiles: false }));
  assert.deepEqual(loaded.settings.timeouts, { tcp: 900, tcpFin: undefined, udp: 60 });
  const [readers, marked] = loaded.services;
  assert.equal(readers.name, 'readers');
  assert.deepEqual(readers.service.key, { family: 'inet', protocol: 'tcp', address: '198.18.0.10', port: 3306 });
  assert.equal(readers.service.flags, SVC_F_PERSISTENT | SVC_F_SCHED1 | SVC_F_SCHED2);
  assert.equal(readers.service.timeout, 300);
  assert.equal(readers.service.netmask, '255.255.255.0');
  assert.equal(readers.quorum, 2);
  assert.equal(readers.hysteresis, 1);
  assert.equal(readers.slowStartMs, 30_000);
  assert.equal(readers.sorry?.key.address, '198.18.0.99');
  assert.deepEqual(readers.servers[0].server, { key: { family: 'inet', address: '198.18.1.21', port: 3306 }, forward: 'route', weight: 3, upperThreshold: 100, lowerThreshold: 10 });
  assert.deepEqual(readers.servers[1].server, {
    key: { family: 'inet', address: '198.18.1.22', port: 3307 },
    forward: 'tunnel',
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnelType: 'gue',
    tunnelPort: 6080,
    tunnelChecksum: 'csum',
  });
  assert.deepEqual(marked.service.key, { family: 'inet6', fwmark: 7 });
  assert.equal(marked.service.flags, SVC_F_ONEPACKET);
  assert.equal(marked.service.netmask, 128);
  assert.equal(marked.servers[0].server.key.port, 0);
});

test('plan prints ipvsadm lines', () => {
  const loaded = loadedConfigOf(parseDirectorConfig(YAML, 'director.yaml', { checkFiles: false }));
  const [readers] = loaded.services;
  const ops: IpvsOp[] = [
    { kind: 'add-service', service: readers.service },
    { kind: 'add-server', service: readers.service.key, server: readers.servers[0].server },
    { kind: 'edit-server', service: readers.service.key, server: { ...readers.servers[0].server, weight: 0 } },
    { kind: 'delete-server', service: readers.service.key, server: readers.servers[1].server.key },
    { kind: 'delete-service', service: readers.service.key },
  ];
  assert.equal(
    formatPlan(ops),
    `-A -t 198.18.0.10:3306 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 198.18.0.10:3306 -r 198.18.1.21:3306 -g -w 3 -x 100 -y 10
-e -t 198.18.0.10:3306 -r 198.18.1.21:3306 -g -w 0 -x 100 -y 10
-d -t 198.18.0.10:3306 -r 198.18.1.22:3307
-D -t 198.18.0.10:3306
`,
  );
  assert.equal(formatPlan([]), '# nothing to do: the kernel already matches the config\n');
});
