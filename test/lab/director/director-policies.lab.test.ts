// The director's policies on the real kernel, ipvsadm the judge: slow start ramps a recovered
// server's weight; quorum loss brings in the sorry server and hysteresis holds it there; a
// 1,000-service config reloads one changed server with exactly one write.
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, before, test } from 'node:test';
import { ipvsadm, setUpNamespace } from '../../support/ipvs-lab';
import { DirectorLab, listener, saved, until } from '../../support/director-lab';

const lab = new DirectorLab();
const listeners = new Map<number, Server>();

async function open(port: number): Promise<void> {
  if (!listeners.has(port)) listeners.set(port, await listener('127.0.0.1', port));
}
function close(port: number): void {
  listeners.get(port)?.close();
  listeners.delete(port);
}
const weightOf = (server: string) => Number(new RegExp(`-r ${server.replace(/\./g, '\\.')} -[gmi] -w (\\d+)`).exec(saved())?.[1] ?? NaN);

before(async () => {
  setUpNamespace();
  for (const port of [7101, 7201, 7202, 7203]) await open(port);
  lab.write(`${lab.global()}
check_defaults: { interval: 500ms, timeout: 1s, rise: 1, fall: 1 }
services:
  - name: ramp
    address: 198.18.0.30
    port: 80
    scheduler: wrr
    slow_start: 4s
    servers:
      - address: 198.18.2.1
        weight: 100
        checks: [{ type: tcp, host: 127.0.0.1, port: 7101 }]
  - name: quorum
    address: 198.18.0.31
    port: 80
    scheduler: wrr
    quorum: { weight: 2, hysteresis: 1 }
    sorry_server: { address: 198.18.2.99, port: 80 }
    servers:
      - address: 198.18.2.11
        checks: [{ type: tcp, host: 127.0.0.1, port: 7201 }]
      - address: 198.18.2.12
        checks: [{ type: tcp, host: 127.0.0.1, port: 7202 }]
      - address: 198.18.2.13
        checks: [{ type: tcp, host: 127.0.0.1, port: 7203 }]
`);
  lab.start();
  await until('all up', () => weightOf('198.18.2.1:80') === 100 && weightOf('198.18.2.13:80') === 1, 20_000);
});

after(async () => {
  await lab.kill();
  for (const port of [...listeners.keys()]) close(port);
});

test('slow start: a recovered server ramps from 1 to its weight over the duration', async () => {
  close(7101);
  await until('down', () => weightOf('198.18.2.1:80') === 0);
  await open(7101);
  const seen: number[] = [];
  const start = Date.now();
  while (Date.now() - start < 12_000) {
    const w = weightOf('198.18.2.1:80');
    if (seen[seen.length - 1] !== w) seen.push(w);
    if (w === 100) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`# slow start weights seen: ${seen.join(' -> ')} in ${Date.now() - start} ms (slow_start 4 s)`);
  assert.equal(seen[seen.length - 1], 100);
  assert.ok(seen.some((w) => w > 0 && w < 100), `an intermediate weight was seen: ${seen.join(',')}`);
  const ramp = seen.filter((w) => w > 0);
  assert.deepEqual([...ramp].sort((a, b) => a - b), ramp, 'the weight only grows');
});

test('quorum loss brings in the sorry server; hysteresis keeps it until quorum + hysteresis', async () => {
  // quorum 2, hysteresis 1: lost below 1, regained at 3
  close(7201);
  await until('one down', () => weightOf('198.18.2.11:80') === 0);
  assert.doesNotMatch(saved(), /198\.18\.2\.99/, 'up weight 2: quorum holds');
  close(7202);
  await until('sorry server in', () => weightOf('198.18.2.99:80') === 1);
  await open(7201);
  await until('server back', () => weightOf('198.18.2.11:80') === 1);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(weightOf('198.18.2.99:80'), 1, 'up weight 2 < quorum + hysteresis (3): the sorry server stays');
  await open(7202);
  await until('sorry server out', () => !/198\.18\.2\.99/.test(saved()));
  const st = lab.status().services.find((s) => s.name === 'quorum')!;
  assert.deepEqual(st.servers.map((s) => s.state), ['up', 'up', 'up']);
});

test('1,000 services: one changed server in the config is exactly one write', async () => {
  const big = new DirectorLab();
  const services = (changed: number) =>
    Array.from({ length: 1000 }, (_, i) => {
      const vip = `198.19.${i >> 8}.${i & 255}`;
      const w = i === 617 ? changed : 1;
      return `  - address: ${vip}\n    port: 80\n    servers:\n      - { address: 198.18.3.1, weight: ${w} }\n      - { address: 198.18.3.2 }\n`;
    }).join('');
  big.write(`${big.global()}services:\n${services(1)}`);
  // a second director of its own: another socket, state file and set of services
  await lab.kill();
  ipvsadm(['-C']);
  const started = Date.now();
  big.start();
  await until('2,000 servers programmed', () => saved().split('\n').filter((l) => l.startsWith('-a')).length === 2000, 120_000);
  console.log(`# 1,000 services x 2 programmed by a cold start in ${Date.now() - started} ms (emulated lab)`);
  const ops = big.status().reconcile.opsTotal;
  big.write(`${big.global()}services:\n${services(4)}`);
  const t0 = Date.now();
  const r = big.ctl(['reload']);
  console.log(`# reload of one changed weight among 1,000 services: ${Date.now() - t0} ms from the command to its answer (includes the CLI's start)`);
  assert.equal(r.stdout, 'reloaded: 1 IPVS operation applied\n', r.stderr);
  assert.equal(big.status().reconcile.opsTotal, ops + 1);
  assert.match(saved(), /-a -t 198\.19\.2\.105:80 -r 198\.18\.3\.1:80 -g -w 4/);
  await big.kill();
});
