// `lvsd director run` on the real kernel, ipvsadm the judge: programs the config as written,
// leaves what it does not own, reloads by difference (zero writes when nothing changed), keeps
// serving on a bad reload, follows checks, repairs manual edits, drains before deleting, and a
// restart after SIGKILL changes nothing.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { after, before, test } from 'node:test';
import { ipvsadm, lvsdRun, setUpNamespace } from '../../support/ipvs-lab';
import { DirectorLab, listener, saved, until } from '../../support/director-lab';

const lab = new DirectorLab();
const listeners = new Map<number, Server>();

function config(opts: { weight21?: number; udpServers?: string[]; port?: number; sysctl?: string } = {}): string {
  const udp = (opts.udpServers ?? ['198.18.1.31', '198.18.1.32']).map((a) => `      - address: ${a}\n`).join('');
  return `${lab.global(`  timeouts: { udp: 2 }\n  resync: "* * * * * *"\n${opts.sysctl ? `  ipvs_sysctl: ${opts.sysctl}\n` : ''}`)}
services:
  - name: mysql
    address: 198.18.0.10
    port: ${opts.port ?? 3306}
    scheduler: wrr
    forward: dr
    check_defaults: { interval: 500ms, timeout: 1s, rise: 1, fall: 2 }
    servers:
      - address: 198.18.1.21
        weight: ${opts.weight21 ?? 2}
        checks: [{ type: tcp, host: 127.0.0.1, port: 7021 }]
      - address: 198.18.1.22
        checks: [{ type: tcp, host: 127.0.0.1, port: 7022 }]
  - name: dns
    protocol: udp
    address: 198.18.0.11
    port: 53
    scheduler: rr
    forward: nat
    drain_deadline: 60s
    servers:
${udp}`;
}

const lines = (text: string) => text.split('\n').filter(Boolean).sort();

before(async () => {
  setUpNamespace();
  // a service lvsd does not own: it must never be touched
  ipvsadm(['-A', '-t', '198.18.5.5:22', '-s', 'rr']);
  ipvsadm(['-a', '-t', '198.18.5.5:22', '-r', '198.18.5.6:22', '-m']);
  for (const port of [7021, 7022]) listeners.set(port, await listener('127.0.0.1', port));
  lab.write(config());
  lab.start();
});

after(async () => {
  await lab.kill();
  for (const s of listeners.values()) s.close();
});

test('the config is programmed as written; the service it does not own is left alone', async () => {
  const took = await until('both MySQL servers up', () => /198\.18\.1\.21:3306 -g -w 2/.test(saved()) && /198\.18\.1\.22:3306 -g -w 1/.test(saved()));
  // global.ipvs_sysctl's defaults, in this new namespace where the kernel starts them at 0
  for (const name of ['expire_nodest_conn', 'expire_quiescent_template']) assert.equal(readFileSync(`/proc/sys/net/ipv4/vs/${name}`, 'utf8'), '1\n', name);
  console.log(`# programmed and checks passed ${took} ms after the start`);
  assert.deepEqual(lines(saved()), lines(`-A -t 198.18.0.10:3306 -s wrr
-a -t 198.18.0.10:3306 -r 198.18.1.21:3306 -g -w 2
-a -t 198.18.0.10:3306 -r 198.18.1.22:3306 -g -w 1
-A -t 198.18.5.5:22 -s rr
-a -t 198.18.5.5:22 -r 198.18.5.6:22 -m -w 1
-A -u 198.18.0.11:53 -s rr
-a -u 198.18.0.11:53 -r 198.18.1.31:53 -m -w 1
-a -u 198.18.0.11:53 -r 198.18.1.32:53 -m -w 1
`));
  assert.equal(ipvsadm(['-L', '--timeout']), 'Timeout (tcp tcpfin udp): 900 120 2\n');
});

test('an identical reload makes zero writes', async () => {
  await until('settled', () => lab.status().services.every((s) => s.servers.every((x) => x.state === 'up')));
  const before = saved();
  const ops = lab.status().reconcile.opsTotal;
  const r = lab.ctl(['reload']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'reloaded: 0 IPVS operations applied\n');
  assert.equal(lab.status().reconcile.opsTotal, ops);
  assert.equal(saved(), before);
});

test('a changed weight is one write', () => {
  lab.write(config({ weight21: 5 }));
  const r = lab.ctl(['reload']);
  assert.equal(r.stdout, 'reloaded: 1 IPVS operation applied\n');
  assert.match(saved(), /198\.18\.1\.21:3306 -g -w 5/);
});

test('an invalid reload is rejected with file:line:column and the table keeps serving', () => {
  const before = saved();
  lab.write(config({ weight21: 5, port: 0 }));
  const r = lab.ctl(['reload']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /reload rejected, the running config keeps serving/);
  assert.match(r.stderr, new RegExp(`${lab.config.replace(/[.]/g, '\\.')}:\\d+:\\d+: services\\[0\\]\\.port`));
  assert.equal(saved(), before);
  lab.write(config({ weight21: 5 }));
  assert.equal(lab.ctl(['reload']).stdout, 'reloaded: 0 IPVS operations applied\n');
});

test('a failing check sets weight 0 within interval × fall + timeout; rise restores it', async () => {
  listeners.get(7022)!.close();
  listeners.delete(7022);
  const down = await until('weight 0', () => /198\.18\.1\.22:3306 -g -w 0/.test(saved()), 30_000);
  console.log(`# detection: weight 0 ${down} ms after the listener closed (interval 500 ms × fall 2 + timeout 1 s = 2 s; lab is emulated)`);
  assert.match(saved(), /198\.18\.1\.21:3306 -g -w 5/, 'the other server keeps its weight');
  const status = lab.status() as ReturnType<DirectorLab['status']> & { reconcile: { transitionToKernelMs?: { last: number; max: number } } };
  const st = status.services[0].servers.find((s) => s.address === '198.18.1.22')!;
  assert.equal(st.state, 'down');
  const latency = status.reconcile.transitionToKernelMs!;
  console.log(`# verdict to kernel: ${latency.last} ms (most so far ${latency.max} ms; emulated lab)`);
  assert.ok(latency.last > 0, 'the transition was measured');
  listeners.set(7022, await listener('127.0.0.1', 7022));
  const up = await until('weight back', () => /198\.18\.1\.22:3306 -g -w 1/.test(saved()), 30_000);
  console.log(`# recovery: weight back ${up} ms after the listener reopened (rise 1)`);
});

test('manual ipvsadm edits to its services are repaired by the resync', async () => {
  ipvsadm(['-e', '-t', '198.18.0.10:3306', '-r', '198.18.1.21:3306', '-g', '-w', '9']);
  ipvsadm(['-E', '-t', '198.18.0.10:3306', '-s', 'rr']);
  ipvsadm(['-a', '-t', '198.18.0.10:3306', '-r', '198.18.1.99:3306', '-g', '-w', '4']);
  const took = await until('repaired', () => {
    const s = saved();
    return /-A -t 198\.18\.0\.10:3306 -s wrr/.test(s) && /198\.18\.1\.21:3306 -g -w 5/.test(s) && !/198\.18\.1\.99/.test(s);
  });
  console.log(`# manual edits repaired ${took} ms later (resync every second; a stray server is drained, then deleted after a second read)`);
  assert.match(saved(), /-A -t 198\.18\.5\.5:22 -s rr/, 'the unmanaged service is still there');
});

test('drain and enable from the CLI, without a reload', () => {
  let r = lab.ctl(['drain', '198.18.1.21']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(saved(), /198\.18\.1\.21:3306 -g -w 0/);
  assert.equal(lab.status().services[0].servers[0].state, 'drained');
  r = lab.ctl(['enable', '198.18.1.21']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(saved(), /198\.18\.1\.21:3306 -g -w 5/);
  r = lab.ctl(['weight', '198.18.1.21:3306', '70000']);
  assert.equal(r.status, 2);
});

test('a server removed from the config keeps weight 0 while it has connections, then is deleted', async () => {
  // two UDP "connections", one per real server (rr), kept alive until the reload has been applied
  const socks = [createSocket('udp4'), createSocket('udp4')];
  for (const s of socks) await new Promise<void>((resolve) => s.bind(0, '198.18.0.1', () => resolve()));
  const send = () => Promise.all(socks.map((s) => new Promise<void>((resolve) => s.send(Buffer.from('q'), 53, '198.18.0.11', () => resolve()))));
  await send();
  const keepAlive = setInterval(() => void send(), 300);
  try {
    await until('connections counted', () => /198\.18\.1\.32:53\s+Masq\s+1\s+0\s+1/.test(ipvsadm(['-L', '-n'])), 30_000);
    lab.write(config({ weight21: 5, udpServers: ['198.18.1.31'] }));
    assert.equal(lab.ctl(['reload']).status, 0);
    assert.match(saved(), /198\.18\.1\.32:53 -m -w 0/, 'drained, not deleted, while its connection lives');
    await new Promise((r) => setTimeout(r, 1500));
    assert.match(saved(), /198\.18\.1\.32:53 -m -w 0/, 'still there while the connection lives');
  } finally {
    clearInterval(keepAlive);
    for (const s of socks) s.close();
  }
  const took = await until('deleted', () => !/198\.18\.1\.32/.test(saved()), 60_000);
  console.log(`# drained server deleted ${took} ms after its last datagram (the UDP connection expires after 2 s)`);
});

test('SIGKILL leaves the table; a restart adopts it with zero writes', async () => {
  const before = saved();
  await lab.kill('SIGKILL');
  assert.equal(saved(), before, 'the table stays after SIGKILL');
  lab.start();
  await until('the restarted director answers', () => lab.ctl(['status', '--json']).status === 0);
  await new Promise((r) => setTimeout(r, 1500)); // checks run, a resync happens
  assert.equal(lab.status().reconcile.opsTotal, 0, 'no write at restart');
  assert.equal(saved(), before);
});

test('plan prints what a start would apply now, and applies nothing', () => {
  let r = lvsdRun(['director', 'plan', '-c', lab.config]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '# nothing to do: the kernel already matches the config\n');
  const before = saved();
  lab.write(config({ weight21: 8, udpServers: ['198.18.1.31'] }));
  r = lvsdRun(['director', 'plan', '-c', lab.config]);
  assert.equal(r.stdout, '-e -t 198.18.0.10:3306 -r 198.18.1.21:3306 -g -w 8\n');
  assert.equal(saved(), before, 'nothing applied');
  lab.write(config({ weight21: 8, udpServers: ['198.18.1.31'], sysctl: '{ sloppy_tcp: 1 }' }));
  r = lvsdRun(['director', 'plan', '-c', lab.config]);
  assert.equal(r.stdout, 'sysctl -w net.ipv4.vs.sloppy_tcp=1\n-e -t 198.18.0.10:3306 -r 198.18.1.21:3306 -g -w 8\n');
  assert.equal(readFileSync('/proc/sys/net/ipv4/vs/sloppy_tcp', 'utf8'), '0\n', 'nothing set');
  lab.write(config({ weight21: 5, udpServers: ['198.18.1.31'] }));
});

test('a second director on the same host is refused', async () => {
  const second = lvsdRun(['director', 'run', '-c', lab.config]);
  assert.notEqual(second.status, 0);
  assert.match(second.stderr, /another director is running/);
  assert.equal(lab.ctl(['status', '--json']).status, 0, 'the first keeps running');
});

test('a bad config is refused at start with every problem named by file:line:column', () => {
  const bad = new DirectorLab();
  bad.write(`${bad.global()}
services:
  - address: 198.18.0.20
    port: 80
    scheduler: bogus
    servers:
      - address: 198.18.1.41
        weight: 70000
      - address: 198.18.1.41
    colour: blue
`);
  const r = lvsdRun(['director', 'run', '-c', bad.config]);
  assert.equal(r.status, 2, r.stderr);
  for (const key of ['services[0].scheduler', 'services[0].servers[0].weight', 'services[0].colour', 'services[0].servers[1]']) {
    assert.ok(r.stderr.includes(key), `names ${key}:\n${r.stderr}`);
  }
  assert.match(r.stderr, new RegExp(`${bad.config.replace(/[.]/g, '\\.')}:\\d+:\\d+: `));
  assert.doesNotMatch(saved(), /198\.18\.0\.20/, 'nothing programmed');
});
