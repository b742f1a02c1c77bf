// Director benchmark on the host (real CPU, FakeIpvs in place of the kernel). Each mode prints a
// markdown block with the load beside every figure; scripts/bench-director.sh collects them into
// bench/results/director.md.
//
//   node dist/bench/director-bench.js reload  [--services 10000] [--runs 5]
//        parse time and parsed-file-to-write time of a one-weight reload; an identical reload
//        must make zero writes
//   node dist/bench/director-bench.js rss     [--services 10000] [--interval 60s] [--snapshot FILE]
//        the daemon's RSS with services × 4 TCP checks to loopback listeners; the live heap after
//        a full GC at the end (and a heap snapshot of it)
//   node --expose-gc dist/bench/director-bench.js heap [--services 2500] [--snapshot FILE]
//        heap used after a full GC: before, after the config load, and 2 s after a Director
//        started with services × 4 TCP checks (nothing listening, interval 60 s), per server
//   node dist/bench/director-bench.js checks  [--services 1000] [--seconds 20] [--attempts 3]
//        4 checks per service at 1 s inside the director: checks/s (checker and listener), CPU,
//        CPU wait; a run whose checker waited for a CPU > 10 % of the wall time is refused
//   node dist/bench/director-bench.js starve  [--services 1000] [--seconds 20]
//        the same under CPU starvation (event-loop stalls, busy loops beside a niced daemon):
//        every target is up, so any down transition is false
//   node dist/bench/director-bench.js detect  [--services 1000] [--fail 40] [--how refused|dropped]
//        detection time with the other checks running: connection refused (the listeners close),
//        or silently dropped (an nftables rule in a network namespace of the bench's own drops
//        every packet to the failed targets, as when servers vanish: no answer at all); the other
//        checks' rate and the event-loop lag in the window show whether anything stalled
import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import pino from 'pino';
import { loadDirectorConfig } from '../src/config/director';
import { Director } from '../src/director/daemon';
import { loadedConfigOf } from '../src/director/spec';
import { createChecker, type CheckSpec } from '../src/health/spec';
import { TcpChecker } from '../src/health/tcp';
import type { Checker } from '../src/health/types';
import { FakeIpvs } from '../src/ipvs/fake';
import type { ApplyOptions, ApplyResult, IpvsOp } from '../src/ipvs/types';
import { directorYaml, targetAddress, type BenchConfig } from './director-config';
import { cpuShareProbe, loadavg, rssBytes, schedstat, waitShare, wallNow, type SchedStat } from './director-load';

const HARD_LIMIT_MS = 600_000;
// the health monitor's transition log (thousands of lines at start) stays off the terminal
process.env.LVSD_LOG_LEVEL ??= 'warn';
const WAIT_LIMIT = 0.1; // refuse a run whose checker waited for a CPU longer than this share of wall time
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const begun = performance.now();
const progress = (what: string): void => {
  process.stderr.write(`bench: ${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}\n`);
};
const f = (n: number, d = 1): string => n.toFixed(d);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Args {
  mode: string;
  services?: number;
  runs: number;
  seconds: number;
  attempts: number;
  interval: string;
  fail: number;
  snapshot?: string;
  how: 'refused' | 'dropped';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { mode: argv[0] ?? '', runs: 5, seconds: 20, attempts: 3, interval: '60s', fail: 40, how: 'refused' };
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i];
    const num = (max: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${k}: an integer from 1 to ${max}`);
      return v;
    };
    if (k === '--services') a.services = num(16_000);
    else if (k === '--runs') a.runs = num(50);
    else if (k === '--seconds') a.seconds = num(120);
    else if (k === '--attempts') a.attempts = num(10);
    else if (k === '--interval') a.interval = String(argv[++i]);
    else if (k === '--fail') a.fail = num(1000);
    else if (k === '--snapshot') a.snapshot = String(argv[++i]);
    else if (k === '--how') {
      const how = argv[++i];
      if (how !== 'refused' && how !== 'dropped') throw new Error(`--how: refused or dropped, got ${how}`);
      a.how = how;
    }
    else throw new Error(`unknown option ${k}`);
  }
  if (!/^\d+(ms|s)$/.test(a.interval)) throw new Error(`--interval: a duration like 60s, got ${a.interval}`);
  return a;
}

function machine(): string {
  return `${new Date().toISOString()}, ${cpus().length} CPU (${cpus()[0]?.model ?? '?'}), node ${process.version}`;
}

/**
 * FakeIpvs that notes when each apply call came and what it held. `lean`: it forgets the ops once
 * counted (the fake's own history would otherwise be counted in the daemon's RSS).
 */
class TimedFakeIpvs extends FakeIpvs {
  readonly calls: { at: number; cpuUs: number; ops: IpvsOp[] }[] = [];
  downWrites = 0;
  upWrites = 0;
  /** wall ms of every weight-0 write, by real server address */
  readonly downAt = new Map<string, number[]>();

  constructor(private readonly lean = false) {
    super();
  }

  override apply(ops: readonly IpvsOp[], opts?: ApplyOptions): Promise<ApplyResult> {
    const cpu = process.cpuUsage();
    const at = wallNow();
    for (const op of ops) {
      if (op.kind !== 'edit-server') continue;
      if (op.server.weight > 0) this.upWrites++;
      else {
        this.downWrites++;
        const list = this.downAt.get(op.server.key.address);
        if (list) list.push(at);
        else this.downAt.set(op.server.key.address, [at]);
      }
    }
    if (!this.lean) this.calls.push({ at, cpuUs: cpu.user + cpu.system, ops: [...ops] });
    const done = super.apply(ops, opts);
    if (this.lean) void done.then(() => (this.applied.length = 0));
    return done;
  }
}

// ---- 1. reload: parsed file to the one write ----

async function benchReload(a: Args): Promise<string> {
  const services = a.services ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-bench-'));
  const c: BenchConfig = { services, perService: 4, dir, firstWeight: 1 };
  const path = join(dir, 'director.yaml');
  writeFileSync(path, directorYaml(c));
  const ipvs = new TimedFakeIpvs();
  let parsedAt = 0;
  let parsedCpuUs = 0;
  let parseMs = 0;
  // garbage collection inside the parsed-file-to-write span
  const gcs: { start: number; ms: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: performance.timeOrigin + e.startTime, ms: e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const director = new Director({
    ipvs,
    load: (previous) => {
      const loadAt = wallNow();
      const config = loadDirectorConfig(path);
      parsedAt = wallNow();
      const cpu = process.cpuUsage();
      parsedCpuUs = cpu.user + cpu.system;
      parseMs = parsedAt - loadAt;
      return loadedConfigOf(config, previous);
    },
    configPath: path,
    log: pino({ level: 'silent' }),
  });
  const load0 = loadavg();
  const probe0 = cpuShareProbe();
  const s0 = schedstat();
  const t0 = wallNow();
  await director.start();
  const coldMs = wallNow() - t0;
  const coldParseMs = parseMs;
  const coldOps = ipvs.applied.length;
  if (coldOps !== services * 5) throw new Error(`cold start applied ${coldOps} ops, expected ${services * 5}`);
  progress(`cold start: ${f(coldMs)} ms (${coldOps} ops, parse ${f(coldParseMs)} ms)`);

  // identical reload: zero writes
  const identical: { parseMs: number; totalMs: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const calls = ipvs.applyCalls;
    const applied = ipvs.applied.length;
    const r0 = wallNow();
    const r = await director.reload();
    if (!r.ok || r.ops !== 0 || ipvs.applyCalls !== calls || ipvs.applied.length !== applied) {
      throw new Error(`identical reload wrote: ${JSON.stringify(r)}, apply calls ${ipvs.applyCalls - calls}`);
    }
    identical.push({ parseMs, totalMs: wallNow() - r0 });
  }
  progress(`identical reloads: zero writes (${identical.map((x) => f(x.totalMs)).join(', ')} ms)`);

  // one changed weight
  const rows: { parseMs: number; toWriteMs: number; cpuMs: number; gcMs: number; totalMs: number }[] = [];
  for (let i = 0; i < a.runs; i++) {
    c.firstWeight = i % 2 === 0 ? 7 : 1;
    writeFileSync(path, directorYaml(c));
    const calls = ipvs.calls.length;
    const r0 = wallNow();
    const r = await director.reload();
    const total = wallNow() - r0;
    const made = ipvs.calls.slice(calls);
    const ops = made.flatMap((m) => m.ops);
    if (!r.ok || made.length !== 1 || ops.length !== 1 || ops[0].kind !== 'edit-server' || ops[0].server.weight !== c.firstWeight) {
      throw new Error(`one changed weight did not make exactly one write: ${JSON.stringify(ops)}`);
    }
    await sleep(50); // let the gc entries arrive
    const gcMs = gcs.filter((g) => g.start >= parsedAt && g.start < made[0].at).reduce((n, g) => n + g.ms, 0);
    rows.push({ parseMs, toWriteMs: made[0].at - parsedAt, cpuMs: (made[0].cpuUs - parsedCpuUs) / 1000, gcMs, totalMs: total });
    progress(`reload ${i + 1}: parse ${f(parseMs)} ms, parsed->write ${f(made[0].at - parsedAt)} ms (CPU ${f(rows[i].cpuMs)} ms, gc ${f(gcMs)} ms)`);
  }
  const wait = waitShare(s0, schedstat(), wallNow() - t0);
  const load1 = loadavg();
  gcObserver.disconnect();
  await director.stop();
  rmSync(dir, { recursive: true, force: true });
  const toWrite = rows.map((r) => r.toWriteMs);
  return [
    `### Reload at ${services} services × 4 servers, no checks (host, real CPU, FakeIpvs)`,
    '',
    `- ${machine()}`,
    `- load average before ${load0}, after ${load1}; a busy loop got ${f(probe0 * 100, 0)} % of a core before the run; this process waited for a CPU ${f(wait * 100)} % of the run's wall time`,
    `- cold start (parse + ${coldOps} ops into the fake): ${f(coldMs)} ms, of it parse ${f(coldParseMs)} ms`,
    `- identical reload: 0 writes (asserted, 3 times), ${identical.map((x) => f(x.totalMs)).join(' / ')} ms each, of it parse ${identical.map((x) => f(x.parseMs)).join(' / ')} ms`,
    '',
    '| reload (one weight changed) | parse (loadDirectorConfig) ms | parsed file → the one write, wall ms | of it CPU ms | of it GC pauses ms | reload() total ms | writes |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r, i) => `| ${i + 1} | ${f(r.parseMs)} | ${f(r.toWriteMs)} | ${f(r.cpuMs)} | ${f(r.gcMs)} | ${f(r.totalMs)} | 1 |`),
    `| median | ${f(median(rows.map((r) => r.parseMs)))} | ${f(median(toWrite))} | ${f(median(rows.map((r) => r.cpuMs)))} | ${f(median(rows.map((r) => r.gcMs)))} | ${f(median(rows.map((r) => r.totalMs)))} | 1 |`,
    '',
    `Goal: parsed file → write under 100 ms: ${median(toWrite) < 100 ? 'met' : 'missed'} (median ${f(median(toWrite))} ms, max ${f(Math.max(...toWrite))} ms).`,
    '',
  ].join('\n');
}

// ---- the listeners (separate processes, at most 15,000 sockets each) ----

function listenerMain(): void {
  const [from, to, port] = process.argv.slice(3).map(Number);
  let accepted = 0;
  const servers = new Map<number, net.Server>();
  let pending = to - from;
  const onConnection = (s: net.Socket): void => {
    accepted++;
    s.on('error', () => {});
    s.resume();
  };
  for (let i = from; i < to; i++) {
    const server = net.createServer(onConnection);
    server.on('error', (err) => {
      process.send?.({ error: `${targetAddress(i)}:${port}: ${err.message}` });
      process.exit(1);
    });
    server.listen({ host: targetAddress(i), port, backlog: 64 }, () => {
      if (--pending === 0) process.send?.({ ready: true });
    });
    servers.set(i, server);
  }
  process.on('message', (m: { cmd: string; targets?: number[] }) => {
    if (m.cmd === 'count') process.send?.({ accepted });
    if (m.cmd === 'close') {
      // refused from now on: close the listening sockets (connections already accepted end too)
      const at = wallNow();
      for (const i of m.targets ?? []) servers.get(i)?.close();
      process.send?.({ closedAt: at });
    }
  });
}

class Listeners {
  private constructor(private readonly parts: { child: ChildProcess; from: number; to: number }[]) {}

  static async start(count: number, port: number): Promise<Listeners> {
    const per = 15_000;
    const parts: { child: ChildProcess; from: number; to: number }[] = [];
    for (let from = 0; from < count; from += per) {
      const to = Math.min(count, from + per);
      const child = fork(__filename, ['--listener', String(from), String(to), String(port)], { stdio: 'inherit' });
      parts.push({ child, from, to });
    }
    const l = new Listeners(parts);
    try {
      await Promise.all(
        parts.map(
          (p) =>
            new Promise<void>((resolve, reject) => {
              p.child.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
              p.child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
            }),
        ),
      );
    } catch (err) {
      l.stop();
      throw err;
    }
    return l;
  }

  async accepted(): Promise<number> {
    const counts = await Promise.all(this.parts.map((p) => ask<{ accepted: number }>(p.child, { cmd: 'count' }, 'accepted')));
    return counts.reduce((n, c) => n + c.accepted, 0);
  }

  /** Closes the listeners of these targets; returns when (wall ms) the first part closed them. */
  async close(targets: number[]): Promise<number> {
    const times = await Promise.all(
      this.parts.map((p) => ask<{ closedAt: number }>(p.child, { cmd: 'close', targets: targets.filter((t) => t >= p.from && t < p.to) }, 'closedAt')),
    );
    return Math.min(...times.map((t) => t.closedAt));
  }

  pids(): number[] {
    return this.parts.map((p) => p.child.pid!);
  }

  stop(): void {
    for (const p of this.parts) p.child.kill('SIGKILL');
  }
}

function ask<T>(child: ChildProcess, msg: object, field: string, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`no ${field} from process ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: Record<string, unknown>): void => {
      if (!(field in m)) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

// ---- the daemon: a Director with FakeIpvs in a process of its own ----

interface DaemonStats {
  cpuUs: { user: number; system: number };
  sched: SchedStat;
  rss: number;
  heapUsed: number;
  results: number;
  failures: number;
  timeouts: number;
  /** edit-server ops to weight 0 (a server taken out) and to > 0 */
  downWrites: number;
  upWrites: number;
  lagP99Ms: number;
  lagMaxMs: number;
  stallsMs: number;
  /** failure reasons (numbers blanked) and how often */
  reasons: Record<string, number>;
  /** wall ms of every weight-0 write, by target index, when asked */
  downAt?: Record<string, number[]>;
}

interface DaemonOptions {
  config: string;
  /** block the event loop this long every `stallEveryMs` (a starved checker, in-process) */
  stallMs?: number;
  stallEveryMs?: number;
}

function daemonMain(): void {
  const o = JSON.parse(process.argv[3]) as DaemonOptions;
  const ipvs = new TimedFakeIpvs(true);
  let results = 0;
  let failures = 0;
  let timeouts = 0;
  const reasons = new Map<string, number>();
  // Counts every probe result in the checker itself, whatever the listener saw. The bench's checks
  // are all TCP: TcpChecker's run is wrapped once, in this process, rather than each checker in an
  // object and closure of its own (40,000 of them would count in the daemon's RSS).
  const run = TcpChecker.prototype.run;
  TcpChecker.prototype.run = function (this: TcpChecker, signal: AbortSignal) {
    return run.call(this, signal).then((r) => {
      results++;
      if (!r.ok) {
        failures++;
        const why = r.reason.replace(/[\d.]+ ms/g, 'N ms');
        if (reasons.size < 20 || reasons.has(why)) reasons.set(why, (reasons.get(why) ?? 0) + 1);
        if (/timeout/.test(r.reason)) timeouts++;
      }
      return r;
    });
  };
  const director = new Director({
    ipvs,
    load: (previous) => loadedConfigOf(loadDirectorConfig(o.config), previous),
    configPath: o.config,
    log: pino({ level: 'silent' }),
    checker: (spec: CheckSpec): Checker => {
      if (spec.kind !== 'tcp') throw new Error(`bench daemon: only TCP checks are counted, got ${spec.kind}`);
      return createChecker(spec);
    },
  });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let stallsMs = 0;
  let stallTimer: NodeJS.Timeout | undefined;
  const addressOf = new Map<string, number>();
  process.on('message', (m: { cmd: string; addresses?: Record<string, number>; snapshot?: string }) => {
    if (m.cmd === 'stats-gc') {
      // the heap that is live, apart from garbage not yet collected (the daemon runs with --expose-gc)
      (globalThis as { gc?: () => void }).gc?.();
      const live = process.memoryUsage().heapUsed;
      const rss = rssBytes();
      // where the RSS is: each V8 space's physical size against what it holds
      const spaces = require('node:v8')
        .getHeapSpaceStatistics()
        .map((s: { space_name: string; physical_space_size: number; space_used_size: number }) => `${s.space_name} ${f(s.physical_space_size / 2 ** 20)}/${f(s.space_used_size / 2 ** 20)}`)
        .join(', ');
      process.stderr.write(`bench: daemon after a full GC: heap spaces (physical/used MiB): ${spaces}\n`);
      if (m.snapshot) require('node:v8').writeHeapSnapshot(m.snapshot);
      process.send?.({ live, rss });
    }
    if (m.cmd === 'stats' || m.cmd === 'stats-down') {
      const downAt: Record<string, number[]> = {};
      for (const [addr, t] of addressOf) {
        const at = ipvs.downAt.get(addr);
        if (at !== undefined) downAt[t] = at;
      }
      const { downWrites, upWrites } = ipvs;
      const stats: DaemonStats = {
        cpuUs: process.cpuUsage(),
        sched: schedstat(),
        rss: rssBytes(),
        heapUsed: process.memoryUsage().heapUsed,
        results,
        failures,
        timeouts,
        downWrites,
        upWrites,
        lagP99Ms: Math.max(0, lag.percentile(99) / 1e6 - 10),
        lagMaxMs: Math.max(0, lag.max / 1e6 - 10),
        stallsMs,
        reasons: Object.fromEntries(reasons),
        downAt: m.cmd === 'stats-down' ? downAt : undefined,
      };
      process.send?.({ stats });
    }
    if (m.cmd === 'lag-reset') {
      lag.reset();
      process.send?.({ reset: true });
    }
    if (m.cmd === 'servers') {
      for (const [addr, t] of Object.entries(m.addresses ?? {})) addressOf.set(addr, t);
      process.send?.({ servers: true });
    }
    if (m.cmd === 'stop') {
      if (stallTimer) clearInterval(stallTimer);
      void director.stop().then(() => process.exit(0));
    }
  });
  director.start().then(
    () => {
      lag.enable();
      if (o.stallMs && o.stallEveryMs) {
        stallTimer = setInterval(() => {
          const t0 = performance.now();
          while (performance.now() - t0 < o.stallMs!) {
            // the checker cannot run: its connects complete in the kernel meanwhile
          }
          stallsMs += performance.now() - t0;
        }, o.stallEveryMs);
      }
      process.send?.({ ready: true, rss: rssBytes() });
    },
    (err: Error) => {
      process.send?.({ error: err.message });
      process.exit(1);
    },
  );
}

const unitText = (): string => readFileSync(join(__dirname, '..', '..', 'config', 'lvsd-director.service'), 'utf8');

/**
 * The node flags the daemon runs with in production: those of config/lvsd-director.service's
 * ExecStart (between node and bin/lvsd.js), so the bench measures the daemon as it is started.
 */
export function unitNodeFlags(): string[] {
  const unit = unitText();
  const line = unit.split('\n').find((l) => /^ExecStart=\S/.test(l));
  if (!line) throw new Error('config/lvsd-director.service: no ExecStart line');
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('/bin/lvsd.js'));
  if (script < 1) throw new Error(`config/lvsd-director.service: ExecStart does not run bin/lvsd.js with node: ${line}`);
  return words.slice(1, script);
}

/** The unit's Environment= settings (NAME=value words, no quoting used there). */
export function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitText().split('\n')) {
    if (!line.startsWith('Environment=')) continue;
    for (const word of line.slice('Environment='.length).trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}

class Daemon {
  private constructor(readonly child: ChildProcess) {}

  static async start(o: DaemonOptions): Promise<{ daemon: Daemon; startMs: number; flags: string[] }> {
    const t0 = wallNow();
    const environment = unitEnvironment();
    const flags = [...unitNodeFlags(), '--expose-gc'];
    const child = fork(__filename, ['--daemon', JSON.stringify(o)], { stdio: 'inherit', execArgv: flags, env: { ...process.env, ...environment } });
    await new Promise<void>((resolve, reject) => {
      child.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
      child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    });
    const env = Object.entries(environment).map(([k, v]) => `${k}=${v}`);
    return { daemon: new Daemon(child), startMs: wallNow() - t0, flags: [...env, ...flags] };
  }

  async stats(withDownTimes = false): Promise<DaemonStats> {
    return (await ask<{ stats: DaemonStats }>(this.child, { cmd: withDownTimes ? 'stats-down' : 'stats' }, 'stats', 60_000)).stats;
  }

  /** heap used right after a full GC, and the RSS then */
  async live(snapshot?: string): Promise<{ live: number; rss: number }> {
    return ask<{ live: number; rss: number }>(this.child, { cmd: 'stats-gc', snapshot }, 'live', 120_000);
  }

  async resetLag(): Promise<void> {
    await ask(this.child, { cmd: 'lag-reset' }, 'reset');
  }

  async servers(addresses: Record<string, number>): Promise<void> {
    await ask(this.child, { cmd: 'servers', addresses }, 'servers');
  }

  async stop(): Promise<void> {
    this.child.send({ cmd: 'stop' });
    await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const randomPort = (): number => 20_000 + Math.floor(Math.random() * 10_000);

async function withTargets<T>(
  services: number,
  checks: BenchConfig['checks'] & object,
  fn: (ctx: { config: string; listeners: Listeners; c: BenchConfig }) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-bench-'));
  const c: BenchConfig = { services, perService: 4, dir, checks };
  const config = join(dir, 'director.yaml');
  writeFileSync(config, directorYaml(c));
  const listeners = await Listeners.start(services * 4, checks.port);
  progress(`${services * 4} listeners ready on port ${checks.port}`);
  try {
    return await fn({ config, listeners, c });
  } finally {
    listeners.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2. RSS with services × 4 TCP checks ----

async function benchRss(a: Args): Promise<string> {
  const services = a.services ?? 10_000;
  const intervalS = Number(/^(\d+)/.exec(a.interval)![1]) / (a.interval.endsWith('ms') ? 1000 : 1);
  const port = randomPort();
  return withTargets(services, { port, interval: a.interval, timeout: '1s', rise: 1, fall: 3 }, async ({ config, listeners }) => {
    const load0 = loadavg();
    const { daemon, startMs, flags } = await Daemon.start({ config });
    progress(`daemon started in ${f(startMs)} ms; waiting ${f(intervalS * 1.2)} s so every check has run`);
    const samples: DaemonStats[] = [];
    const t0 = wallNow();
    const a0 = await listeners.accepted();
    const until = t0 + intervalS * 1200;
    while (wallNow() < until) {
      await sleep(Math.min(5000, until - wallNow()));
      samples.push(await daemon.stats());
      const s = samples[samples.length - 1];
      progress(`rss ${f(s.rss / 2 ** 20)} MiB, ${s.results} results, ${s.upWrites} servers up`);
    }
    const last = samples[samples.length - 1];
    const accepted = (await listeners.accepted()) - a0;
    const wall = wallNow() - t0;
    const gcd = await daemon.live(a.snapshot);
    await daemon.stop();
    const peak = Math.max(...samples.map((s) => s.rss));
    return [
      `### Daemon RSS: ${services} services, ${services * 4} TCP checks (host, FakeIpvs)`,
      '',
      `- ${machine()}; load average before ${load0}, after ${loadavg()}`,
      `- ${services * 4} distinct loopback targets (127.2.x.y:${port}, listeners in 3 other processes), interval ${a.interval} (≈${f((services * 4) / intervalS, 0)} checks/s asked: a long interval so the shared host is not flooded), timeout 1 s`,
      `- the daemon: a Director (src/director/daemon.ts, every check through the HealthMonitor) with FakeIpvs, in a process of its own; no control socket or status page; environment and node flags ${flags.join(' ')} (config/lvsd-director.service's Environment= and ExecStart, read at the daemon's start, and --expose-gc)`,
      `- over ${f(wall / 1000, 0)} s: ${last.results} check results in the checker, ${accepted} accepts in the listeners, ${last.upWrites} servers brought up by writes`,
      '',
      '| RSS after start | RSS at the end | peak RSS sampled | heap used at the end | live heap after a full GC at the end (RSS then) | goal |',
      '|---|---|---|---|---|---|',
      `| ${f(samples[0].rss / 2 ** 20)} MiB | ${f(last.rss / 2 ** 20)} MiB | ${f(peak / 2 ** 20)} MiB | ${f(last.heapUsed / 2 ** 20)} MiB | ${f(gcd.live / 2 ** 20)} MiB (${f(gcd.rss / 2 ** 20)} MiB) | < 200 MB: ${peak < 200e6 ? 'met' : 'missed'} |`,
      '',
    ].join('\n');
  });
}

// ---- 3. heap by stage, in this process (needs --expose-gc) ----

async function benchHeap(a: Args): Promise<string> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap: run node with --expose-gc');
  const services = a.services ?? 2500;
  const servers = services * 4;
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-bench-'));
  const c: BenchConfig = { services, perService: 4, dir, checks: { port: randomPort(), interval: '60s', timeout: '1s', rise: 1, fall: 3 } };
  const path = join(dir, 'director.yaml');
  writeFileSync(path, directorYaml(c));
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const h0 = heap();
  const load0 = loadavg();
  const loaded = loadedConfigOf(loadDirectorConfig(path));
  const h1 = heap();
  const ipvs = new TimedFakeIpvs(true);
  const director = new Director({ ipvs, load: () => loaded, configPath: path, log: pino({ level: 'silent' }) });
  await director.start();
  await sleep(2000);
  const h2 = heap();
  const rss = rssBytes();
  if (a.snapshot) {
    const { writeHeapSnapshot } = await import('node:v8');
    writeHeapSnapshot(a.snapshot);
  }
  // the fake's own table (no real daemon has it): flushed behind the director's back
  await ipvs.apply([{ kind: 'flush' }]);
  const h3 = heap();
  await director.stop();
  rmSync(dir, { recursive: true, force: true });
  const mib = (n: number): string => f(n / 2 ** 20);
  const per = (n: number): string => f(n / servers / 1024, 2);
  return [
    `### Heap by stage: ${services} services × 4 servers, one TCP check each (host, FakeIpvs, nothing listening)`,
    '',
    `- ${machine()}; load average before ${load0}, after ${loadavg()}`,
    `- heap used after two full GCs; the director measured 2 s after start (every check exists, few have run)`,
    '',
    '| stage | heap used | growth | per server |',
    '|---|---|---|---|',
    `| before | ${mib(h0)} MiB | | |`,
    `| config loaded (parse + specs + kept parsed configs) | ${mib(h1)} MiB | ${mib(h1 - h0)} MiB | ${per(h1 - h0)} KiB |`,
    `| director started (+ reconciler, FakeIpvs, checks) | ${mib(h2)} MiB | ${mib(h2 - h1)} MiB | ${per(h2 - h1)} KiB |`,
    `| total | | ${mib(h2 - h0)} MiB | ${per(h2 - h0)} KiB |`,
    `| of it FakeIpvs's table (heap freed by flushing the fake) | | ${mib(h2 - h3)} MiB | ${per(h2 - h3)} KiB |`,
    '',
    `RSS at the end: ${mib(rss)} MiB.`,
    '',
  ].join('\n');
}

// ---- 4. checks/s and CPU inside the director ----

interface Window {
  wallMs: number;
  results: number;
  accepts: number;
  cpuUs: number;
  systemUs: number;
  waitShare: number;
  load0: string;
  load1: string;
  probe: number;
  d1: DaemonStats;
  timeouts: number;
  downWrites: number;
}

async function measureWindow(daemon: Daemon, listeners: Listeners, seconds: number): Promise<Window> {
  const load0 = loadavg();
  await daemon.resetLag();
  const a0 = await listeners.accepted();
  const d0 = await daemon.stats();
  const t0 = wallNow();
  await sleep(seconds * 1000);
  const d1 = await daemon.stats();
  const wallMs = wallNow() - t0;
  const accepts = (await listeners.accepted()) - a0;
  return {
    wallMs,
    results: d1.results - d0.results,
    accepts,
    cpuUs: d1.cpuUs.user + d1.cpuUs.system - d0.cpuUs.user - d0.cpuUs.system,
    systemUs: d1.cpuUs.system - d0.cpuUs.system,
    waitShare: (d1.sched.waitNs - d0.sched.waitNs) / 1e6 / wallMs,
    load0,
    load1: loadavg(),
    probe: 0,
    d1,
    timeouts: d1.timeouts - d0.timeouts,
    downWrites: d1.downWrites - d0.downWrites,
  };
}

function windowRow(label: string, w: Window, starvedOnPurpose = false): string {
  const s = w.wallMs / 1000;
  const refused = w.waitShare > WAIT_LIMIT;
  const mark = starvedOnPurpose ? ' (starved on purpose)' : refused ? ' **refused**' : '';
  return `| ${label} | ${w.load0} → ${w.load1} | ${f(w.waitShare * 100)} %${mark} | ${f(w.results / s, 0)} | ${f(w.accepts / s, 0)} | ${f(w.cpuUs / 1e4 / s)} % | ${f(w.cpuUs / Math.max(1, w.results))} | ${f((w.systemUs / Math.max(1, w.cpuUs)) * 100, 0)} % | ${f(w.d1.lagP99Ms)} / ${f(w.d1.lagMaxMs)} | ${w.timeouts} | ${w.downWrites} |`;
}

const WINDOW_HEADER = [
  '| run | load average before → after | checker waited for a CPU (of wall) | checks/s (checker) | accepts/s (listener) | CPU (of one core) | CPU µs per check | of it kernel | event-loop lag p99 / max ms | timeouts | weight-0 writes |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

async function benchChecks(a: Args): Promise<string> {
  const services = a.services ?? 1000;
  const port = randomPort();
  return withTargets(services, { port, interval: '1s', timeout: '1s', rise: 1, fall: 1 }, async ({ config, listeners }) => {
    const { daemon } = await Daemon.start({ config });
    const rows: string[] = [];
    let best: Window | undefined;
    try {
      await sleep(5000); // warm-up: every probe has started
      for (let i = 0; i < a.attempts; i++) {
        const probe = cpuShareProbe();
        const w = await measureWindow(daemon, listeners, a.seconds);
        w.probe = probe;
        rows.push(windowRow(`${i + 1} (busy loop got ${f(probe * 100, 0)} % of a core before)`, w));
        progress(rows[rows.length - 1]);
        if (w.waitShare <= WAIT_LIMIT && (!best || w.results > best.results)) best = w;
      }
    } finally {
      await daemon.stop();
    }
    const asked = services * 4;
    return [
      `### ${asked} TCP checks at 1 s inside the director (host, real CPU, FakeIpvs)`,
      '',
      `- ${machine()}`,
      `- ${services} services × 4 servers, one TCP check each (interval 1 s, timeout 1 s, rise 1, fall 1) to ${asked} distinct loopback listeners (127.2.x.y:${port}) in another process; ${asked} checks/s asked`,
      `- checks/s counted twice: results returned by the checkers inside the director, and connections the listener process accepted; CPU: the daemon process (process.cpuUsage); CPU wait: /proc/self/schedstat of the daemon's main thread (the thread that runs every check), as a share of the window's wall time; a run where it exceeds ${WAIT_LIMIT * 100} % is refused`,
      `- ${a.seconds} s windows after 5 s warm-up`,
      '',
      ...WINDOW_HEADER,
      ...rows,
      '',
      best
        ? `Kept (the fullest run not refused): ${f(best.results / (best.wallMs / 1000), 0)} of ${asked} checks/s at ${f(best.cpuUs / 1e4 / (best.wallMs / 1000))} % of a core.`
        : `Every run was refused: the checker waited for a CPU more than ${WAIT_LIMIT * 100} % of the time. No figure is kept.`,
      '',
    ].join('\n');
  });
}

// ---- 4b. CPU starvation: no completed connect declared timed out ----

async function benchStarve(a: Args): Promise<string> {
  const services = a.services ?? 1000;
  const port = randomPort();
  const out: string[] = [
    `### Starvation: ${services * 4} TCP checks at 1 s, every target up (host, real CPU, FakeIpvs)`,
    '',
    `- ${machine()}`,
    `- checks: interval 1 s, timeout 1 s, rise 1, fall 1 (one timeout is a down transition, a weight-0 write); every listener stays up, so every weight-0 write is false`,
    '',
    ...WINDOW_HEADER,
  ];
  let falseDowns = 0;
  await withTargets(services, { port, interval: '1s', timeout: '1s', rise: 1, fall: 1 }, async ({ config, listeners }) => {
    // (a) the event loop itself stalls 1.5 s every 4 s: every deadline passes while the connects complete
    {
      const { daemon } = await Daemon.start({ config, stallMs: 1500, stallEveryMs: 4000 });
      try {
        await sleep(5000);
        const w = await measureWindow(daemon, listeners, a.seconds);
        falseDowns += w.downWrites;
        out.push(windowRow(`event loop blocked 1.5 s every 4 s (${f(w.d1.stallsMs / 1000, 1)} s blocked in all)`, w, true));
        progress(out[out.length - 1]);
      } finally {
        await daemon.stop();
      }
    }
    // (b) the daemon at nice 19 beside 4 busy loops (bounded to the window) at nice 0
    {
      const { daemon } = await Daemon.start({ config });
      try {
        await sleep(5000);
        setPriority(daemon.child.pid!, 19);
        const busy = Array.from({ length: 4 }, () =>
          spawn(process.execPath, ['-e', `const end = Date.now() + ${(a.seconds + 2) * 1000}; while (Date.now() < end) {}`], { stdio: 'ignore' }),
        );
        try {
          const w = await measureWindow(daemon, listeners, a.seconds);
          falseDowns += w.downWrites;
          out.push(windowRow('daemon at nice 19 beside 4 busy loops', w, true));
          progress(out[out.length - 1]);
        } finally {
          for (const b of busy) b.kill('SIGKILL');
        }
      } finally {
        await daemon.stop();
      }
    }
  });
  out.push('', `False down transitions (weight-0 writes with every target up): ${falseDowns}.`, '');
  if (falseDowns > 0) process.exitCode = 1;
  return out.join('\n');
}

// ---- 5. detection time, refused or silently dropped ----

/** Drops every packet to the given loopback targets, in the bench's own network namespace. */
function dropTargets(addresses: string[], port: number): void {
  const nft = (cmd: string): void => {
    const r = spawnSync('nft', [cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft ${cmd}: ${r.error?.message ?? r.stderr.trim()}`);
  };
  nft('add table ip lvsd_bench');
  nft('add chain ip lvsd_bench input { type filter hook input priority 0; policy accept; }');
  nft(`add rule ip lvsd_bench input ip daddr { ${addresses.join(', ')} } tcp dport ${port} drop`);
}

async function benchDetect(a: Args): Promise<string> {
  const services = a.services ?? 1000;
  const port = randomPort();
  const fall = 2;
  return withTargets(services, { port, interval: '1s', timeout: '1s', rise: 1, fall }, async ({ config, listeners, c }) => {
    const load0 = loadavg();
    const { daemon } = await Daemon.start({ config });
    try {
      // the servers whose targets fail: spread over the table
      const step = Math.floor((services * 4) / a.fail);
      const targets = Array.from({ length: a.fail }, (_, i) => i * step);
      const addresses: Record<string, number> = {};
      for (const t of targets) addresses[`198.19.${Math.floor(t / 250)}.${(t % 250) + 1}`] = t;
      await daemon.servers(addresses);
      await sleep(2000);
      const dBefore = await daemon.stats();
      const tBefore = wallNow();
      await sleep(3000);
      await daemon.resetLag();
      const d0 = await daemon.stats();
      const t00 = wallNow();
      const passingBefore = (d0.results - dBefore.results - (d0.failures - dBefore.failures)) / ((t00 - tBefore) / 1000);
      const s0 = d0.sched;
      let failedAt: number;
      if (a.how === 'refused') failedAt = await listeners.close(targets);
      else {
        failedAt = wallNow();
        dropTargets(targets.map(targetAddress), port);
      }
      const limit = 1000 * fall + 1000 + 100;
      await sleep(limit + 2000);
      const d1 = await daemon.stats(true);
      const windowMs = wallNow() - t00;
      const wait = (d1.sched.waitNs - s0.waitNs) / 1e6 / windowMs;
      // the first weight-0 write after the failure; any before it was a down while the target was up
      const times = targets.map((t) => (d1.downAt?.[t] ?? []).find((at) => at >= failedAt) ?? Infinity).map((at) => at - failedAt);
      const before = targets.reduce((n, t) => n + (d1.downAt?.[t] ?? []).filter((at) => at < failedAt).length, 0);
      const seen = times.filter(Number.isFinite);
      // passing results in the window, against the same count in the 3 s before the failure
      const othersPerS = (d1.results - d0.results - (d1.failures - d0.failures)) / (windowMs / 1000);
      const what = a.how === 'refused' ? "their listeners closed: connection refused" : 'every packet to them dropped by nftables in the bench\'s network namespace: no answer at all, as when a server vanishes';
      return [
        `### Detection, ${a.how === 'refused' ? 'connection refused' : 'silently dropped'}, with ${services * 4} checks at 1 s running (host, FakeIpvs)`,
        '',
        `- ${machine()}; load average before ${load0}, after ${loadavg()}; the daemon waited for a CPU ${f(wait * 100)} % of the wall time${wait > WAIT_LIMIT ? ' (**over 10 %: refused**)' : ''}`,
        `- ${a.fail} of ${c.services * 4} targets failed at once (${what}); interval 1 s, timeout 1 s, fall ${fall}: bound interval × fall + timeout + 100 ms = ${limit} ms`,
        `- detection: from the failure to the weight-0 write reaching the (fake) IPVS client; failed checks before the failure: ${d0.failures} ${JSON.stringify(d0.reasons)}; weight-0 writes before it (to any server: ${d0.downWrites}, to these: ${before}) come from all_down keep-last at start, not from checks`,
        `- passing results/s in the checker: ${f(passingBefore, 0)} in the 3 s before the failure (all ${c.services * 4} targets up), ${f(othersPerS, 0)} in the ${f(windowMs / 1000)} s after it (${c.services * 4 - a.fail} up); event-loop lag after it p99 ${f(d1.lagP99Ms)} ms, max ${f(d1.lagMaxMs)} ms; failure reasons ${JSON.stringify(d1.reasons)}`,
        '',
        '| how | detected | median ms | p90 ms | max ms | within the bound | passing results/s before → after |',
        '|---|---|---|---|---|---|---|',
        `| ${a.how} | ${seen.length}/${a.fail} | ${f(median(seen), 0)} | ${f([...seen].sort((x, y) => x - y)[Math.floor(seen.length * 0.9)] ?? NaN, 0)} | ${f(Math.max(...times), 0)} | ${times.filter((t) => t <= limit).length}/${a.fail} | ${f(passingBefore, 0)} → ${f(othersPerS, 0)} |`,
        '',
      ].join('\n');
    } finally {
      await daemon.stop();
    }
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.how === 'dropped' && process.env.LVSD_BENCH_NETNS !== '1') {
    // the firewall rule goes into a network namespace of the bench's own (root), never the host's
    const r = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LVSD_BENCH_NETNS: '1' },
      timeout: HARD_LIMIT_MS,
    });
    process.exitCode = r.status ?? 1;
    return;
  }
  const hard = setTimeout(() => {
    process.stderr.write('bench: hard time limit reached\n');
    process.exit(1);
  }, HARD_LIMIT_MS);
  hard.unref();
  const modes: Record<string, (a: Args) => Promise<string>> = { reload: benchReload, rss: benchRss, heap: benchHeap, checks: benchChecks, starve: benchStarve, detect: benchDetect };
  const fn = modes[a.mode];
  if (!fn) throw new Error(`mode: one of ${Object.keys(modes).join(', ')}`);
  process.stdout.write(await fn(a));
}

if (process.argv[2] === '--listener') listenerMain();
else if (process.argv[2] === '--daemon') daemonMain();
else
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
