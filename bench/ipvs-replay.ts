// The JavaScript cost of a big listing and of a restore's encoding on this machine's own CPU.
// The lab emulates its CPU in software (JavaScript runs ~14x slower there, the kernel far less),
// so its timings say little about lvsd's own code; here the kernel's replies, captured in the
// lab, are decoded and written by the code `lvsd ipvs list` runs (client.ts servicesOf and
// tableOfReplies, or serviceSettingsOf and summaryOfReplies without counters, format/table.ts writeTable; entriesOf for a director's readTable), and a restore's input is
// parsed and encoded by the code `lvsd ipvs restore` runs (restore.ts parseRestore,
// client.ts writeOps), with no kernel.
//
//   capture, in the lab (root; a namespace of its own; about 15 MB for 10,000 services):
//     scripts/lab.sh --results DIR -- node dist/bench/ipvs-replay.js --capture "$LVSD_LAB_RESULTS/ipvs-replies.bin" [--services 10000]
//   replay, on the host:
//     node dist/bench/ipvs-replay.js --replies DIR/ipvs-replies.bin [--runs 9] [--out FILE]
//   --runs: fresh processes per measurement (each times its first, cold run) and warm runs in one
//   process; the restore's input is the captured `ipvsadm -S -n` text. The fresh processes get the
//   V8 flags bin/lvsd starts node with (the last line of dist/lvsd.blob.node).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreText } from './ipvs-table';
import { entriesOf, openIpvs, serviceSettingsOf, servicesOf, summaryOfReplies, tableOfReplies } from '../src/ipvs/client';
import { serviceKeyRequest, writeOps } from '../src/ipvs/codec';
import { Cmd, IPVS_GENL_NAME, IPVS_GENL_VERSION, cmdAttrs } from '../src/ipvs/spec';
import { writeTable, type ListMode } from '../src/ipvs/format/table';
import { numericNamer } from '../src/ipvs/format/names';
import { parseRestore } from '../src/ipvs/restore';
import { dumpReplies } from '../src/netlink/dumps';
import { GenlSocket, genlMessage } from '../src/netlink/genl';
import { NETLINK_GENERIC, parseMessages } from '../src/netlink/wire';
import type { IpvsInfo, TableView } from '../src/ipvs/types';

const MAGIC = 'LVSDRPL1';

/** What the lab's kernel and ipvsadm gave for one table. */
interface Capture {
  info: IpvsInfo;
  /** the GET_SERVICE dump's parts, back to back */
  serviceDump: Buffer;
  /** every destination dump's reply (NLMSG_DONE last), service i's ending at ends[i] */
  replies: Buffer;
  ends: Uint32Array;
  /** ipvsadm -Ln, -Ln --stats and -Sn of the same table */
  ipvsadm: { default: Buffer; stats: Buffer; save: Buffer };
}

// ---- the file: MAGIC, then u32 little-endian numbers and length-prefixed blobs ----

function writeCapture(path: string, c: Capture): void {
  const blob = (b: Uint8Array) => [u32(b.length), Buffer.from(b.buffer, b.byteOffset, b.byteLength)];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const ends = Buffer.alloc(c.ends.length * 4);
  c.ends.forEach((e, i) => ends.writeUInt32LE(e, i * 4));
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from(MAGIC),
      u32(c.info.version),
      u32(c.info.connectionTableSize),
      ...blob(c.serviceDump),
      ...blob(c.replies),
      ...blob(ends),
      ...blob(c.ipvsadm.default),
      ...blob(c.ipvsadm.stats),
      ...blob(c.ipvsadm.save),
    ]),
  );
}

function readCapture(path: string): Capture {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${path}: not a capture of this bench (no ${MAGIC} at the start)`);
  let p = 8;
  const u32 = () => {
    if (p + 4 > b.length) throw new Error(`${path}: cut short at byte ${p}`);
    p += 4;
    return b.readUInt32LE(p - 4);
  };
  const blob = () => {
    const n = u32();
    if (p + n > b.length) throw new Error(`${path}: cut short at byte ${p} (a ${n}-byte part)`);
    p += n;
    return b.subarray(p - n, p);
  };
  const info = { version: u32(), connectionTableSize: u32() };
  const serviceDump = blob();
  const replies = blob();
  const endBytes = blob();
  const ends = new Uint32Array(endBytes.length / 4);
  for (let i = 0; i < ends.length; i++) ends[i] = endBytes.readUInt32LE(i * 4);
  const ipvsadm = { default: blob(), stats: blob(), save: blob() };
  return { info, serviceDump, replies, ends, ipvsadm };
}

// ---- capture (in the lab) ----

async function capture(path: string, services: number): Promise<void> {
  // a namespace of its own: the table goes when the process ends
  if (process.env.LVSD_REPLAY_IN_NAMESPACE !== '1') {
    const r = spawnSync('unshare', ['--net', process.execPath, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LVSD_REPLAY_IN_NAMESPACE: '1' },
      timeout: 1_200_000,
    });
    if (r.status !== 0) throw new Error(`capture: exit ${r.status} ${r.signal ?? ''}`);
    return;
  }
  execFileSync('modprobe', ['-a', 'ip_vs', 'ip_vs_wrr']);
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  execFileSync('ipvsadm', ['-R'], { input: restoreText(services) });
  const big = { maxBuffer: 1 << 30 };
  const ipvsadm = {
    default: execFileSync('ipvsadm', ['-Ln'], big),
    stats: execFileSync('ipvsadm', ['-Ln', '--stats'], big),
    save: execFileSync('ipvsadm', ['-Sn'], big),
  };
  const client = await openIpvs();
  const sock = new GenlSocket();
  try {
    const info = await client.info();
    const familyId = (await sock.family(IPVS_GENL_NAME)).id;
    const serviceDump = await sock.dumpBytes(genlMessage(familyId, Cmd.GET_SERVICE, IPVS_GENL_VERSION, cmdAttrs, {}));
    const listed = await servicesOf(parseMessages(serviceDump));
    if (listed.length !== services) throw new Error(`capture: the service dump has ${listed.length} services, expected ${services}`);
    const requests = listed.map((s) => serviceKeyRequest(familyId, Cmd.GET_DEST, s.key));
    const ends: number[] = [];
    requests.reduce((end, m) => (ends.push(end + m.length), end + m.length), 0);
    const replies = await dumpReplies(NETLINK_GENERIC, Buffer.concat(requests), ends);
    if (!replies) throw new Error('capture: the C dump transport (dist/native/netlink_dumps.node) is not built, or its socket failed');
    writeCapture(path, { info, serviceDump, replies: replies.bytes, ends: replies.ends, ipvsadm });
    process.stderr.write(`capture: ${services} services, ${serviceDump.length + replies.bytes.length} bytes of replies -> ${path}\n`);
  } finally {
    client.close();
    sock.close();
  }
}

// ---- replay (on the host) ----

/** The table view `lvsd ipvs list` and a director's readTable make of the kernel's replies. */
async function tableOf(c: Capture): Promise<TableView> {
  return tableOfReplies(await servicesOf(parseMessages(c.serviceDump)), { bytes: c.replies, ends: c.ends });
}

/** What `lvsd ipvs list -n [--stats]` does with the kernel's replies, from decoding to bytes out (the default columns decode no counters). */
async function listing(c: Capture, mode: ListMode): Promise<Buffer> {
  const replies = { bytes: c.replies, ends: c.ends };
  const parts = parseMessages(c.serviceDump);
  const table = mode === 'default' ? await summaryOfReplies(await serviceSettingsOf(parts), replies) : await tableOfReplies(await servicesOf(parts), replies);
  return writeTable(c.info, table, { mode, exact: false, sort: true, namer: numericNamer });
}

/** What `lvsd ipvs restore` does before the kernel: every line parsed, every op encoded. */
function restoreEncoding(text: string): number {
  const lines = parseRestore(text);
  return writeOps(0x20, lines.map((l) => l.command)).ends.length;
}

/**
 * What a director's readTable does with the same replies (client.ts entriesOf). It yields to the
 * event loop between turns; `longestTurn` is the longest time the loop waited meanwhile (a
 * director's checks wait that long).
 */
async function directorRead(c: Capture): Promise<{ entries: number; longestTurn: number }> {
  let last = performance.now();
  let longestTurn = 0;
  let running = true;
  const probe = () => {
    const now = performance.now();
    longestTurn = Math.max(longestTurn, now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  const entries = await entriesOf(await tableOf(c));
  running = false;
  return { entries: entries.reduce((n, e) => n + 1 + e.realServers.length, 0), longestTurn };
}

type Measure = 'list -n' | 'list -n --stats' | 'restore encoding' | 'director table read';
const MEASURES: Measure[] = ['list -n', 'list -n --stats', 'restore encoding', 'director table read'];

/** wall and CPU (user + system) milliseconds of one run; for the director's read, its longest turn */
interface Timing {
  wall: number;
  cpu: number;
  longestTurn?: number;
}

async function runOnce(c: Capture, m: Measure, check: boolean): Promise<Timing> {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  let longestTurn: number | undefined;
  if (m === 'restore encoding') {
    const text = c.ipvsadm.save.toString('utf8');
    const n = restoreEncoding(text);
    if (check && n !== text.split('\n').filter(Boolean).length) throw new Error(`restore encoding: ${n} ops for the lines of ipvsadm -Sn`);
  } else if (m === 'director table read') {
    const r = await directorRead(c);
    longestTurn = r.longestTurn;
    const lines = c.ipvsadm.save.toString('utf8').split('\n').filter(Boolean).length;
    if (check && r.entries !== lines) throw new Error(`director table read: ${r.entries} services and real servers, ipvsadm -Sn has ${lines} lines`);
  } else {
    const out = await listing(c, m === 'list -n' ? 'default' : 'stats');
    if (check && !out.equals(m === 'list -n' ? c.ipvsadm.default : c.ipvsadm.stats)) throw new Error(`${m}: the replayed listing differs from ipvsadm's`);
  }
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000, longestTurn };
}

// The reference loop of ../shared/docs/kernel-lab.md (`for (i < 1e8)`, an empty loop: 68 ms on
// the host it names, 935 ms in the lab), timed in a fresh process each round, to show whether
// this machine's CPU was slow or busy during the run. (Summing into a variable, as an earlier
// version did, makes a float add per turn and took 546 ms where the empty loop took 35 ms.)
const LOOP =
  'const c = process.cpuUsage(); const t = process.hrtime.bigint(); (function spin() { let i = 0; for (; i < 1e8; i++); return i; })(); ' +
  'const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: (u.user + u.system) / 1000 }));';
const LOOP_DOC_MS = 68;

/** The V8 flags bin/lvsd passes node (the snapshot's description ends with them); none without a snapshot. */
function cliV8Flags(): string[] {
  const description = join(__dirname, '..', 'lvsd.blob.node');
  if (!existsSync(description)) return [];
  const lines = readFileSync(description, 'utf8').trimEnd().split('\n');
  return lines[lines.length - 1].split(' ').filter((f) => f.startsWith('--'));
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function replay(path: string, runs: number, out?: string): Promise<void> {
  const c = readCapture(path);
  // every output checked against ipvsadm's once, outside the timings
  for (const m of MEASURES) await runOnce(c, m, true);
  const load = () => readFileSync('/proc/loadavg', 'utf8').trim();
  const loadBefore = load();
  const cold: Record<string, Timing[]> = {};
  const warm: Record<string, Timing[]> = {};
  const loop: Timing[] = [];
  const flags = cliV8Flags();
  for (let i = 0; i < runs; i++) {
    for (const m of MEASURES) {
      const r = spawnSync(process.execPath, [...flags, __filename, '--cold', path, m], { encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`cold run of ${m}: exit ${r.status}\n${r.stderr}`);
      (cold[m] ??= []).push(JSON.parse(r.stdout) as Timing);
    }
    loop.push(JSON.parse(execFileSync(process.execPath, ['-e', LOOP], { encoding: 'utf8' })) as Timing);
  }
  for (const m of MEASURES) for (let i = 0; i < runs; i++) (warm[m] ??= []).push(await runOnce(c, m, false));
  const loadAfter = load();
  const goal: Record<Measure, string> = {
    'list -n': '< 150 ms (cold wall)',
    'list -n --stats': '< 150 ms (cold wall)',
    'restore encoding': '< 300 ms (cold wall)',
    'director table read': 'none; the event loop runs between turns of 5 ms',
  };
  const turns = (t: Timing[]) => median(t.map((x) => x.longestTurn ?? 0));
  const services = c.ends.length;
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  const wall = (t: Timing[]) => median(t.map((x) => x.wall));
  const lines = [
    `Replay on the host's CPU (${process.version}, ${execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()}, ${new Date().toISOString()}): ${services} services x 4 real servers, the kernel's replies captured in the lab; restore: ipvsadm -Sn's ${c.ipvsadm.save.toString().split('\n').filter(Boolean).length} lines. Cold: median of ${runs} fresh processes with bin/lvsd's V8 flags (${flags.join(' ') || 'none: no snapshot built'}), each timing its first run (modules loaded, code not yet optimised); warm: median of ${runs} runs in one process. /proc/loadavg before: ${loadBefore}; after: ${loadAfter}. The reference loop (an empty for i < 1e8) took ${fmt(median(loop.map((x) => x.wall)))} wall, ${fmt(median(loop.map((x) => x.cpu)))} CPU (medians of ${runs}; ${LOOP_DOC_MS} ms on the host of kernel-lab.md). Cold CPU is more than cold wall because V8 compiles and collects garbage on helper threads.`,
    '',
    '| what | cold wall (median) | cold wall (min..max) | cold CPU (median) | warm wall (median) | longest time the event loop waited, cold / warm (median) | goal |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...MEASURES.map((m) => {
      const w = cold[m].map((x) => x.wall);
      const waited = m === 'director table read' ? `${fmt(turns(cold[m]))} / ${fmt(turns(warm[m]))}` : '(synchronous)';
      return `| ${m} | ${fmt(wall(cold[m]))} | ${fmt(Math.min(...w))}..${fmt(Math.max(...w))} | ${fmt(median(cold[m].map((x) => x.cpu)))} | ${fmt(wall(warm[m]))} | ${waited} | ${goal[m]} |`;
    }),
  ];
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (out) writeFileSync(out, text);
}

function parseArgs(argv: string[]): { capture?: string; replies?: string; services: number; runs: number; out?: string } {
  const o: { capture?: string; replies?: string; services: number; runs: number; out?: string } = { services: 10_000, runs: 9 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a}: needs a value`);
      return v;
    };
    const num = (max: number) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${a}: an integer from 1 to ${max}`);
      return v;
    };
    if (a === '--capture') o.capture = value();
    else if (a === '--replies') o.replies = value();
    else if (a === '--services') o.services = num(40_000);
    else if (a === '--runs') o.runs = num(99);
    else if (a === '--out') o.out = value();
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.capture === !o.replies) throw new Error('give one of --capture FILE (in the lab) or --replies FILE (on the host)');
  return o;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--cold') {
    const m = process.argv[4] as Measure;
    if (!MEASURES.includes(m)) throw new Error(`--cold: unknown measure ${m}`);
    process.stdout.write(JSON.stringify(await runOnce(readCapture(process.argv[3]), m, false)));
    return;
  }
  const o = parseArgs(process.argv.slice(2));
  if (o.capture) await capture(o.capture, o.services);
  else await replay(o.replies!, o.runs, o.out);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
