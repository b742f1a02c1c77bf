// The director (daemon.ts) against the fake kernel with scripted checks: health drives weights,
// restarts adopt the table without a write, reloads apply only the difference, overrides persist.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { Director, type LoadedConfig } from '../../../src/director/daemon';
import type { ServiceSpec } from '../../../src/director/model';
import type { CheckSpec } from '../../../src/health/spec';
import type { Checker, CheckResult } from '../../../src/health/types';
import { FakeIpvs } from '../../../src/ipvs/fake';
import { server, service, tcpCheck } from '../../support/director-specs';

/** Checks whose verdict the test sets per target ("host:port"); unknown targets pass. */
class Verdicts {
  readonly ok = new Map<string, boolean>();
  readonly runs = new Map<string, number>();
  checker = (spec: CheckSpec): Checker => {
    const o = spec.options as { host: string; port: number };
    const target = `${o.host}:${o.port}`;
    return {
      kind: 'tcp',
      key: `tcp:${target}`,
      run: (): Promise<CheckResult> => {
        this.runs.set(target, (this.runs.get(target) ?? 0) + 1);
        const ok = this.ok.get(target) ?? true;
        return Promise.resolve({ ok, reason: ok ? 'connected' : 'connection refused', latencyMs: 0.2 });
      },
    };
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-'));
  const ipvs = new FakeIpvs();
  const verdicts = new Verdicts();
  const specs = (weightA = 2): ServiceSpec[] => [
    service('198.18.0.10', 3306, [server('198.18.0.21', 3306, weightA, [tcpCheck('198.18.0.21', 3306)]), server('198.18.0.22', 3306, 1, [tcpCheck('198.18.0.22', 3306)])]),
  ];
  const settings = { ipvsSysctl: { expire_nodest_conn: 1, expire_quiescent_template: 1 }, stateFile: join(dir, 'state.json'), resync: '0 0 1 1 *', flushOnExit: false };
  let current: () => LoadedConfig = () => ({ settings, services: specs() });
  // every director made is stopped when its test ends, also when the test fails: its timers
  // would otherwise keep this file's process alive
  const made: Director[] = [];
  const make = (now?: () => number) => {
    const d = new Director({
      ...(now ? { now } : {}),
      ipvs,
      load: () => current(),
      configPath: join(dir, 'director.yaml'),
      checker: verdicts.checker,
      log: pino({ level: 'silent' }),
    });
    made.push(d);
    return d;
  };
  const weights = async () => {
    const t = await ipvs.readTable();
    return Object.fromEntries((t[0]?.realServers ?? []).map((e) => [e.server.key.address, e.server.weight]));
  };
  return {
    dir,
    ipvs,
    verdicts,
    settings,
    specs,
    make,
    weights,
    setConfig: (f: () => LoadedConfig) => (current = f),
    config: () => current(),
    cleanup: async () => {
      for (const d of made) await d.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a failing check sets weight 0; passing again restores the configured weight', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const d = f.make();
  await d.start();
  await until('both servers up', async () => (await f.weights())['198.18.0.21'] === 2 && (await f.weights())['198.18.0.22'] === 1);
  f.verdicts.ok.set('198.18.0.22:3306', false);
  await until('weight 0 on the failed server', async () => (await f.weights())['198.18.0.22'] === 0);
  assert.equal((await f.weights())['198.18.0.21'], 2, 'the other server keeps its weight');
  const view = d.status().services[0].servers.find((s) => s.address === '198.18.0.22')!;
  assert.equal(view.state, 'down');
  assert.match(view.checks[0].lastReason ?? '', /refused/);
  f.verdicts.ok.set('198.18.0.22:3306', true);
  await until('weight back', async () => (await f.weights())['198.18.0.22'] === 1);
  await d.stop();
  assert.equal((await f.ipvs.readTable()).length, 1, 'stopping leaves the table as it is');
});

test('a restart adopts the table: zero writes, servers start up', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const first = f.make();
  await first.start();
  await until('up', async () => (await f.weights())['198.18.0.22'] === 1 && (await f.weights())['198.18.0.21'] === 2);
  await first.stop(); // as after SIGKILL, nothing is removed
  const writes = f.ipvs.applied.length;
  const sysctlWrites = f.ipvs.sysctlWrites;
  const second = f.make();
  await second.start();
  await new Promise((r) => setTimeout(r, 150)); // several check rounds
  assert.equal(f.ipvs.applied.length, writes, 'no write at restart');
  assert.equal(f.ipvs.sysctlWrites, sysctlWrites, 'no IPVS setting written at restart');
  assert.deepEqual(
    second.status().services[0].servers.map((s) => s.state),
    ['up', 'up'],
  );
  await second.stop();
});

test("taking over a table another manager left: a server missing from its service stays out until its check passes, with zero writes", async (t) => {
  // keepalived's way, as an imported config has it: servers start up, a failed one is removed
  const f = fixture();
  t.after(f.cleanup);
  const up = { initialState: 'fully-up' as const, rise: 2 };
  const specs = [
    service('198.18.0.10', 3306, [server('198.18.0.21', 3306, 1, [tcpCheck('198.18.0.21', 3306, up)]), server('198.18.0.22', 3306, 1, [tcpCheck('198.18.0.22', 3306, up)])], { onFailure: 'remove' }),
    service('198.18.0.11', 3306, [server('198.18.0.31', 3306, 1, [tcpCheck('198.18.0.31', 3306, up)])]),
  ];
  f.setConfig(() => ({ settings: f.settings, services: specs }));
  // keepalived removed .22 after its check failed; it left .21 at weight 1; it never had 198.18.0.11
  const key = specs[0].service.key;
  await f.ipvs.apply([
    { kind: 'add-service', service: specs[0].service },
    { kind: 'add-server', service: key, server: specs[0].servers[0].server },
  ]);
  const writes = f.ipvs.applied.length;
  f.verdicts.ok.set('198.18.0.22:3306', false);
  const d = f.make();
  await d.start();
  await new Promise((r) => setTimeout(r, 200)); // ten check rounds
  const table = await f.ipvs.readTable();
  const byKey = (address: string) => table.find((e) => e.service.key.address === address);
  assert.deepEqual(byKey('198.18.0.10')?.realServers.map((e) => e.server.key.address), ['198.18.0.21'], 'the failed server was not put back');
  assert.deepEqual(byKey('198.18.0.11')?.realServers.map((e) => [e.server.key.address, e.server.weight]), [['198.18.0.31', 1]], 'a service not in the kernel starts as configured (up)');
  assert.equal(f.ipvs.applied.length, writes + 2, 'the only writes: the new service and its server');
  f.verdicts.ok.set('198.18.0.22:3306', true);
  await until('the recovered server added', async () => (await f.weights())['198.18.0.22'] === 1);
});

test('IPVS settings are written where the kernel differs, and a persistent service that weight 0 would not stop is warned about', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const logged: { level: number; msg: string }[] = [];
  const d = new Director({
    ipvs: f.ipvs,
    load: () => f.config(),
    configPath: join(f.dir, 'director.yaml'),
    checker: f.verdicts.checker,
    log: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) }),
  });
  t.after(() => d.stop());
  await d.start();
  assert.equal(await f.ipvs.readSysctl('expire_nodest_conn'), 1);
  assert.equal(await f.ipvs.readSysctl('expire_quiescent_template'), 1);
  assert.equal(await f.ipvs.readSysctl('conn_reuse_mode'), 1, 'a setting not named stays as the kernel has it');
  assert.equal(f.ipvs.sysctlWrites, 2);
  assert.equal(logged.filter((l) => l.msg === 'IPVS setting changed').length, 2);
  const templates = /expire_quiescent_template is 0/;
  assert.ok(!logged.some((l) => templates.test(l.msg)), 'no warning while templates of weight-0 servers expire');

  // persistence, weight 0 on failure, and expire_quiescent_template 0: an operator must know
  const persistent = f.specs().map((s) => ({ ...s, service: { ...s.service, flags: 1, timeout: 300 } }));
  f.setConfig(() => ({ settings: { ...f.settings, ipvsSysctl: { expire_nodest_conn: 1, expire_quiescent_template: 0, sloppy_tcp: 1 } }, services: persistent }));
  await d.reload();
  assert.equal(await f.ipvs.readSysctl('expire_quiescent_template'), 0);
  assert.equal(await f.ipvs.readSysctl('sloppy_tcp'), 1);
  assert.equal(f.ipvs.sysctlWrites, 4, 'only the two that changed');
  const warning = logged.find((l) => templates.test(l.msg));
  assert.equal(warning?.level, 40);
  assert.match(warning?.msg ?? '', /expire_quiescent_template is 0: persistent clients of a failed server \(weight 0\) keep going to it/);

  f.setConfig(() => ({ settings: { ...f.settings, ipvsSysctl: { no_such_setting: 1 } }, services: persistent }));
  await d.reload();
  assert.ok(logged.some((l) => l.level === 50 && /net\.ipv4\.vs\.no_such_setting: no such IPVS setting in this kernel/.test(l.msg)), 'an unknown setting is named in an error');
});

test('reload applies only the difference, keeps check state, and rejects a bad config', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const d = f.make();
  await d.start();
  await until('up', async () => (await f.weights())['198.18.0.22'] === 1 && (await f.weights())['198.18.0.21'] === 2);
  const writes = f.ipvs.applied.length;
  // identical reload: nothing written
  let res = await d.reload();
  assert.deepEqual(res, { ok: true, ops: 0 });
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(f.ipvs.applied.length, writes);
  // one weight changed: one write
  const base = f.config();
  f.setConfig(() => ({ ...base, services: f.specs(5) }));
  res = await d.reload();
  assert.deepEqual(res, { ok: true, ops: 1 });
  assert.equal((await f.weights())['198.18.0.21'], 5);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(f.ipvs.applied.length, writes + 1, 'checks kept their state: no restart at the initial state');
  // a bad config: rejected with its errors, the running one keeps serving
  f.setConfig(() => {
    throw Object.assign(new Error('config has 1 error'), { errors: ['director.yaml:3:5: services[0].port: must be from 1 to 65535'] });
  });
  res = await d.reload();
  assert.equal(res.ok, false);
  assert.deepEqual(res.errors, ['director.yaml:3:5: services[0].port: must be from 1 to 65535']);
  assert.equal((await f.weights())['198.18.0.21'], 5);
  assert.equal(d.status().lastReload?.ok, false);
  await d.stop();
});

test('drain, weight and enable from the operator persist across a restart', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const d = f.make();
  await d.start();
  // both up first: an operator's weight applies to a server that is up (a down one stays at 0)
  await until('up', async () => (await f.weights())['198.18.0.21'] === 2 && (await f.weights())['198.18.0.22'] === 1);
  let r = await d.drain({ server: '198.18.0.21' });
  assert.equal(r.ok, true);
  assert.deepEqual(r.matched, ['198.18.0.10:3306/198.18.0.21:3306']);
  assert.equal((await f.weights())['198.18.0.21'], 0);
  r = await d.setWeight({ server: '198.18.0.22:3306' }, 7);
  assert.equal((await f.weights())['198.18.0.22'], 7);
  assert.equal((await d.drain({ server: '198.18.0.99' })).ok, false);
  // enable in the same run gives the configured weight back at once
  await d.enable({ server: '198.18.0.21' });
  assert.equal((await f.weights())['198.18.0.21'], 2);
  await d.drain({ server: '198.18.0.21' });
  assert.equal((await f.weights())['198.18.0.21'], 0);
  await d.stop();
  const again = f.make();
  await again.start();
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(await f.weights(), { '198.18.0.21': 0, '198.18.0.22': 7 });
  assert.equal(again.status().services[0].servers[0].state, 'drained');
  await again.enable({ server: '198.18.0.21:3306' });
  await again.enable({ server: '198.18.0.22' });
  assert.deepEqual(await f.weights(), { '198.18.0.21': 2, '198.18.0.22': 1 });
  await again.stop();
});

test('a maintenance window drains its servers for the duration, then gives them back', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const base = f.config();
  f.setConfig(() => ({
    ...base,
    // fires once, two seconds from now (then not for a minute)
    services: base.services.map((s) => ({ ...s, maintenance: [{ servers: [s.servers[0].id], schedule: `${(new Date().getSeconds() + 2) % 60} * * * * *`, durationMs: 1000 }] })),
  }));
  const d = f.make();
  await d.start();
  await until('in maintenance', async () => (await f.weights())['198.18.0.21'] === 0 && d.status().services[0].servers[0].state === 'maintenance', 4000);
  assert.equal((await f.weights())['198.18.0.22'], 1, 'only the window\'s servers');
  await until('out of maintenance', async () => (await f.weights())['198.18.0.21'] === 2, 3000);
  assert.equal(d.status().services[0].servers[0].state, 'up');
  await d.stop();
});

test('a maintenance window whose second passed while the process was busy opens late, for what is left of it', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const base = f.config();
  const fire = Math.floor(Date.now() / 1000) * 1000 + 2000;
  f.setConfig(() => ({
    ...base,
    services: base.services.map((s) => ({ ...s, maintenance: [{ servers: [s.servers[0].id], schedule: `${new Date(fire).getSeconds()} * * * * *`, durationMs: 4000 }] })),
  }));
  const d = f.make();
  await d.start();
  while (Date.now() < fire + 1300); // busy past the window's second: node-cron's timer wakes too late
  await until('in maintenance', async () => (await f.weights())['198.18.0.21'] === 0 && d.status().services[0].servers[0].state === 'maintenance', 1500);
  const opened = Date.now();
  await until('out of maintenance', async () => (await f.weights())['198.18.0.21'] === 2, 4000);
  const held = Date.now() - opened;
  assert.ok(held < 3500, `the window ends 4 s after its second, not 4 s after it opened late (held ${held} ms)`);
  await d.stop();
});

test('flush_on_exit deletes the services it owns on stop, and nothing else', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const other = service('198.18.5.5', 22, [server('198.18.5.6', 22)]);
  await f.ipvs.apply([{ kind: 'add-service', service: other.service }]);
  const base = f.config();
  f.setConfig(() => ({ ...base, settings: { ...base.settings, flushOnExit: true } }));
  const d = f.make();
  await d.start();
  assert.equal((await f.ipvs.readTable()).length, 2);
  await d.stop();
  assert.deepEqual((await f.ipvs.readTable()).map((e) => e.service.key.address), ['198.18.5.5']);
});

test('active: one: one server serves; when it fails the next serves, it keeps serving when the first is back, and a restart keeps it', async (t) => {
  const f = fixture();
  t.after(f.cleanup);
  const one = (): ServiceSpec[] => [{ ...f.specs()[0], active: 'one' }];
  f.setConfig(() => ({ settings: f.settings, services: one() }));
  // the director's clock, for the window of the first verdicts; the checks run on real time
  let clock = 1_000_000;
  // rs1's first checks fail: rs2 comes up first and serves
  f.verdicts.ok.set('198.18.0.21:3306', false);
  const first = f.make(() => clock);
  await first.start();
  await until('rs2 serves', async () => (await f.weights())['198.18.0.22'] === 1);
  // rs1 comes up while the first verdicts may still be coming: list order picks it
  f.verdicts.ok.set('198.18.0.21:3306', true);
  await until('rs1 serves, rs2 waits', async () => (await f.weights())['198.18.0.21'] === 2 && (await f.weights())['198.18.0.22'] === 0);
  assert.deepEqual(first.status().services[0].servers.map((s) => s.state), ['up', 'standby']);
  clock += 60_000; // every first verdict is in: from now on the server that serves keeps serving
  f.verdicts.ok.set('198.18.0.21:3306', false);
  await until('rs2 serves again', async () => (await f.weights())['198.18.0.22'] === 1);
  assert.equal((await f.weights())['198.18.0.21'], 0);
  f.verdicts.ok.set('198.18.0.21:3306', true);
  await until('rs1 up again, standby', () => first.status().services[0].servers[0].state === 'standby');
  assert.deepEqual(await f.weights(), { '198.18.0.21': 0, '198.18.0.22': 1 }, 'no failback');
  await first.stop();
  const writes = f.ipvs.applied.length;
  const second = f.make(() => clock);
  await second.start();
  await new Promise((r) => setTimeout(r, 150)); // several check rounds
  assert.deepEqual(await f.weights(), { '198.18.0.21': 0, '198.18.0.22': 1 }, 'the server the kernel weights keeps serving');
  assert.equal(f.ipvs.applied.length, writes, 'no write at restart');
});
