// Director failover, an lvsd pair against a keepalived pair (issue 20 item 7), in one lab boot and
// one topology (test/support/vrrp-lab.ts: two directors, a client and two DR web servers on one
// bridge). Each pair runs the same instance (VRRPv3, advert 1 s, priorities 150/100, the sync
// daemon) and the same web service with HTTP checks. While the client opens a new connection
// through the VIP every 100 ms, the master's host dies: its link goes down, then its processes
// are killed. Measured per run: the takeover (link down -> the backup holds the VIP), the gap
// (link down -> the first new connection answered) and failed connections before and after
// the takeover. Runs alternate between the pairs, so both see the same load.
//
//   node dist/bench/vrrp-failover-bench.js [--runs 3] [--out FILE]     (inside the lab)
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg, schedstat } from './director-load';
import { httpThrough, waitFor } from '../test/support/lab-topology';
import { PairLab, Requests, VIP, keepalivedLvsConfig, lvsdConfig, runAsync, type DirectorNode } from '../test/support/vrrp-lab';

type Pair = 'lvsd' | 'keepalived';

interface Row {
  pair: Pair;
  run: number;
  takeoverMs: number;
  gapMs: number;
  failedBefore: number;
  failedAfter: number;
  total: number;
  load: string;
}

const HARD_LIMIT_MS = 1_500_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]): { runs: number; out?: string } {
  const o: { runs: number; out?: string } = { runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 10) throw new Error('--runs: an integer from 1 to 10');
    } else if (argv[i] === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${argv[i]} (--runs N, --out FILE)`);
  }
  return o;
}

/** The guest's load average and the share of a core a 300 ms busy loop gets on this thread now. */
function load(): string {
  const start = performance.now();
  const s0 = schedstat('self');
  while (performance.now() - start < 300);
  const share = (schedstat('self').runNs - s0.runNs) / 1e6 / (performance.now() - start);
  return `load ${loadavg()}, busy loop ${(share * 100).toFixed(0)} %`;
}

/** Real servers with a weight above 0 in the node's IPVS table. */
async function serversUp(node: DirectorNode): Promise<number> {
  const r = await runAsync('ip', ['netns', 'exec', node.ns, 'ipvsadm', '-L', '-n']);
  return r.stdout.split('\n').filter((l) => /->\s+198\.18\.0\.2[12]:80\s+Route\s+[1-9]/.test(l)).length;
}

async function start(lab: PairLab, pair: Pair): Promise<void> {
  if (pair === 'lvsd') {
    lab.a.start('lvsd', lvsdConfig(lab.a, { priority: 150 }));
    lab.b.start('lvsd', lvsdConfig(lab.b, { priority: 100 }));
  } else {
    lab.a.start('keepalived-lvs', keepalivedLvsConfig(lab.a, { priority: 150 }));
    lab.b.start('keepalived-lvs', keepalivedLvsConfig(lab.b, { priority: 100 }));
  }
  lab.step(`${pair}: waiting for the master and both tables`);
  await waitFor('the VIP on dir-a only', () => lab.a.holdsVip() && !lab.b.holdsVip(), 90_000, 100);
  await waitFor('both real servers up on both directors', async () => (await serversUp(lab.a)) === 2 && (await serversUp(lab.b)) === 2, 60_000, 250).catch(async (err: Error) => {
    const tables = await Promise.all([lab.a, lab.b].map((n) => runAsync('ip', ['netns', 'exec', n.ns, 'ipvsadm', '-L', '-n'])));
    throw new Error(`${err.message}\ndir-a:\n${tables[0].stdout}\ndir-b:\n${tables[1].stdout}\n${lab.a.log(20)}\n${lab.b.log(20)}`);
  });
  await waitFor('a request through the VIP', async () => (await httpThrough(VIP, 80, '/', 2000).catch(() => undefined))?.status === 200, 30_000, 200);
}

/** Both directors stopped and their namespaces as they were: no table, no VIP, no sync daemon. */
async function reset(lab: PairLab): Promise<void> {
  lab.step('reset');
  await Promise.all([lab.a.kill(), lab.b.kill()]);
  await lab.a.setLink(true);
  for (const n of [lab.a, lab.b]) {
    await runAsync('ip', ['netns', 'exec', n.ns, 'ipvsadm', '-C']);
    for (const role of ['master', 'backup']) await runAsync('ip', ['netns', 'exec', n.ns, 'ipvsadm', '--stop-daemon', role]);
    await runAsync('ip', ['-n', n.ns, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
  }
}

async function failover(lab: PairLab, pair: Pair, run: number): Promise<Row> {
  await start(lab, pair);
  const before = load();
  const requests = new Requests(100, 60_000, true);
  await sleep(3000); // requests before the failure, and time for the sync daemon
  lab.step(`${pair}: failover`);
  // where the client sends the VIP's packets (its neighbour entry): the director that owns the VIP
  const neighbour = (await runAsync('ip', ['neigh', 'show', VIP])).stdout.trim();
  const macs = await Promise.all([lab.a, lab.b].map(async (n) => (await runAsync('ip', ['-n', n.ns, '-br', 'link', 'show', 'eth0'])).stdout.trim()));
  const linkDown = lab.a.prepareLinkDown();
  await sleep(500); // ip is up and waiting for its line
  const downAt = Date.now();
  await linkDown();
  const linkDownMs = Date.now() - downAt;
  await lab.a.kill();
  const takeoverMs = await waitFor('dir-b holding the VIP', () => lab.b.holdsVip(), 30_000, 10);
  const takenAt = downAt + takeoverMs;
  await sleep(3000);
  const results = await requests.stop();
  // service back: the first completed success among connections started after the link went down
  // (one started before the takeover may succeed on its SYN's retransmission after it)
  // (one started while the link was going down may still have got through: not counted)
  const firstOk = results.filter((r) => r.ok && r.at >= downAt + linkDownMs).sort((x, y) => x.doneAt - y.doneAt)[0];
  console.log(`# ${pair} run ${run}: client's neighbour entry for the VIP before: ${neighbour}; directors: ${macs.join(' / ')}; first success after the link went down: ${JSON.stringify(firstOk && { ...firstOk, at: firstOk.at - downAt, doneAt: firstOk.doneAt - downAt })}; after: ${(await runAsync('ip', ['neigh', 'show', VIP])).stdout.trim()}`);
  const row: Row = {
    pair,
    run,
    takeoverMs,
    gapMs: firstOk ? firstOk.doneAt - downAt : NaN,
    failedBefore: results.filter((r) => !r.ok && r.at < takenAt).length,
    failedAfter: results.filter((r) => !r.ok && r.at >= takenAt).length,
    total: results.length,
    load: `${before}; after: ${load()}`,
  };
  console.log(`# ${pair} run ${run}: the link went down within ${linkDownMs} ms; takeover ${takeoverMs} ms, first new connection answered ${row.gapMs} ms after the link went down, failed ${row.failedBefore} before / ${row.failedAfter} after the takeover of ${row.total} (${row.load})`);
  await reset(lab);
  return row;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(rows: Row[], kernel: string): string {
  const lines = [
    `VRRP failover bench: ${rows.length / 2} runs per pair, alternating, one lab boot (kernel ${kernel}, ${new Date().toISOString()}).`,
    '',
    '| pair | run | takeover ms | first new connection answered, ms | failed before takeover | failed after takeover | requests | load (before; after) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.pair} | ${r.run} | ${r.takeoverMs} | ${r.gapMs} | ${r.failedBefore} | ${r.failedAfter} | ${r.total} | ${r.load} |`),
    '',
    '| pair | takeover ms (median) | first new connection answered, ms (median) | failed after takeover (sum) | takeover vs keepalived |',
    '|---|---:|---:|---:|---:|',
  ];
  const of = (p: Pair) => rows.filter((r) => r.pair === p);
  const ka = median(of('keepalived').map((r) => r.takeoverMs));
  for (const p of ['lvsd', 'keepalived'] as const) {
    const t = median(of(p).map((r) => r.takeoverMs));
    lines.push(`| ${p} | ${t} | ${median(of(p).map((r) => r.gapMs))} | ${of(p).reduce((s, r) => s + r.failedAfter, 0)} | ${(t / ka).toFixed(2)} |`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const hard = setTimeout(() => {
    console.error(`vrrp-failover-bench: over ${HARD_LIMIT_MS / 1000} s, giving up`);
    process.exit(1);
  }, HARD_LIMIT_MS).unref();
  const lab = new PairLab();
  const rows: Row[] = [];
  try {
    await lab.build();
    for (let run = 1; run <= opts.runs; run++) {
      for (const pair of ['lvsd', 'keepalived'] as const) rows.push(await failover(lab, pair, run));
    }
  } finally {
    await lab.teardown();
    clearTimeout(hard);
  }
  const text = report(rows, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
  console.log(text);
  if (opts.out) writeFileSync(opts.out, text);
}

main().catch((err) => {
  console.error(`vrrp-failover-bench: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
