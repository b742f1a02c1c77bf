// The director in the kernel lab (issue 18 item 9, the rows bench/director-bench.ts cannot give on
// the host): the real daemon (`lvsd director run`, real netlink) against ipvsadm and keepalived
// 2.2.7 in the same lab boot. Everything here runs under qemu TCG: see the report's notes.
//
//   node dist/bench/director-lab-bench.js cold   [--services 10000] [--runs 2] [--out FILE]
//        cold start: `lvsd director run` programming N services x 4 (no checks) against
//        `ipvsadm -R` of the same table; each load in a fresh network namespace; the table the
//        daemon made is compared with the one ipvsadm -R made (`ipvsadm -Sn`, sorted)
//   node dist/bench/director-lab-bench.js reload [--services 1000] [--runs 2] [--reloads 5] [--no-checks] [--out FILE]
//        SIGHUP to the new weight in the kernel for one changed weight, with N x 4 TCP checks at 1 s
//        running against a listener in the bench's namespace; lvsd against keepalived given the
//        same table; lvsd's writes counted (status reconcile.opsTotal and its "config reloaded"
//        log line) for the changed and for an identical reload. Also the checks/s the listener
//        sees and the daemons' CPU while nothing else happens.
// --out appends the markdown block to FILE. Run as root inside the lab, with `ulimit -n 65536`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDirectorConfig } from '../src/config/director';
import { LVSD } from '../test/support/ipvs-lab';
import { DirectorNode } from '../test/support/vrrp-lab';
import { status as controlStatus } from '../src/director/control-client';
import { directorYaml, ipvsadmRestore, keepalivedConf, serverAddress, serviceAddress, type BenchConfig } from './director-config';
import { loadavg, processCpuUs, schedstat } from './director-load';
import { setUpBenchNamespace } from './support/namespace';

const HARD_LIMIT_MS = 2_400_000;
const started = Date.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const progress = (what: string): void => {
  process.stderr.write(`director-lab-bench: ${((Date.now() - started) / 1000).toFixed(0)} s: ${what}\n`);
};
function budget(): void {
  if (Date.now() - started > HARD_LIMIT_MS) throw new Error(`over ${HARD_LIMIT_MS / 1000} s, giving up`);
}

interface Args {
  mode: string;
  services: number;
  runs: number;
  reloads: number;
  out?: string;
  /** reload: no checks at all (the reload path alone, no check load) */
  noChecks: boolean;
  /** cold: one more lvsd run (not timed) under node --cpu-prof, the profile written here */
  profile?: string;
}

function parseArgs(argv: string[]): Args {
  const mode = argv[0] ?? '';
  if (mode !== 'cold' && mode !== 'reload') throw new Error(`mode: cold or reload, got "${mode}"`);
  const a: Args = { mode, services: mode === 'cold' ? 10_000 : 1_000, runs: 2, reloads: 5, noChecks: false };
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i];
    const num = (max: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${k}: an integer from 1 to ${max}`);
      return v;
    };
    if (k === '--services') a.services = num(16_000);
    else if (k === '--runs') a.runs = num(9);
    else if (k === '--reloads') a.reloads = num(20);
    else if (k === '--out') {
      a.out = argv[++i];
      if (!a.out) throw new Error('--out: a file name');
    } else if (k === '--no-checks') a.noChecks = true;
    else if (k === '--profile') {
      a.profile = argv[++i];
      if (!a.profile) throw new Error('--profile: a directory');
    } else throw new Error(`unknown option ${k} (--services N, --runs N, --reloads N, --out FILE, --profile DIR)`);
  }
  return a;
}

/** The guest's state beside a figure: load average and the share of a core a 300 ms busy loop gets. */
function guestLoad(): string {
  const t0 = performance.now();
  const s0 = schedstat('self');
  while (performance.now() - t0 < 300) {
    // spin
  }
  const share = (schedstat('self').runNs - s0.runNs) / 1e6 / (performance.now() - t0);
  return `load ${loadavg()}, busy loop ${(share * 100).toFixed(0)} %`;
}

function sh(cmd: string, args: string[], input?: string | Buffer): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 1 << 30, timeout: 900_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.signal ?? ''} ${String(r.stderr).slice(0, 400)}`);
  return r.stdout;
}

// ---------------------------------------------------------------- cold start

const COLD_DIR = '/run/lvsd-lab-cold';

interface ColdResult {
  tool: 'ipvsadm -R' | 'lvsd director run';
  /** process start to the complete table (ipvsadm: its exit) */
  wallMs: number;
  /** lvsd: process start to the control socket (config parsed once, netlink open) */
  socketMs?: number;
  /** lvsd: the daemon's own "director started" log time, from process start */
  loggedMs?: number;
  /** lvsd: the /proc read before the one that saw the complete table ended this long after start */
  lastIncompleteMs?: number;
  /** lvsd: one /proc/net/ip_vs read of the complete table, ms */
  procReadMs?: number;
  /** user+system CPU of the process (with its children: bin/lvsd's launcher runs node as one) up to the complete table, ms */
  cpuMs: number;
  /** `ipvsadm -Sn`, sorted, written here */
  save: string;
  entries: number;
  load: string;
}

/** Services and real servers /proc/net/ip_vs of this namespace shows. */
function procCounts(text: string): { services: number; servers: number } {
  let services = 0;
  let servers = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('TCP ') || line.startsWith('UDP ') || line.startsWith('FWM ')) services++;
    else if (line.startsWith('  -> ') && !line.startsWith('  -> RemoteAddress')) servers++;
  }
  return { services, servers };
}

/** pid and its descendants (bin/lvsd's launcher runs node as its child): /proc/PID/task/TID/children. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && i < 64; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(' ').map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** user+system CPU of a process and its live descendants, µs */
function treeCpuUs(pid: number): number {
  let us = 0;
  for (const p of processTree(pid)) {
    try {
      us += processCpuUs(p);
    } catch {
      // gone meanwhile
    }
  }
  return us;
}

function saveSorted(path: string): number {
  const lines = sh('ipvsadm', ['-S', '-n']).split('\n').filter(Boolean).sort();
  writeFileSync(path, lines.join('\n') + '\n');
  return lines.length;
}

async function coldChild(tool: string, services: number, run: number, profile?: string): Promise<ColdResult> {
  setUpBenchNamespace();
  const load = guestLoad();
  const save = join(COLD_DIR, `save-${tool}-${run}.txt`);
  if (tool === 'ipvsadm') {
    const t = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S', 'ipvsadm', '-R'], {
      input: readFileSync(join(COLD_DIR, 'restore.txt')),
      stdio: ['pipe', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 900_000,
    });
    const wallMs = performance.now() - t;
    if (r.status !== 0) throw new Error(`ipvsadm -R: exit ${r.status} ${r.stderr}`);
    const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
    const entries = saveSorted(save);
    sh('ipvsadm', ['-C']);
    return { tool: 'ipvsadm -R', wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, save, entries, load };
  }
  const cfg = join(COLD_DIR, 'director.yaml');
  const socket = join(COLD_DIR, 'director.sock');
  rmSync(join(COLD_DIR, 'state.json'), { force: true });
  rmSync(socket, { force: true });
  const logPath = join(COLD_DIR, `lvsd-${run}.log`);
  const fd = openSync(logPath, 'w');
  const t0 = performance.now();
  const t0Wall = Date.now();
  // profiled: the CLI as plain JavaScript (what bin/lvsd runs when its snapshot does not fit, as here)
  const child = profile
    ? spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profile, join(LVSD, '..', 'lvsd.js'), 'director', 'run', '-c', cfg], { stdio: ['ignore', fd, fd] })
    : spawn(LVSD, ['director', 'run', '-c', cfg], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let socketMs: number | undefined;
  // the socket appears after the first parse, before the daemon reads the kernel
  while (socketMs === undefined) {
    if (child.exitCode !== null) throw new Error(`lvsd exited ${child.exitCode}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    if (existsSync(socket)) socketMs = performance.now() - t0;
    else await sleep(20);
    if (performance.now() - t0 > 900_000) throw new Error('lvsd: no control socket after 900 s');
  }
  // then the kernel's table, read back from /proc every 250 ms until complete
  let lastIncompleteMs = socketMs;
  let wallMs = NaN;
  let procReadMs = NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lvsd exited ${child.exitCode}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
    const r0 = performance.now();
    const c = procCounts(readFileSync('/proc/self/net/ip_vs', 'utf8'));
    const r1 = performance.now();
    if (c.services === services && c.servers === services * 4) {
      wallMs = r1 - t0;
      procReadMs = r1 - r0;
      break;
    }
    lastIncompleteMs = r1 - t0;
    if (r1 - t0 > 900_000) throw new Error(`lvsd: table incomplete after 900 s (${c.services} services, ${c.servers} servers)`);
    await sleep(250);
  }
  const cpuMs = treeCpuUs(child.pid!) / 1000;
  // the daemon's own time for the end of its first pass (pino time, ms since the epoch)
  let loggedMs: number | undefined;
  for (let i = 0; i < 200 && loggedMs === undefined; i++) {
    for (const line of readFileSync(logPath, 'utf8').split('\n')) {
      if (line.includes('"director started"')) loggedMs = (JSON.parse(line) as { time: number }).time - t0Wall;
    }
    if (loggedMs === undefined) await sleep(100);
  }
  const entries = saveSorted(save);
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(profile ? 300_000 : 30_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  sh('ipvsadm', ['-C']);
  return { tool: 'lvsd director run', wallMs, socketMs, loggedMs, lastIncompleteMs, procReadMs, cpuMs, save, entries, load };
}

function coldInFreshNamespace(tool: string, services: number, run: number, profile?: string): ColdResult {
  budget();
  spawnSync('sleep', ['3']); // the previous namespace's teardown
  const r = spawnSync('unshare', ['--net', process.execPath, __filename, '--cold-child', tool, String(services), String(run), ...(profile ? [profile] : [])], {
    encoding: 'utf8',
    timeout: 1_200_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`cold child ${tool}: exit ${r.status} ${r.signal ?? ''}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ColdResult;
}

async function cold(a: Args): Promise<string> {
  mkdirSync(COLD_DIR, { recursive: true });
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_wrr', 'dummy']);
  const c: BenchConfig = { services: a.services, perService: 4, dir: COLD_DIR };
  writeFileSync(join(COLD_DIR, 'restore.txt'), ipvsadmRestore(c));
  // info: the daemon logs "director started" at the end of its first pass (a file, not the console)
  writeFileSync(join(COLD_DIR, 'director.yaml'), directorYaml(c).replace('log_level: warn', 'log_level: info'));
  const loadBefore = loadavg();
  const rows: ColdResult[] = [];
  for (let run = 1; run <= a.runs; run++) {
    // alternate the order: neither tool always follows the other's teardown
    for (const tool of run % 2 ? ['ipvsadm', 'lvsd'] : ['lvsd', 'ipvsadm']) {
      progress(`cold run ${run}: ${tool}`);
      const r = coldInFreshNamespace(tool, a.services, run);
      progress(`cold run ${run}: ${tool}: ${f0(r.wallMs)} ms, ${r.entries} lines saved`);
      rows.push(r);
    }
  }
  let profiled: ColdResult | undefined;
  if (a.profile) {
    mkdirSync(a.profile, { recursive: true });
    progress('cold: one more lvsd run under node --cpu-prof (not in the table)');
    profiled = coldInFreshNamespace('lvsd', a.services, 99, a.profile);
  }
  // the judge: every table the daemon made equals what ipvsadm -R made, line for line (sorted)
  const reference = readFileSync(rows.find((r) => r.tool === 'ipvsadm -R')!.save, 'utf8');
  const expectedLines = a.services * 5;
  const verdicts = rows.map((r) => {
    const same = readFileSync(r.save, 'utf8') === reference;
    if (!same) throw new Error(`${r.tool}: ipvsadm -Sn differs from the table ipvsadm -R made (${r.save})`);
    return same;
  });
  if (reference.split('\n').filter(Boolean).length !== expectedLines) throw new Error(`ipvsadm -Sn has ${reference.split('\n').length - 1} lines, expected ${expectedLines}`);
  // what the daemon parses twice at start (the CLI's check, then Director.start), timed here in a fresh process
  const parse = spawnSync(process.execPath, [__filename, '--parse-child', join(COLD_DIR, 'director.yaml')], { encoding: 'utf8', timeout: 600_000 });
  const parseMs = parse.status === 0 ? (JSON.parse(parse.stdout) as number[]) : [NaN, NaN];
  const ipv = rows.filter((r) => r.tool === 'ipvsadm -R');
  const lv = rows.filter((r) => r.tool === 'lvsd director run');
  const mIpvsadm = median(ipv.map((r) => r.wallMs));
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const lines = [
    `### Cold start, ${f0(a.services)} services x 4 (no checks), ${a.runs} runs per tool, one lab boot (kernel ${kernel}, qemu TCG, 2 vCPU, ${new Date().toISOString()})`,
    '',
    `Guest load average before: ${loadBefore}; after: ${loadavg()}. Each load in a fresh network namespace; the order alternates.`,
    `Judge: \`ipvsadm -S -n\` after each load, sorted, identical for every run of both tools (${f0(expectedLines)} lines): ${verdicts.every(Boolean) ? 'yes' : 'NO'}.`,
    '',
    '| run | tool | start -> complete table in the kernel, ms | start -> control socket (config parsed, netlink open), ms | control socket -> complete, ms | daemon logged "director started", ms from start | previous /proc read (incomplete) ended, ms | CPU user+sys ms | guest load |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r, i) =>
      `| ${Math.floor(i / 2) + 1} | ${r.tool} | ${f0(r.wallMs)} | ${f0(r.socketMs ?? NaN)} | ${r.socketMs === undefined ? '-' : f0(r.wallMs - r.socketMs)} | ${f0(r.loggedMs ?? NaN)} | ${f0(r.lastIncompleteMs ?? NaN)} | ${f0(r.cpuMs)} | ${r.load} |`,
    ),
    '',
    `Medians: ipvsadm -R ${f0(mIpvsadm)} ms; lvsd director run, start -> complete ${f0(median(lv.map((r) => r.wallMs)))} ms (**${(median(lv.map((r) => r.wallMs)) / mIpvsadm).toFixed(2)}x** ipvsadm -R, goal <= 0.2x), ` +
      `control socket -> complete ${f0(median(lv.map((r) => r.wallMs - (r.socketMs ?? 0))))} ms (${(median(lv.map((r) => r.wallMs - (r.socketMs ?? 0))) / mIpvsadm).toFixed(2)}x), ` +
      `daemon's own log of the end of its first pass ${f0(median(lv.map((r) => r.loggedMs ?? NaN)))} ms (${(median(lv.map((r) => r.loggedMs ?? NaN)) / mIpvsadm).toFixed(2)}x).`,
    `One read of the complete /proc/net/ip_vs took ${f0(median(lv.map((r) => r.procReadMs ?? NaN)))} ms (median): the "complete" time is the end of the first read that saw every entry, so it is late by up to one read and the 250 ms between reads.`,
    `The config parse alone in a fresh node here (loadDirectorConfig of the same file): first ${f0(parseMs[0])} ms, second in the same process ${f0(parseMs[1])} ms.`,
    ...(profiled ? [`A further run under \`node --cpu-prof\` (not in the medians; profile in ${a.profile}): start -> complete ${f0(profiled.wallMs)} ms, start -> control socket ${f0(profiled.socketMs ?? NaN)} ms.`] : []),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------- reload with checks running

const NS = 'lvsdlabbench';
const CHECK_PORT = 8080;
const LISTENER = `
const net = require('net');
let n = 0;
const s = net.createServer((c) => { n++; c.on('error', () => {}); c.destroy(); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
s.listen({ port: Number(process.argv[1]), host: '0.0.0.0', backlog: 65535 }, () => console.log('listening'));
setInterval(() => console.log('accepts ' + n + ' ' + Date.now()), 500);
setTimeout(() => process.exit(0), 3600e3);
`;

class Listener {
  readonly proc: ChildProcess;
  accepts = 0;
  at = 0;
  private ready: Promise<void>;

  constructor() {
    this.proc = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', LISTENER, String(CHECK_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      this.proc.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === 'listening') resolve();
          const m = /^accepts (\d+) (\d+)$/.exec(line);
          if (m) {
            this.accepts = Number(m[1]);
            this.at = Number(m[2]);
          }
        }
      });
    });
  }

  async start(): Promise<void> {
    await Promise.race([this.ready, sleep(60_000).then(() => Promise.reject(new Error('listener: not listening after 60 s')))]);
  }

  /** the namespace's IPVS table (the listener lives in the namespace) */
  procIpvs(): string {
    return readFileSync(`/proc/${this.proc.pid}/net/ip_vs`, 'utf8');
  }

  /** accepts per second over the next `ms` (from the listener's own counts) */
  async rate(ms: number): Promise<number> {
    const a0 = this.accepts;
    const t0 = this.at;
    await sleep(ms);
    return ((this.accepts - a0) * 1000) / Math.max(1, this.at - t0);
  }
}

const hexAddr = (a: string): string =>
  a
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();

/** Weight of server 0 of service 0 (the one the reloads change), straight from /proc text. */
function firstWeight(text: string): number | undefined {
  const svc = text.indexOf(`TCP  ${hexAddr(serviceAddress(0))}:0050`);
  if (svc < 0) return undefined;
  const end = text.indexOf('\nTCP ', svc + 1);
  const block = text.slice(svc, end < 0 ? undefined : end);
  const m = new RegExp(`->\\s+${hexAddr(serverAddress(0))}:0050\\s+\\S+\\s+(\\d+)`).exec(block);
  return m ? Number(m[1]) : undefined;
}

interface ReloadRow {
  director: 'lvsd' | 'keepalived';
  run: number;
  reload: number;
  weight: number;
  ms: number;
  /** lvsd: writes by the status counter, and by the "config reloaded" log line */
  opsStatus?: number;
  opsLogged?: number;
  /** lvsd: SIGHUP -> "config reloaded" logged */
  reloadDoneMs?: number;
  /** lvsd: SIGHUP -> its handler logged it (the event loop's delay) */
  hupSeenMs?: number;
  identicalOpsStatus?: number;
  identicalOpsLogged?: number;
  identicalMs?: number;
  checksPerS: number;
  load: string;
}

interface IdleRow {
  director: 'lvsd' | 'keepalived';
  run: number;
  checksPerS: number;
  /** % of one core: lvsd's process; keepalived's checker process (and its parent apart) */
  cpuPct: number;
  parentCpuPct?: number;
  waitPct: number;
  startMs: number;
  load: string;
}

class ReloadBench {
  node!: DirectorNode;
  listener!: Listener;
  readonly dir = '/run/lvsd-lab-reload';

  constructor(readonly a: Args) {}

  async setUp(): Promise<void> {
    spawnSync('ip', ['netns', 'del', NS]);
    sh('ip', ['netns', 'add', NS]);
    sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_wrr']);
    mkdirSync(this.dir, { recursive: true });
    this.listener = new Listener();
    await this.listener.start();
    this.node = new DirectorNode('node', NS, '198.18.0.2', this.dir);
  }

  async tearDown(): Promise<void> {
    await this.node?.stop('SIGKILL').catch(() => undefined);
    this.node?.dispose();
    this.listener?.proc.kill('SIGKILL');
    spawnSync('ip', ['netns', 'exec', NS, 'ipvsadm', '-C']);
    spawnSync('ip', ['netns', 'del', NS]);
  }

  config(director: 'lvsd' | 'keepalived', weight: number): string {
    const c: BenchConfig = {
      services: this.a.services,
      perService: 4,
      dir: this.node.dir,
      checks: this.a.noChecks ? undefined : { port: CHECK_PORT, interval: '1s', timeout: '1s', rise: 1, fall: 2 },
      firstWeight: weight,
    };
    return director === 'lvsd' ? directorYaml(c).replace('log_level: warn', 'log_level: info') : keepalivedConf(c, 1);
  }

  /** the daemon's "config reloaded" lines so far: their ops and times */
  /** times of the daemon's "SIGHUP: reloading the config" lines (the handler ran) */
  hupLines(): number[] {
    return readFileSync(this.node.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"SIGHUP: reloading the config"'))
      .map((l) => (JSON.parse(l) as { time: number }).time);
  }

  reloadedLines(): { ops: number; time: number }[] {
    const out: { ops: number; time: number }[] = [];
    for (const line of readFileSync(this.node.logPath, 'utf8').split('\n')) {
      if (!line.includes('"config reloaded"')) continue;
      const o = JSON.parse(line) as { ops: number; time: number };
      out.push({ ops: o.ops, time: o.time });
    }
    return out;
  }

  async waitFor(what: string, cond: () => boolean | Promise<boolean>, ms: number, every: number): Promise<void> {
    const t0 = Date.now();
    while (!(await cond())) {
      if (!this.node.running) throw new Error(`${what}: the daemon exited\n${this.node.log()}`);
      if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${this.node.log()}`);
      await sleep(every);
    }
  }

  /** reconcile.opsTotal, or undefined when the daemon does not answer within 30 s (seen with 4,000 checks under TCG) */
  async opsTotal(): Promise<number | undefined> {
    const t = Date.now();
    try {
      return (await controlStatus({ socket: this.node.socket, timeoutMs: 30_000 })).reconcile.opsTotal;
    } catch (err) {
      progress(`lvsd: status did not answer (${Date.now() - t} ms): ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * lvsd: the process started for this node's config (bin/lvsd's launcher) as `tree`, and node
   * under it as `main` (whose main thread runs every check); keepalived: its checker process as
   * `main` and `tree`, its parent apart.
   */
  pids(director: 'lvsd' | 'keepalived'): { main: number; tree: number; parent?: number } {
    if (director === 'lvsd') {
      const mine = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map((d) => {
          try {
            return { pid: Number(d), argv: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0') };
          } catch {
            return { pid: Number(d), argv: [] };
          }
        })
        .filter((p) => p.argv.includes(this.node.configPath) && p.argv.includes('director'));
      const launcher = mine.find((p) => !p.argv[0].endsWith('node') && p.argv[0] !== 'ip');
      const node = mine.find((p) => p.argv[0].endsWith('node'));
      if (!node) throw new Error(`lvsd: no node process for ${this.node.configPath}`);
      return { main: node.pid, tree: launcher?.pid ?? node.pid };
    }
    const read = (f: string) => Number(readFileSync(join(this.node.dir, f), 'utf8').trim());
    return { main: read('checkers.pid'), tree: read('checkers.pid'), parent: read('keepalived.pid') };
  }

  async run(director: 'lvsd' | 'keepalived', run: number, rows: ReloadRow[], idle: IdleRow[]): Promise<void> {
    budget();
    const n = this.a.services;
    rmSync(join(this.node.dir, 'state.json'), { force: true });
    progress(`reload run ${run}: ${director}: start`);
    const t0 = Date.now();
    this.node.start(director === 'lvsd' ? 'lvsd' : 'keepalived-lvs', this.config(director, 1));
    await this.waitFor(
      `${director}: ${n} services x 4 at weight 1`,
      () => {
        const t = this.listener.procIpvs();
        const c = procCounts(t);
        return c.services === n && c.servers === n * 4 && [...t.matchAll(/^\s+->\s+[0-9A-F]+:[0-9A-F]+\s+\S+\s+(\d+)/gm)].every((m) => m[1] === '1');
      },
      900_000,
      500,
    );
    const startMs = Date.now() - t0;
    progress(`reload run ${run}: ${director}: table complete in ${startMs} ms`);
    if (director === 'keepalived') {
      await this.waitFor('keepalived pid files', () => existsSync(join(this.node.dir, 'checkers.pid')), 30_000, 200);
    }
    await sleep(5000);
    // checks at 1 s while nothing else happens: the listener's accepts, the daemon's CPU
    const pids = this.pids(director);
    const load = guestLoad();
    const c0 = treeCpuUs(pids.tree);
    const p0 = pids.parent ? processCpuUs(pids.parent) : 0;
    const s0 = schedstat(pids.main);
    const w0 = Date.now();
    const checksPerS = await this.listener.rate(10_000);
    const wallMs = Date.now() - w0;
    idle.push({
      director,
      run,
      checksPerS,
      cpuPct: ((treeCpuUs(pids.tree) - c0) / 1000 / wallMs) * 100,
      parentCpuPct: pids.parent ? ((processCpuUs(pids.parent) - p0) / 1000 / wallMs) * 100 : undefined,
      waitPct: ((schedstat(pids.main).waitNs - s0.waitNs) / 1e6 / wallMs) * 100,
      startMs,
      load: `${load}; after: ${guestLoad()}`,
    });
    progress(`reload run ${run}: ${director}: ${checksPerS.toFixed(0)} checks/s`);

    for (let k = 1; k <= this.a.reloads; k++) {
      budget();
      const weight = k + 1;
      const cfg = this.config(director, weight);
      const rate = await this.listener.rate(2000);
      const rowLoad = guestLoad();
      const opsBefore = director === 'lvsd' ? await this.opsTotal() : 0;
      const linesBefore = director === 'lvsd' ? this.reloadedLines().length : 0;
      const at = this.node.reload(cfg);
      await this.waitFor(`${director}: weight ${weight} in the kernel`, () => firstWeight(this.listener.procIpvs()) === weight, 300_000, 20);
      const ms = Date.now() - at;
      const row: ReloadRow = { director, run, reload: k, weight, ms, checksPerS: rate, load: rowLoad };
      if (director === 'lvsd') {
        await this.waitFor('lvsd: "config reloaded"', () => this.reloadedLines().length > linesBefore, 300_000, 50);
        const done = this.reloadedLines()[linesBefore];
        row.opsLogged = done.ops;
        row.reloadDoneMs = done.time - at;
        row.hupSeenMs = this.hupLines()[linesBefore] - at;
        const opsAfter = await this.opsTotal();
        row.opsStatus = opsBefore === undefined || opsAfter === undefined ? undefined : opsAfter - opsBefore;
        // the same config again: nothing to write
        await sleep(1000);
        const ops2 = await this.opsTotal();
        const at2 = this.node.reload(cfg);
        await this.waitFor('lvsd: "config reloaded" (identical)', () => this.reloadedLines().length > linesBefore + 1, 300_000, 50);
        const done2 = this.reloadedLines()[linesBefore + 1];
        row.identicalOpsLogged = done2.ops;
        row.identicalMs = done2.time - at2;
        const ops3 = await this.opsTotal();
        row.identicalOpsStatus = ops2 === undefined || ops3 === undefined ? undefined : ops3 - ops2;
        if (firstWeight(this.listener.procIpvs()) !== weight) throw new Error('lvsd: the identical reload changed the weight');
      }
      rows.push(row);
      progress(`reload run ${run}: ${director}: reload ${k}: ${ms} ms${director === 'lvsd' ? `, ops ${row.opsStatus}/${row.opsLogged}, identical ${row.identicalOpsStatus}/${row.identicalOpsLogged}` : ''}`);
      await sleep(3000);
    }
    // the judge at the end: ipvsadm -Ln shows the last weight
    const w = this.a.reloads + 1;
    const judged = sh('ip', ['netns', 'exec', NS, 'ipvsadm', '-L', '-n', '-t', `${serviceAddress(0)}:80`]);
    if (!new RegExp(`->\\s+${serverAddress(0).replace(/\./g, '\\.')}:80\\s+\\S+\\s+${w}\\s`).test(judged)) {
      throw new Error(`${director}: ipvsadm -Ln does not show weight ${w}:\n${judged}`);
    }
    await this.node.stop('SIGTERM');
    spawnSync('ip', ['netns', 'exec', NS, 'ipvsadm', '-C']);
  }
}

async function reload(a: Args): Promise<string> {
  const b = new ReloadBench(a);
  const rows: ReloadRow[] = [];
  const idle: IdleRow[] = [];
  const loadBefore = loadavg();
  try {
    await b.setUp();
    for (let run = 1; run <= a.runs; run++) {
      const order: ('lvsd' | 'keepalived')[] = run % 2 ? ['lvsd', 'keepalived'] : ['keepalived', 'lvsd'];
      for (const d of order) await b.run(d, run, rows, idle);
    }
  } finally {
    await b.tearDown();
  }
  const of = (d: string) => rows.filter((r) => r.director === d);
  const mL = median(of('lvsd').map((r) => r.ms));
  const mK = median(of('keepalived').map((r) => r.ms));
  const lv = of('lvsd');
  // the status counter where the daemon answered, its log line always
  const oneWrite = lv.every((r) => (r.opsStatus ?? 1) === 1 && r.opsLogged === 1);
  const zeroWrites = lv.every((r) => (r.identicalOpsStatus ?? 0) === 0 && r.identicalOpsLogged === 0);
  const unanswered = lv.filter((r) => r.opsStatus === undefined || r.identicalOpsStatus === undefined).length;
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const lines = [
    `### SIGHUP to applied, one changed weight, ${f0(a.services)} services x 4 with ${a.noChecks ? 'no checks' : `${f0(a.services * 4)} TCP checks at 1 s`}, one lab boot (kernel ${kernel}, qemu TCG, 2 vCPU, ${new Date().toISOString()})`,
    '',
    `Guest load average before: ${loadBefore}; after: ${loadavg()}. ${a.runs} runs per director, alternating, ${a.reloads} reloads per run (weight of ${serverAddress(0)}:80 in ${serviceAddress(0)}:80 set to 2, 3, ...).`,
    ...(a.noChecks ? ['No checks: the reload path alone.'] : [`Checks: lvsd tcp, interval 1s, timeout 1s, rise 1, fall 2; keepalived TCP_CHECK, delay_loop 1, connect_timeout 1, retry 1, inhibit_on_failure; all to one listener on 0.0.0.0:${CHECK_PORT} in the bench's namespace (targets 127.2.x.y).`]),
    'Measured: from kill(SIGHUP) to the first read of /proc/<pid>/net/ip_vs (polled every 20 ms) that shows the new weight; ipvsadm -Ln confirmed the last weight of every run.',
    '',
    '| director | run | reload | SIGHUP -> weight in kernel, ms | lvsd: writes (status opsTotal / log) | lvsd: SIGHUP -> handler ran (logged), ms | lvsd: SIGHUP -> "config reloaded", ms | lvsd identical reload: writes (status / log), ms | listener accepts/s before | guest load |',
    '|---|---:|---:|---:|---|---:|---:|---|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.director} | ${r.run} | ${r.reload} | ${f0(r.ms)} | ${r.director === 'lvsd' ? `${r.opsStatus ?? '-'} / ${r.opsLogged}` : '-'} | ${r.director === 'lvsd' ? f0(r.hupSeenMs!) : '-'} | ${r.director === 'lvsd' ? f0(r.reloadDoneMs!) : '-'} | ${r.director === 'lvsd' ? `${r.identicalOpsStatus ?? '-'} / ${r.identicalOpsLogged}, ${f0(r.identicalMs!)}` : '-'} | ${f0(r.checksPerS)} | ${r.load} |`,
    ),
    '',
    `Medians: lvsd ${f0(mL)} ms, keepalived ${f0(mK)} ms: **lvsd/keepalived ${(mL / mK).toFixed(2)}x** (goal: faster than keepalived). ` +
      `lvsd made exactly one write per changed reload: ${oneWrite ? 'yes' : 'NO'}; zero writes per identical reload: ${zeroWrites ? 'yes' : 'NO'}` +
      (unanswered ? ` (in ${unanswered} of ${lv.length} reloads the status request got no answer within 30 s; "-": only the log line's count).` : '.'),
    ...(a.noChecks
      ? []
      : [
          '',
          `#### ${f0(a.services * 4)} TCP checks at 1 s inside the running daemon, same boot (10 s window, 5 s after the table was complete, no reload)`,
          '',
          '| director | run | start -> table complete, ms | checks/s at the listener (asked: ' + f0(a.services * 4) + ') | CPU, % of a core | main thread waited for a CPU, % of wall | guest load |',
          '|---|---:|---:|---:|---|---:|---|',
          ...idle.map(
            (r) =>
              `| ${r.director} | ${r.run} | ${f0(r.startMs)} | ${f0(r.checksPerS)} | ${r.cpuPct.toFixed(0)}${r.parentCpuPct !== undefined ? ` (checker process; parent ${r.parentCpuPct.toFixed(0)})` : ''} | ${r.waitPct.toFixed(1)} | ${r.load} |`,
          ),
        ]),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const hard = setTimeout(() => {
    console.error(`director-lab-bench: over ${HARD_LIMIT_MS / 1000} s, giving up`);
    process.exit(1);
  }, HARD_LIMIT_MS + 60_000).unref();
  const text = a.mode === 'cold' ? await cold(a) : await reload(a);
  clearTimeout(hard);
  console.log(text);
  if (a.out) appendFileSync(a.out, text + '\n');
}

if (process.argv[2] === '--cold-child') {
  coldChild(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), process.argv[6]).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err: Error) => {
      console.error(err.stack ?? err);
      process.exit(1);
    },
  );
} else if (process.argv[2] === '--parse-child') {
  const t0 = performance.now();
  loadDirectorConfig(process.argv[3]);
  const t1 = performance.now();
  loadDirectorConfig(process.argv[3]);
  process.stdout.write(JSON.stringify([t1 - t0, performance.now() - t1]));
} else {
  main().catch((err: Error) => {
    console.error(`director-lab-bench: ${err.stack ?? err}`);
    process.exit(1);
  });
}
