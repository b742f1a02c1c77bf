// The director's failover and reload under load (issue 19 item 6): lvsd's director beside
// keepalived 2.2.7 given the equivalent keepalived.conf, in one lab boot and one topology
// (test/support/lab-topology.ts: a client, the director namespace holding the VIP, three DR web
// servers). One director runs at a time in the director namespace; runs alternate between them.
//
//   a. backend failure: while the client opens a new connection through the VIP every 50 ms, one
//      server's web server is killed (SIGKILL: connections to it are refused). Measured: the
//      time from the kill to the server's weight 0 in the kernel, failed new connections before
//      and after that moment.
//   b. reload: one server's weight goes from 1 to 3 in the config, then SIGHUP to the daemon.
//      Measured: the time from the signal to the new weight in the kernel, failed new connections
//      from the signal on.
//
// The kernel's table is polled every 50 ms from /proc/PID/net/ip_vs of a process in the director
// namespace (what `ipvsadm -Ln` prints, without a process start: one costs a few hundred ms under
// emulation, measured and printed below); `ipvsadm -Ln` confirms each end state.
//
//   node dist/bench/director-e2e-bench.js [--runs 3] [--out FILE]     (inside the lab, as root)
import { rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, schedstat } from './director-load';
import { DIRECTOR, LabTopology, waitFor } from '../test/support/lab-topology';
import { DirectorNode, Requests, VIP, keepalivedHttpServer, runAsync } from '../test/support/vrrp-lab';

type Director = 'lvsd' | 'keepalived';

const HARD_LIMIT_MS = 1_500_000;
const SERVERS = ['198.18.0.21', '198.18.0.22', '198.18.0.23'];
/** the server whose backend fails in a */
const FAILING = 2;
/** the server whose weight changes in b */
const RELOADED = 0;
const RELOAD_WEIGHT = 3;
const POLL_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  director: Director;
  run: number;
  detectMs: number;
  failedBeforeZero: number;
  failedAfterZero: number;
  totalA: number;
  loadA: string;
  reloadMs: number;
  failedReload: number;
  failedReloadAll: number;
  totalB: number;
  loadB: string;
}

function parseArgs(argv: string[]): { runs: number; out?: string } {
  const o: { runs: number; out?: string } = { runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 10) throw new Error('--runs: an integer from 1 to 10');
    } else if (argv[i] === '--out') {
      o.out = argv[++i];
      if (!o.out) throw new Error('--out: a file name');
    } else throw new Error(`unknown option ${argv[i]} (--runs N, --out FILE)`);
  }
  return o;
}

/**
 * The guest's load average and the share of a core a 300 ms busy loop gets now: the main
 * thread's time on a CPU (its schedstat), so node's helper threads do not count.
 */
function load(): string {
  const t0 = performance.now();
  const s0 = schedstat('self');
  while (performance.now() - t0 < 300) {
    // spin
  }
  const share = (schedstat('self').runNs - s0.runNs) / 1e6 / (performance.now() - t0);
  return `load ${loadavg()}, busy loop ${(share * 100).toFixed(0)} %`;
}

/** lvsd: HTTP check of /health every 1 s, timeout 1 s, down after 2 failures, up after 1 success. */
function lvsdConfig(node: DirectorNode, weights: number[]): string {
  return `${node.global()}check_defaults: { interval: 1s, timeout: 1s, rise: 1, fall: 2 }
services:
  - name: web
    address: ${VIP}
    port: 80
    scheduler: rr
    forward: route
    checks: [{ type: http, path: /health, expect_status: [200] }]
    servers:
${SERVERS.map((a, i) => `      - { address: ${a}, weight: ${weights[i]} }`).join('\n')}
`;
}

/**
 * The same for keepalived: a check every delay_loop 1 s; a failed check is retried once
 * (retry 1) after delay_before_retry 1 s and the second failure marks the server down, which is
 * lvsd's fall 2 at interval 1 s; connect_timeout 1 bounds the whole check as lvsd's timeout does;
 * one success brings it back (rise 1); inhibit_on_failure sets a failed server's weight to 0 as
 * lvsd does, instead of removing it.
 */
function keepalivedConfig(weights: number[]): string {
  const server = (a: string, w: number) => keepalivedHttpServer(a, w, true);
  return `global_defs {
  router_id lab_director
}
virtual_server ${VIP} 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
${SERVERS.map((a, i) => server(a, weights[i])).join('\n')}
}
`;
}

class Bench {
  readonly topo = new LabTopology({ method: 'dr', servers: SERVERS.length, vips: [VIP], backend: 'http' });
  node!: DirectorNode;
  ipvsadmMs = NaN;

  async build(): Promise<void> {
    await this.topo.build();
    this.node = new DirectorNode('director', this.topo.directorNs, DIRECTOR, this.topo.dir);
  }

  weight(i: number): number | undefined {
    return this.topo.weights().get(`${SERVERS[i]}:80`);
  }

  /** `ipvsadm -Ln` in the director namespace: the weight it prints for server i. */
  async ipvsadmWeight(i: number): Promise<number | undefined> {
    const t = Date.now();
    const out = await this.topo.ipvsadmAsync(['-L', '-n']);
    this.ipvsadmMs = Date.now() - t;
    const m = new RegExp(`->\\s+${SERVERS[i].replace(/\./g, '\\.')}:80\\s+Route\\s+(\\d+)`).exec(out);
    return m ? Number(m[1]) : undefined;
  }

  start(director: Director, weights: number[]): void {
    rmSync(join(this.node.dir, 'state.json'), { force: true });
    if (director === 'lvsd') this.node.start('lvsd', lvsdConfig(this.node, weights));
    else this.node.start('keepalived-lvs', keepalivedConfig(weights));
  }

  reload(director: Director, weights: number[]): number {
    return this.node.reload(director === 'lvsd' ? lvsdConfig(this.node, weights) : keepalivedConfig(weights));
  }

  async serving(director: Director, weights: number[]): Promise<void> {
    await waitFor(`${director}: every server at its weight (${weights.join(', ')})`, () => {
      if (!this.node.running) throw new Error(`${director} exited:\n${this.node.log()}`);
      return weights.every((w, i) => this.weight(i) === w);
    }, 90_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.topo.procIpvs()}\n${this.node.log()}`);
    });
  }

  async stop(): Promise<void> {
    await this.node.stop('SIGTERM');
    await runAsync('ip', ['netns', 'exec', this.topo.directorNs, 'ipvsadm', '-C']);
  }

  async run(director: Director, run: number): Promise<Row> {
    const base = SERVERS.map(() => 1);
    const failing = this.topo.servers[FAILING];
    this.start(director, base);
    await this.serving(director, base);

    // a. backend failure
    const loadA = load();
    let requests = new Requests(POLL_MS, 60_000);
    await sleep(2000);
    const failAt = Date.now();
    await this.topo.killBackend(failing, 'SIGKILL');
    await waitFor(`${director}: ${failing.name} at weight 0`, () => this.weight(FAILING) === 0, 20_000, POLL_MS).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.topo.procIpvs()}\n${this.node.log()}`);
    });
    // the poll that saw it (the change came at most one poll period earlier)
    const zeroAt = Date.now();
    const detectMs = zeroAt - failAt;
    const judged = await this.ipvsadmWeight(FAILING);
    if (judged !== 0) throw new Error(`${director}: ipvsadm -Ln shows ${failing.name} at weight ${judged}, not 0`);
    await sleep(3000);
    let results = await requests.stop();
    const a = {
      failedBeforeZero: results.filter((r) => !r.ok && r.at < zeroAt).length,
      failedAfterZero: results.filter((r) => !r.ok && r.at >= zeroAt).length,
      totalA: results.length,
      loadA: `${loadA}; after: ${load()}`,
    };
    const errorA = results.find((r) => !r.ok)?.error;
    const lateA = results.filter((r) => !r.ok && r.at >= zeroAt).map((r) => `+${r.at - zeroAt} ms ${r.error}`);
    await this.topo.startBackend(failing);
    await this.serving(director, base);

    // b. reload with a new weight
    const loadB = load();
    requests = new Requests(POLL_MS, 60_000);
    await sleep(2000);
    const weights = base.map((w, i) => (i === RELOADED ? RELOAD_WEIGHT : w));
    const hupAt = this.reload(director, weights);
    await waitFor(`${director}: weight ${RELOAD_WEIGHT} applied`, () => this.weight(RELOADED) === RELOAD_WEIGHT, 30_000, POLL_MS).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.topo.procIpvs()}\n${this.node.log()}`);
    });
    const reloadMs = Date.now() - hupAt;
    const judgedB = await this.ipvsadmWeight(RELOADED);
    if (judgedB !== RELOAD_WEIGHT) throw new Error(`${director}: ipvsadm -Ln shows weight ${judgedB}, not ${RELOAD_WEIGHT}`);
    await sleep(2000);
    results = await requests.stop();
    const row: Row = {
      director,
      run,
      detectMs,
      ...a,
      reloadMs,
      failedReload: results.filter((r) => !r.ok && r.at >= hupAt).length,
      failedReloadAll: results.filter((r) => !r.ok).length,
      totalB: results.length,
      loadB: `${loadB}; after: ${load()}`,
    };
    const errorB = results.find((r) => !r.ok)?.error;
    console.log(
      `# ${director} run ${run}: weight 0 ${detectMs} ms after the kill, failed ${row.failedBeforeZero} before / ${row.failedAfterZero} after of ${row.totalA}${errorA ? ` (first: ${errorA})` : ''}${lateA.length ? ` (after weight 0: ${lateA.join(', ')})` : ''} (${row.loadA}); ` +
        `reload applied ${reloadMs} ms after SIGHUP, failed ${row.failedReload} from SIGHUP on, ${row.failedReloadAll} of ${row.totalB} in all${errorB ? ` (first: ${errorB})` : ''} (${row.loadB}); ipvsadm -Ln took ${this.ipvsadmMs} ms`,
    );
    await this.stop();
    return row;
  }

  async teardown(): Promise<void> {
    await this.node?.stop('SIGKILL').catch(() => undefined);
    this.node?.dispose();
    await this.topo.teardown();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function report(rows: Row[], kernel: string, ipvsadmMs: number): string {
  const of = (d: Director) => rows.filter((r) => r.director === d);
  const sum = (rs: Row[], f: (r: Row) => number) => rs.reduce((s, r) => s + f(r), 0);
  const lines = [
    `Director failover and reload under load: ${rows.length / 2} runs per director, alternating, one lab boot (kernel ${kernel}, ${new Date().toISOString()}).`,
    `DR web service, 3 servers, rr; checks HTTP GET /health every 1 s, timeout 1 s, down after 2 failures (keepalived: delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1, inhibit_on_failure).`,
    `Client: one new connection through the VIP after another, 50 ms apart. Kernel table polled every ${POLL_MS} ms from /proc (one ipvsadm -Ln took ${ipvsadmMs} ms here).`,
    '',
    'a. a server\'s web server killed: time to its weight 0 in the kernel, failed new connections',
    '',
    '| director | run | kill -> weight 0 ms | failed before weight 0 | failed after weight 0 | connections | load (before; after) |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.director} | ${r.run} | ${r.detectMs} | ${r.failedBeforeZero} | ${r.failedAfterZero} | ${r.totalA} | ${r.loadA} |`),
    '',
    'b. one server\'s weight 1 -> 3 in the config, SIGHUP: time to the new weight in the kernel, failed new connections',
    '',
    '| director | run | SIGHUP -> weight applied ms | failed from SIGHUP on | failed in all | connections | load (before; after) |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.director} | ${r.run} | ${r.reloadMs} | ${r.failedReload} | ${r.failedReloadAll} | ${r.totalB} | ${r.loadB} |`),
    '',
    '| director | kill -> weight 0 ms (median) | failed after weight 0 (sum) | failed in a (sum) | SIGHUP -> applied ms (median) | failed in reload (sum) | detection vs keepalived | reload vs keepalived |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const kaDetect = median(of('keepalived').map((r) => r.detectMs));
  const kaReload = median(of('keepalived').map((r) => r.reloadMs));
  for (const d of ['lvsd', 'keepalived'] as const) {
    const rs = of(d);
    const detect = median(rs.map((r) => r.detectMs));
    const reload = median(rs.map((r) => r.reloadMs));
    lines.push(
      `| ${d} | ${detect} | ${sum(rs, (r) => r.failedAfterZero)} | ${sum(rs, (r) => r.failedBeforeZero + r.failedAfterZero)} | ${reload} | ${sum(rs, (r) => r.failedReload)} | ${(detect / kaDetect).toFixed(2)} | ${(reload / kaReload).toFixed(2)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const hard = setTimeout(() => {
    console.error(`director-e2e-bench: over ${HARD_LIMIT_MS / 1000} s, giving up`);
    process.exit(1);
  }, HARD_LIMIT_MS).unref();
  const bench = new Bench();
  const rows: Row[] = [];
  try {
    await bench.build();
    for (let run = 1; run <= opts.runs; run++) {
      // the order alternates too, so neither director always runs on a just-built topology
      const order: Director[] = run % 2 ? ['lvsd', 'keepalived'] : ['keepalived', 'lvsd'];
      for (const d of order) rows.push(await bench.run(d, run));
    }
  } finally {
    await bench.teardown();
    clearTimeout(hard);
  }
  rows.sort((x, y) => Number(x.director !== 'lvsd') - Number(y.director !== 'lvsd') || x.run - y.run);
  const text = report(rows, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), bench.ipvsadmMs);
  console.log(text);
  if (opts.out) writeFileSync(opts.out, text);
}

main().catch((err) => {
  console.error(`director-e2e-bench: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
