// IPVS at scale, lvsd against ipvsadm in the same lab boot: restore of N services x 4 real
// servers, full listing, and a small command. Every timed load runs in a fresh network namespace
// (the kernel keeps deleted destinations for minutes, which slows a reload of the same table).
//
//   in the lab:  scripts/lab.sh node dist/bench/ipvs-bench.js [--services 10000] [--runs 3] [--small-rounds 41] [--lists-only | --restore-only]
//   --small-rounds: rounds of the small commands (0: none) (node -e 0, lvsd ipvs list --timeout, ...), run
//   interleaved in a namespace of their own; under emulation one start varies by +-100 ms, so a
//   median of a few runs says little about a difference of tens of milliseconds
//   prints a markdown table (also to --out FILE, e.g. "$LVSD_LAB_RESULTS/ipvs.md")
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreText } from './ipvs-table';
import { setUpBenchNamespace } from './support/namespace';

const REPO = join(__dirname, '..', '..');
const LVSD = join(REPO, 'bin', 'lvsd');
const NODE = process.execPath;
const HARD_LIMIT_MS = 1_500_000; // the whole run
const SH_NODE = "sh -c 'exec node -e 0'";
// bench/exec-node.c, built at the start of a run: one static exec before node, as bin/lvsd's launcher
const EXEC_NODE = '/run/lvsd-bench-exec-node';
const STUB_NODE = 'exec-node node -e 0';
const started = Date.now();

interface Options {
  services: number;
  runs: number;
  smallRounds: number;
  /** skip the restore runs (the listing runs still load the table with ipvsadm -R, untimed) */
  listsOnly: boolean;
  /** skip the listing runs (restore only) */
  restoreOnly: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { services: 10_000, runs: 3, smallRounds: 41, listsOnly: false, restoreOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${a}: an integer from 1 to ${max}`);
      return v;
    };
    if (a === '--services') o.services = num(40_000);
    else if (a === '--runs') o.runs = num(9);
    else if (a === '--small-rounds') o.smallRounds = argv[i + 1] === '0' ? (i++, 0) : num(101);
    else if (a === '--lists-only') o.listsOnly = true;
    else if (a === '--restore-only') o.restoreOnly = true;
    else if (a === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// ---- child side: runs inside `unshare --net`, prints one JSON line ----

interface Timing {
  wall: number;
  /** user + system CPU of the process, ms (system time includes the kernel's IPVS work) */
  cpu: number;
  /** the small commands: median over rounds of (this - that round's node -e 0), ms */
  paired?: number;
}

/** Runs a command under /usr/bin/time; wall clock from here, CPU from time(1). */
function timeCmd(cmd: string, args: string[], stdinFile?: string, env?: NodeJS.ProcessEnv): Timing {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S', cmd, ...args], {
    input: stdinFile ? readFileSync(stdinFile) : undefined,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: env && { ...process.env, ...env },
    timeout: 900_000,
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.signal ?? ''} ${String(r.stderr).slice(0, 300)}`);
  const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

async function timeHere(f: () => Promise<void>): Promise<Timing> {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  await f();
  const u = process.cpuUsage(c);
  return { wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: (u.user + u.system) / 1000 };
}

const MODES: Record<string, (file: string, extra: string) => Promise<Record<string, Timing>>> = {
  async 'restore-ipvsadm'(file) {
    return { 'ipvsadm -R': timeCmd('ipvsadm', ['-R'], file) };
  },
  async 'restore-lvsd'(file) {
    return { 'lvsd ipvs restore': timeCmd(LVSD, ['ipvs', 'restore'], file) };
  },
  async 'restore-client'(file) {
    // the library path alone: parse + encode + IpvsClient.apply, in this process (no node start-up)
    const { parseRestore } = await import('../src/ipvs/restore');
    const { openIpvs } = await import('../src/ipvs/client');
    let failed = 0;
    const t = await timeHere(async () => {
      const lines = parseRestore(readFileSync(file, 'utf8'));
      const c = await openIpvs();
      failed = (await c.apply(lines.map((l) => l.command))).failed.length;
      c.close();
    });
    if (failed) throw new Error(`apply: ${failed} ops failed`);
    return { 'IpvsClient.apply (in process)': t };
  },
  async lists(file, rounds) {
    const runs = Number(rounds);
    execFileSync('ipvsadm', ['-R'], { input: readFileSync(file) });
    const services = Number(file.split('-').pop());
    const out: Record<string, Timing[]> = {};
    const add = (k: string, v: Timing) => (out[k] ??= []).push(v);
    const { openIpvs } = await import('../src/ipvs/client');
    for (let i = 0; i < runs; i++) {
      add('ipvsadm -Ln', timeCmd('ipvsadm', ['-Ln']));
      add('lvsd ipvs list -n', timeCmd(LVSD, ['ipvs', 'list', '-n']));
      // the counters: one destination dump per service (no /proc/net/ip_vs shortcut)
      add('ipvsadm -Ln --stats', timeCmd('ipvsadm', ['-Ln', '--stats']));
      add('lvsd ipvs list -n --stats', timeCmd(LVSD, ['ipvs', 'list', '-n', '--stats']));
      // the destination dumps on the client's own sockets: does native/netlink_dumps.c pay?
      add('lvsd ipvs list -n --stats, LVSD_NATIVE=0', timeCmd(LVSD, ['ipvs', 'list', '-n', '--stats'], undefined, { LVSD_NATIVE: '0' }));
      let n = 0;
      add('IpvsClient.listTable (in process)', await timeHere(async () => {
        const c = await openIpvs();
        n = (await c.listTable()).length;
        c.close();
      }));
      if (n !== services) throw new Error(`listTable: ${n} services, expected ${services}`);
    }
    // a fast listing counts only if it is ipvsadm's, byte for byte
    for (const mode of [[], ['--stats']]) {
      if (!execFileSync(LVSD, ['ipvs', 'list', '-n', ...mode], { maxBuffer: 1 << 30 }).equals(execFileSync('ipvsadm', ['-Ln', ...mode], { maxBuffer: 1 << 30 }))) {
        throw new Error(`lvsd ipvs list -n ${mode.join(' ')} differs from ipvsadm -Ln ${mode.join(' ')}`);
      }
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)) }]));
  },
  // the small commands, interleaved, on an empty table; for each, also the median over rounds of
  // its difference to that round's node -e 0 (the start-up noise of one round is mostly common)
  async small(_file, rounds) {
    const out: Record<string, Timing[]> = {};
    const add = (k: string, v: Timing) => (out[k] ??= []).push(v);
    for (let i = 0; i < Number(rounds); i++) {
      add('ipvsadm -l --timeout', timeCmd('ipvsadm', ['-l', '--timeout']));
      add('node -e 0', timeCmd(NODE, ['-e', '0']));
      // a shell in front of node (what a shell-script launcher would cost), and one static exec in
      // front of node (what bin/lvsd's launcher costs by itself)
      add(SH_NODE, timeCmd('sh', ['-c', `exec ${NODE} -e 0`]));
      add(STUB_NODE, timeCmd(EXEC_NODE, [NODE, '-e', '0']));
      add('lvsd ipvs list --timeout', timeCmd(LVSD, ['ipvs', 'list', '--timeout']));
      add('lvsd --version', timeCmd(LVSD, ['--version'])); // the start alone: no socket, one line out
    }
    const base = out['node -e 0'];
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [
        k,
        { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)), paired: median(v.map((x, i) => x.wall - base[i].wall)) },
      ]),
    );
  },
};

async function child(mode: string, file: string, extra: string): Promise<void> {
  setUpBenchNamespace();
  const result = await MODES[mode](file, extra);
  // leave an empty table: tearing down a namespace with 50,000 entries costs the next run
  spawnSync('ipvsadm', ['-C']);
  process.stdout.write(JSON.stringify(result) + '\n');
}

// ---- parent side ----

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function inFreshNamespace(mode: string, file: string, extra = ''): Record<string, Timing> {
  if (Date.now() - started > HARD_LIMIT_MS) throw new Error('bench: time limit reached');
  spawnSync('sleep', ['3']); // let the previous namespace's teardown finish
  const r = spawnSync('unshare', ['--net', NODE, __filename, '--child', mode, file, extra], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`bench child ${mode}: exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const file = `/run/lvsd-bench-restore-${o.services}`;
  writeFileSync(file, restoreText(o.services));
  // load every module once, so no run pays for modprobe
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_wrr', 'dummy']);
  execFileSync(process.env.CC || 'cc', ['-O2', '-static', '-o', EXEC_NODE, join(REPO, 'bench', 'exec-node.c')]);
  const samples: Record<string, Timing[]> = {};
  const add = (r: Record<string, Timing>) => Object.entries(r).forEach(([k, v]) => (samples[k] ??= []).push(v));
  const restores = ['restore-ipvsadm', 'restore-lvsd', 'restore-client'];
  for (let i = 0; i < (o.listsOnly ? 0 : o.runs); i++) {
    // rotate the order, so no tool always runs right after another's teardown
    for (let j = 0; j < restores.length; j++) add(inFreshNamespace(restores[(i + j) % restores.length], file));
    const last = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(v[v.length - 1].wall)]));
    process.stderr.write(`run ${i + 1}/${o.runs}: ${JSON.stringify(last)}\n`);
  }
  if (!o.restoreOnly) add(inFreshNamespace('lists', file, String(o.runs)));
  if (!o.restoreOnly && o.smallRounds > 0) add(inFreshNamespace('small', file, String(o.smallRounds)));
  const med: Record<string, Timing> = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, { wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)), paired: v[0].paired }]),
  );
  const rows: [string, string, string][] = [
    ['ipvsadm -R', 'ipvsadm -R', ''],
    ['lvsd ipvs restore', 'ipvsadm -R', '<= 0.2'],
    ['IpvsClient.apply (in process)', 'ipvsadm -R', ''],
    ['ipvsadm -Ln', 'ipvsadm -Ln', ''],
    ['lvsd ipvs list -n', 'ipvsadm -Ln', '<= 0.3'],
    ['IpvsClient.listTable (in process)', 'ipvsadm -Ln', ''],
    ['ipvsadm -Ln --stats', 'ipvsadm -Ln --stats', ''],
    ['lvsd ipvs list -n --stats', 'ipvsadm -Ln --stats', ''],
    ['lvsd ipvs list -n --stats, LVSD_NATIVE=0', 'ipvsadm -Ln --stats', ''],
    ['ipvsadm -l --timeout', 'ipvsadm -l --timeout', ''],
    ['node -e 0', 'node -e 0', ''],
    [SH_NODE, 'node -e 0', ''],
    [STUB_NODE, 'node -e 0', ''],
    ['lvsd ipvs list --timeout', 'node -e 0', '+50 ms'],
    ['lvsd --version', 'node -e 0', ''],
  ];
  const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const lines = [
    `IPVS bench: ${o.services} services x 4 real servers (${o.services * 5} restore lines), median of ${o.runs} runs (the small commands, from ipvsadm -l --timeout on: of ${o.smallRounds} interleaved rounds on an empty table), one lab boot (kernel ${kernel}, qemu TCG, ${new Date().toISOString()}).`,
    'For the rows against node -e 0, "paired" is the median over rounds of (the command - that round\'s node -e 0).',
    `The guest's /proc/loadavg before: ${loadBefore}; after: ${readFileSync('/proc/loadavg', 'utf8').trim()}.`,
    '',
    '| what | wall (median) | CPU user+sys | vs | ratio (wall) | paired | goal |',
    '|---|---:|---:|---|---:|---:|---|',
    ...rows
      .filter(([k]) => med[k] !== undefined)
      .map(([k, ref, goal]) => {
        const ms = med[k].wall;
        const vs = med[ref].wall;
        const ratio = k === ref ? '1.00' : ref === 'node -e 0' ? `${ms - vs >= 0 ? '+' : ''}${Math.round(ms - vs)} ms` : (ms / vs).toFixed(2);
        const p = med[k].paired;
        const paired = ref === 'node -e 0' && k !== ref && p !== undefined ? `${p >= 0 ? '+' : ''}${Math.round(p)} ms` : '';
        return `| ${k} | ${fmt(ms)} | ${fmt(med[k].cpu)} | ${ref} | ${ratio} | ${paired} | ${goal} |`;
      }),
  ];
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (o.out) writeFileSync(o.out, text);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5] ?? '').catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
