// Notify hooks run real programs: with the event as arguments, one at a time per program in the
// order of the events, a hung one killed, one that others could replace refused; and a director's
// service `notify` hears its servers go down and up and its quorum go and come back.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { Director, type LoadedConfig } from '../../../src/director/daemon';
import { Hooks } from '../../../src/director/notify';
import type { CheckSpec } from '../../../src/health/spec';
import type { Checker, CheckResult } from '../../../src/health/types';
import { FakeIpvs } from '../../../src/ipvs/fake';
import { server, service, tcpCheck } from '../../support/director-specs';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-notify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A hook that appends its arguments to `out`, after sleeping $SLEEP_<first arg> seconds if set. */
function recorder(name: string, body = ''): { path: string; out: string; lines: () => string[] } {
  const path = join(dir, name);
  const out = join(dir, `${name}.out`);
  writeFileSync(path, `#!/bin/sh\n${body}\necho "$*" >> ${out}\n`);
  chmodSync(path, 0o755);
  return { path, out, lines: () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []) };
}

function logs(): { log: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  return { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }), lines };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a hook gets its event as arguments, one run at a time in the order of the events', async () => {
  // the first run is the slowest: run side by side, its line would come last
  const hook = recorder('order', 'case "$1" in first) sleep 0.3;; esac');
  const { log } = logs();
  const hooks = new Hooks(log);
  hooks.run(hook.path, ['first', 'a b']);
  hooks.run(hook.path, ['second']);
  hooks.run(hook.path, ['third', '$(id)', ';', '*']);
  await hooks.settled();
  assert.deepEqual(hook.lines(), ['first a b', 'second', 'third $(id) ; *'], 'in order, each argument as given, no shell');
});

test('a hung hook is killed at its deadline and the next one still runs; a failing one is logged', async () => {
  const hung = recorder('hung', 'case "$1" in hang) exec sleep 30;; fail) exit 3;; esac');
  const { log, lines } = logs();
  const hooks = new Hooks(log, 200);
  const started = Date.now();
  hooks.run(hung.path, ['hang']);
  hooks.run(hung.path, ['fail']);
  hooks.run(hung.path, ['after']);
  await hooks.settled();
  assert.ok(Date.now() - started < 5000, 'not held by the hung run');
  assert.deepEqual(hung.lines(), ['after'], 'the killed and the failing runs wrote nothing');
  assert.ok(lines.some((l) => l.level === 40 && /hang exited SIGKILL \(killed after 200 ms\)$/.test(l.msg)), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.level === 40 && /fail exited 3$/.test(l.msg)));
});

test('a hook that is missing, not executable or writable by others is refused and logged, never run', async (t) => {
  const { log, lines } = logs();
  const hooks = new Hooks(log);
  const plain = recorder('plain');
  chmodSync(plain.path, 0o644);
  hooks.run(join(dir, 'none'), ['x']);
  hooks.run(plain.path, ['x']);
  const open = recorder('open');
  chmodSync(open.path, 0o777);
  hooks.run(open.path, ['x']);
  await hooks.settled();
  assert.match(lines[0]?.msg ?? '', /: cannot run .*\/none: no such file$/);
  assert.match(lines[1]?.msg ?? '', /: cannot run .*\/plain: not executable \(mode 0644\)$/);
  assert.deepEqual(plain.lines(), []);
  if (process.getuid?.() !== 0) return t.diagnostic('not root: the ownership rules apply to root only');
  assert.match(lines[2]?.msg ?? '', /refusing to run .*\/open as root: .*\/open is writable by group or others \(mode 0777\)$/);
  assert.deepEqual(open.lines(), []);
});

test("a service's notify hears its servers go down and up, and its quorum go and come back", async (t) => {
  const hook = recorder('service');
  const ok = new Map<string, boolean>();
  const checker = (spec: CheckSpec): Checker => {
    const o = spec.options as { host: string; port: number };
    return { kind: 'tcp', key: `tcp:${o.host}:${o.port}`, run: (): Promise<CheckResult> => Promise.resolve({ ok: ok.get(o.host) ?? true, reason: 'scripted', latencyMs: 0.1 }) };
  };
  const specs = [
    service('198.18.0.10', 3306, [server('198.18.0.21', 3306, 1, [tcpCheck('198.18.0.21', 3306)]), server('198.18.0.22', 3306, 1, [tcpCheck('198.18.0.22', 3306)])], { notify: hook.path, quorum: 2, name: 'mysql' }),
  ];
  const config: LoadedConfig = { settings: { ipvsSysctl: {}, stateFile: join(dir, 'state.json'), resync: '0 0 1 1 *', flushOnExit: false }, services: specs };
  const ipvs = new FakeIpvs();
  const d = new Director({ ipvs, load: () => config, configPath: join(dir, 'director.yaml'), checker, log: pino({ level: 'silent' }) });
  t.after(() => d.stop());
  await d.start();
  await until('both up', () => hook.lines().length === 3);
  assert.deepEqual(hook.lines().sort(), ['QUORUM mysql UP', 'SERVER mysql 198.18.0.21:3306 UP', 'SERVER mysql 198.18.0.22:3306 UP']);
  ok.set('198.18.0.22', false);
  await until('down', () => hook.lines().length === 5);
  assert.deepEqual(hook.lines().slice(3), ['SERVER mysql 198.18.0.22:3306 DOWN', 'QUORUM mysql DOWN']);
  ok.set('198.18.0.22', true);
  await until('up again', () => hook.lines().length === 7);
  assert.deepEqual(hook.lines().slice(5), ['SERVER mysql 198.18.0.22:3306 UP', 'QUORUM mysql UP']);
});
