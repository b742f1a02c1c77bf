// TCP health-check load: N targets on distinct 127.1.x.y addresses, 1 s interval. Measures lvsd's
// checker (CPU per check, checks/s, event-loop lag) and, in the same run against the same
// targets, keepalived's checker (CPU from /proc/<pid>/stat). keepalived's checker needs IPVS, so
// the comparison runs in the kernel lab: scripts/bench-health-tcp.sh.
//
//   node dist/bench/health-tcp-bench.js [--targets 5000] [--warmup 5] [--seconds 20]
//        [--keepalived] [--shards N] [--out bench/results/health-tcp.md]
import { ChildProcess, execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HealthMonitor } from '../src/health/core';
import { ShardedHealthMonitor } from '../src/health/shards';
import { TcpChecker } from '../src/health/tcp';
import type { CheckResult, Checker } from '../src/health/types';
import { loadavg, schedstat, waitShare } from './director-load';

interface Options {
  targets: number;
  warmupS: number;
  seconds: number;
  keepalived: boolean;
  /** 0: one HealthMonitor on the main thread; N: ShardedHealthMonitor with N worker threads */
  shards: number;
  out?: string;
}

interface Measure {
  tool: string;
  /** connections the listener accepted, per second */
  checksPerS: number;
  /** results the checker got, per second, and of them failures (single-thread lvsd only) */
  results?: { perS: number; failed: number };
  /** share of the window the checker's main thread was runnable but waited for a CPU */
  cpuWait: number;
  load: { before: string; after: string };
  cpuPct: number;
  cpuUsPerCheck: number;
  /** share of the CPU spent in the kernel */
  systemShare: number;
  lag?: { p50: number; p99: number; max: number };
  up?: number;
  note?: string;
}

const HARD_LIMIT_MS = 900_000; // the whole run, whatever the flags say
// A run whose checker waited for a CPU longer than this share of its window measured the host's
// other work, not the checker: it is refused (reported, and not written to --out).
const MAX_CPU_WAIT = 0.1;

/** A checker that counts what its probes returned (a listener's accepts alone miss failed checks). */
class CountingChecker implements Checker {
  readonly kind = 'tcp' as const;
  readonly key: string;

  constructor(
    private readonly inner: TcpChecker,
    private readonly counts: { ok: number; failed: number },
  ) {
    this.key = inner.key;
  }

  async run(signal: AbortSignal): Promise<CheckResult> {
    const r = await this.inner.run(signal);
    if (r.ok) this.counts.ok++;
    else this.counts.failed++;
    return r;
  }
}

function parseArgs(argv: string[]): Options {
  const o: Options = { targets: 5000, warmupS: 5, seconds: 20, keepalived: false, shards: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (max: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${a}: an integer from 1 to ${max}`);
      return v;
    };
    if (a === '--targets') o.targets = num(20_000);
    else if (a === '--warmup') o.warmupS = num(60);
    else if (a === '--seconds') o.seconds = num(120);
    else if (a === '--keepalived') o.keepalived = true;
    else if (a === '--shards') o.shards = num(64);
    else if (a === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** 127.1.0.1, 127.1.0.2, ... 250 per /24 */
function targetAddress(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

// ---- the target server: a child process with one listener per address, counting accepts ----

function listenerMain(): void {
  const [count, port] = process.argv.slice(3).map(Number);
  let accepted = 0;
  let pending = count;
  const onConnection = (s: net.Socket): void => {
    accepted++;
    s.on('error', () => {});
    s.resume(); // closes when the checker closes
  };
  for (let i = 0; i < count; i++) {
    const server = net.createServer(onConnection);
    server.on('error', (err) => {
      process.send?.({ error: `${targetAddress(i)}:${port}: ${err.message}` });
      process.exit(1);
    });
    server.listen({ host: targetAddress(i), port, backlog: 64 }, () => {
      if (--pending === 0) process.send?.({ ready: true });
    });
  }
  process.on('message', () => process.send?.({ accepted }));
}

class Listener {
  private constructor(private readonly child: ChildProcess) {}

  static async start(count: number, port: number): Promise<Listener> {
    const child = fork(__filename, ['--listener', String(count), String(port)], { stdio: 'inherit' });
    await new Promise<void>((resolve, reject) => {
      child.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
      child.once('exit', (code) => reject(new Error(`listener exited with ${code}`)));
    });
    return new Listener(child);
  }

  accepted(): Promise<number> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { accepted: number }) => resolve(m.accepted));
      this.child.send('count');
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const begun = performance.now();
const progress = (what: string): void => {
  process.stderr.write(`bench: ${((performance.now() - begun) / 1000).toFixed(1)} s: ${what}\n`);
};

// ---- lvsd ----

const LAG_RESOLUTION_MS = 10;
const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);

async function measureLvsd(o: Options, port: number, listener: Listener): Promise<Measure> {
  const timing = { intervalMs: 1000, timeoutMs: 1000, rise: 1, fall: 1 };
  const sharded = o.shards > 0 ? new ShardedHealthMonitor(o.shards, { log: false }) : undefined;
  const single = sharded ? undefined : new HealthMonitor({ log: false });
  const watches: Array<{ state: string }> = [];
  const counts = { ok: 0, failed: 0 };
  for (let i = 0; i < o.targets; i++) {
    const options = { host: targetAddress(i), port };
    watches.push(
      sharded
        ? sharded.watch(options.host, { kind: 'tcp', options }, timing)
        : (single as HealthMonitor).watch(options.host, new CountingChecker(new TcpChecker(options), counts), timing),
    );
  }
  progress(`lvsd watching ${o.targets} targets${sharded ? ` in ${o.shards} worker threads` : ''}; warming up`);
  const ticker = setInterval(() => progress(`${watches.filter((w) => w.state === 'up').length} up`), 5000);
  await sleep(o.warmupS * 1000);
  // lag of the thread that runs the probes (with shards, the main thread only relays transitions)
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const a0 = await listener.accepted();
  const load = { before: loadavg(), after: '' };
  const r0 = { ...counts };
  const s0 = schedstat();
  const c0 = process.cpuUsage(); // the whole process: every thread
  const t0 = performance.now();
  await sleep(o.seconds * 1000);
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  const cpuWait = waitShare(s0, schedstat(), wallMs);
  const r1 = { ...counts };
  load.after = loadavg();
  const elapsedS = wallMs / 1000;
  const checks = (await listener.accepted()) - a0;
  lag.disable();
  const up = watches.filter((w) => w.state === 'up').length;
  clearInterval(ticker);
  await (sharded ?? (single as HealthMonitor)).stop();
  progress('lvsd measured and stopped');
  const cpuUs = cpu.user + cpu.system;
  return {
    tool: sharded ? `lvsd (ShardedHealthMonitor, ${o.shards} worker threads)` : 'lvsd (HealthMonitor + TcpChecker, 1 thread)',
    checksPerS: checks / elapsedS,
    results: sharded ? undefined : { perS: (r1.ok + r1.failed - r0.ok - r0.failed) / elapsedS, failed: r1.failed - r0.failed },
    cpuWait,
    load,
    cpuPct: cpuUs / 1e4 / elapsedS,
    cpuUsPerCheck: cpuUs / checks,
    systemShare: cpu.system / cpuUs,
    // the histogram holds whole timer periods: the lag is what exceeds the sampling period
    lag: sharded ? undefined : { p50: lateMs(lag.percentile(50)), p99: lateMs(lag.percentile(99)), max: lateMs(lag.max) },
    up,
  };
}

// ---- keepalived ----

function keepalivedConfig(o: Options, port: number): string {
  const lines = ['global_defs {', '  router_id lvsd_bench', '}'];
  const perService = 4;
  for (let s = 0; s * perService < o.targets; s++) {
    // virtual services on 198.18.0.0/15 (benchmark range), inside the lab guest only
    lines.push(`virtual_server 198.18.${Math.floor(s / 250)}.${(s % 250) + 1} 80 {`, '  delay_loop 1', '  lb_algo rr', '  lb_kind NAT', '  protocol TCP');
    for (let r = s * perService; r < Math.min(o.targets, (s + 1) * perService); r++) {
      lines.push(`  real_server ${targetAddress(r)} ${port} {`, '    weight 1', '    TCP_CHECK {', '      connect_timeout 1', '    }', '  }');
    }
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

/** utime and stime of a process, in µs */
function processCpuUs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / clockTicks();
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick }; // fields 14, 15 of proc(5)
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

async function measureKeepalived(o: Options, port: number, listener: Listener): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-bench-keepalived-'));
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(conf, keepalivedConfig(o, port));
  const checkersPid = join(dir, 'checkers.pid');
  let log = '';
  const child = spawn(
    'keepalived',
    ['-n', '-C', '-l', '-G', '-f', conf, '-p', join(dir, 'keepalived.pid'), '-c', checkersPid],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  try {
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      await sleep(100);
      if (existsSync(checkersPid)) pid = Number(readFileSync(checkersPid, 'utf8').trim());
      if (child.exitCode !== null) break;
    }
    if (!pid) throw new Error(`keepalived's checker did not start:\n${log}`);
    progress(`keepalived checker pid ${pid}; warming up`);
    await sleep(o.warmupS * 1000);
    if (child.exitCode !== null || !existsSync(`/proc/${pid}`)) throw new Error(`keepalived exited:\n${log}`);
    const a0 = await listener.accepted();
    const cpuOf = (): { user: number; system: number } => {
      const a = processCpuUs(pid);
      const b = processCpuUs(child.pid!);
      return { user: a.user + b.user, system: a.system + b.system };
    };
    const load = { before: loadavg(), after: '' };
    const s0 = schedstat(pid);
    const c0 = cpuOf();
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const c1 = cpuOf();
    const wallMs = performance.now() - t0;
    const cpuWait = waitShare(s0, schedstat(pid), wallMs);
    load.after = loadavg();
    const cpuUs = c1.user + c1.system - c0.user - c0.system;
    const elapsedS = wallMs / 1000;
    const checks = (await listener.accepted()) - a0;
    progress('keepalived measured');
    return {
      tool: 'keepalived ' + keepalivedVersion() + ' (checker process, TCP_CHECK)',
      checksPerS: checks / elapsedS,
      cpuWait,
      load,
      cpuPct: cpuUs / 1e4 / elapsedS,
      cpuUsPerCheck: cpuUs / checks,
      systemShare: (c1.system - c0.system) / cpuUs,
    };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function keepalivedVersion(): string {
  const r = spawnSync('keepalived', ['--version'], { encoding: 'utf8' }); // it prints to stderr
  return /Keepalived (v[\d.]+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

// ---- report ----

function report(o: Options, results: Measure[], notes: string[]): string {
  const f = (n: number, d = 1): string => n.toFixed(d);
  const rows = results.map(
    (r) =>
      `| ${r.tool} | ${f(r.checksPerS, 0)} | ${r.results ? `${f(r.results.perS, 0)} (${r.results.failed} failed)` : '-'} | ${f(r.cpuPct)} % | ${f(r.cpuUsPerCheck)} | ${f(r.systemShare * 100, 0)} % | ${f(r.cpuWait * 100)} %${r.cpuWait > MAX_CPU_WAIT ? ' (refused)' : ''} | ${r.load.before} / ${r.load.after} | ${
        r.lag ? `${f(r.lag.p50)} / ${f(r.lag.p99)} / ${f(r.lag.max)}` : '-'
      } | ${r.up === undefined ? '-' : `${r.up}/${o.targets}`} |`,
  );
  const lines = [
    `- asked: ${o.targets} checks/s`,
    `- ${new Date().toISOString()}, kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, ${cpus().length} CPU (${cpus()[0]?.model ?? '?'}), node ${process.version}`,
    `- ${o.targets} targets on distinct 127.1.x.y addresses (one listener each, in a separate process), interval 1 s, timeout 1 s; ${o.warmupS} s warm-up, then ${o.seconds} s measured`,
    `- event-loop lag: perf_hooks.monitorEventLoopDelay sampling every ${LAG_RESOLUTION_MS} ms, minus that period`,
    '- checks/s: connections the target process accepted during the window; results/s: what the checker\'s probes returned in the window (lvsd on one thread); CPU: the checker process only (lvsd: process.cpuUsage; keepalived: utime+stime from /proc/<pid>/stat of its parent and checker processes)',
    `- waited for a CPU: from /proc/<pid>/schedstat of the checker's main thread (lvsd's own, keepalived's checker process), as a share of the window; a run above ${MAX_CPU_WAIT * 100} % is refused (it measured the host's other work) and not written to --out; load: /proc/loadavg (1, 5, 15 min) before / after the window`,
    '',
    '| checker | checks/s (listener) | results/s (checker) | CPU (of one core) | CPU µs per check | of it in the kernel | waited for a CPU | load before / after | event-loop lag p50 / p99 / max ms | up at end |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ];
  const lvsd = results.find((r) => r.tool.startsWith('lvsd'));
  const ka = results.find((r) => r.tool.startsWith('keepalived'));
  if (lvsd && ka) {
    lines.push(
      '',
      `Ratio lvsd / keepalived: CPU per check ${f(lvsd.cpuUsPerCheck / ka.cpuUsPerCheck, 2)}, total CPU ${f(lvsd.cpuPct / ka.cpuPct, 2)}, checks/s ${f(lvsd.checksPerS / ka.checksPerS, 2)}.`,
    );
  }
  for (const n of notes) lines.push('', n);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const hard = setTimeout(() => {
    process.stderr.write('bench: hard time limit reached\n');
    process.exit(1);
  }, HARD_LIMIT_MS);
  hard.unref();
  try {
    execFileSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'ignore' }); // a fresh lab netns starts with lo down
  } catch {
    // not root or no iproute2: lo is normally up already
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const listener = await Listener.start(o.targets, port);
  progress(`listener ready on ${o.targets} addresses, port ${port}`);
  const results: Measure[] = [];
  const notes: string[] = [];
  try {
    results.push(await measureLvsd(o, port, listener));
    process.stderr.write(`bench: ${JSON.stringify(results[0])}\n`);
    if (o.keepalived) {
      await sleep(2000); // let TIME_WAIT and the listener settle between runs
      try {
        results.push(await measureKeepalived(o, port, listener));
        process.stderr.write(`bench: ${JSON.stringify(results[1])}\n`);
      } catch (err) {
        notes.push(`keepalived not measured: ${(err as Error).message.split('\n').slice(0, 12).join(' / ')}`);
      }
    } else {
      notes.push('keepalived not measured in this run (its checker needs IPVS: scripts/bench-health-tcp.sh runs it in the kernel lab).');
    }
  } finally {
    listener.stop();
  }
  const refused = results.filter((r) => r.cpuWait > MAX_CPU_WAIT);
  for (const r of refused) notes.push(`Refused: ${r.tool} waited for a CPU ${(r.cpuWait * 100).toFixed(1)} % of the window (more than ${MAX_CPU_WAIT * 100} %).`);
  const text = report(o, results, notes);
  process.stdout.write(text);
  if (refused.length > 0) throw new Error(`run refused (a checker waited for a CPU more than ${MAX_CPU_WAIT * 100} % of the window)${o.out ? `; ${o.out} left as it was` : ''}`);
  if (o.out) writeFileSync(o.out, text);
}

if (process.argv[2] === '--listener') listenerMain();
else
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
