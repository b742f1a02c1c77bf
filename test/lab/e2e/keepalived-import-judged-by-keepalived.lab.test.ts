// keepalived judges `lvsd director import-keepalived` on configs covering the translated keywords
// (test/fixtures/keepalived/judge/*.conf): for each, keepalived 2.2 (--check) runs on the original
// until its table stops changing; its `ipvsadm -S -n` and timeouts are saved, keepalived stopped,
// the table flushed and the timeouts put back to the kernel's defaults; then `lvsd director run`
// on the import must program the same table (lines sorted, compared exactly), the same thresholds
// (`ipvsadm -L -n --thresholds`: -S leaves them out) and the same timeouts, and keep them. Where
// keepalived 2.2.7 programs something other than its config says (no protocol is UDP, no
// persistence mask in a group, no port for a DR server of a fwmark service), the import follows
// what keepalived programs. Every config has servers up and servers down: the real servers are
// addresses in a namespace of their own behind a veth (a TCP listener, HTTP and HTTPS servers with
// a known body, nothing on the others) and MISC_CHECK scripts exiting with a known status.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { firstOutput, ipvsadm, lvsdRun, ok, run, setUpNamespace } from '../../support/ipvs-lab';
import { DirectorLab, saved, until } from '../../support/director-lab';
import { makeTestCerts, type TestCerts } from '../../support/tls-certs';

const JUDGE = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'keepalived', 'judge');
const RS_NS = `lvsd-kaj-rs-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'lvsd-ka-judge-'));
const DEFAULT_TIMEOUTS = ['900', '120', '300'];
let servers: ChildProcess | undefined;
let certs: TestCerts | undefined;
let lab: DirectorLab | undefined;

const lines = (text: string) => text.split('\n').filter(Boolean).sort();

/**
 * One config judged: its file, the lines the import must name (the text of each line, its
 * keyword first), and the table keepalived is expected to settle on (so a keepalived that
 * settles elsewhere, e.g. with every server up, fails the test rather than judging nothing).
 */
interface Judged {
  file: string;
  named: string[];
  table: string;
  timeouts: string;
  /** a line keepalived's `ipvsadm -L -n --thresholds` must have, and how many times */
  thresholds?: { line: RegExp; count: number };
}

const CONFIGS: Judged[] = [
  {
    file: 'nat-groups.conf',
    named: ['router_id JUDGE_NAT', 'persistence_granularity 255.255.255.0'],
    // 198.18.20.13 answers /health 200: up; .14 answers /broken 500 and .11 refuses 8080: weight 0
    // (inhibit_on_failure); .11:3306 listens: up. Each member of the group its own service, with
    // no persistence mask (keepalived 2.2.7 sets none in a group). `ipvsadm -S` has no thresholds:
    // they are in the --thresholds listing, compared too.
    table: `-A -t 198.18.21.10:80 -s wrr -p 120
-a -t 198.18.21.10:80 -r 198.18.20.11:3306 -m -w 5
-a -t 198.18.21.10:80 -r 198.18.20.11:8080 -m -w 0
-a -t 198.18.21.10:80 -r 198.18.20.13:80 -m -w 3
-a -t 198.18.21.10:80 -r 198.18.20.14:80 -m -w 0
-A -t 198.18.21.11:80 -s wrr -p 120
-a -t 198.18.21.11:80 -r 198.18.20.11:3306 -m -w 5
-a -t 198.18.21.11:80 -r 198.18.20.11:8080 -m -w 0
-a -t 198.18.21.11:80 -r 198.18.20.13:80 -m -w 3
-a -t 198.18.21.11:80 -r 198.18.20.14:80 -m -w 0
-A -t 198.18.21.12:80 -s wrr -p 120
-a -t 198.18.21.12:80 -r 198.18.20.11:3306 -m -w 5
-a -t 198.18.21.12:80 -r 198.18.20.11:8080 -m -w 0
-a -t 198.18.21.12:80 -r 198.18.20.13:80 -m -w 3
-a -t 198.18.21.12:80 -r 198.18.20.14:80 -m -w 0
-A -t 198.18.21.20:8080 -s wrr -p 120
-a -t 198.18.21.20:8080 -r 198.18.20.11:3306 -m -w 5
-a -t 198.18.21.20:8080 -r 198.18.20.11:8080 -m -w 0
-a -t 198.18.21.20:8080 -r 198.18.20.13:80 -m -w 3
-a -t 198.18.21.20:8080 -r 198.18.20.14:80 -m -w 0
-A -f 21 -s wrr -p 120
-a -f 21 -r 198.18.20.11:3306 -m -w 5
-a -f 21 -r 198.18.20.11:8080 -m -w 0
-a -f 21 -r 198.18.20.13:80 -m -w 3
-a -f 21 -r 198.18.20.14:80 -m -w 0
`,
    timeouts: 'Timeout (tcp tcpfin udp): 700 70 170',
    thresholds: { line: /^  -> 198\.18\.20\.13:80\s+200\s+20\s/, count: 5 },
  },
  {
    file: 'dr-tun-ipv6.conf',
    named: ['router_id JUDGE_DR', 'digest aab0a8da7aaee3bde2f95aada46ac24d'],
    // alpha: .16 (nothing on 443) never added; .15 (TLS) up. TUN (UDP: no protocol): .13 (its
    // digest matches) up over gue, .14 (TCP 80 open) over gre, .17 over ipip; .16 refuses: removed.
    // IPv6: ::13 up, ::14 refuses: removed.
    table: `-A -t 198.18.21.30:443 -s sh -b sh-fallback,sh-port
-a -t 198.18.21.30:443 -r 198.18.20.15:443 -g -w 2
-A -u 198.18.21.31:80 -s mh -p 360 -b mh-fallback,mh-port
-a -u 198.18.21.31:80 -r 198.18.20.13:80 -i -w 3 --tun-type gue --tun-port 6080 --tun-csum
-a -u 198.18.21.31:80 -r 198.18.20.14:80 -i -w 1 --tun-type gre --tun-csum
-a -u 198.18.21.31:80 -r 198.18.20.17:80 -i -w 1 --tun-type ipip
-A -t [2001:db8:21::10]:80 -s rr -p 300 -M 64
-a -t [2001:db8:21::10]:80 -r [2001:db8:20::13]:80 -g -w 7
`,
    timeouts: 'Timeout (tcp tcpfin udp): 800 80 300',
  },
  {
    file: 'udp-sctp-misc.conf',
    named: ['router_id JUDGE_UDP', 'sorry_server_inhibit', 'quorum 2'],
    // exit 7 with misc_dynamic: weight 5; exit 1: removed; exit 0: up at its weight. The SCTP
    // service has both servers down: the sorry server (DR) alone. fwmark 42: weight 2 of 3 up,
    // above quorum 2 - hysteresis 1: no sorry server.
    table: `-A -u 198.18.21.40:5060 -s rr -p 60 --pe sip
-a -u 198.18.21.40:5060 -r 198.18.20.21:5060 -m -w 5
-a -u 198.18.21.40:5060 -r 198.18.20.23:5060 -m -w 4
-A -u 198.18.21.41:53 -s lc -o
-a -u 198.18.21.41:53 -r 198.18.20.21:53 -m -w 6
-A --sctp-service 198.18.21.42:9999 -s nq
-a --sctp-service 198.18.21.42:9999 -r 198.18.20.30:9999 -g -w 1
-A -f 42 -s wlc -p 360 -M 255.255.255.0
-a -f 42 -r 198.18.20.11:3306 -m -w 2
`,
    timeouts: 'Timeout (tcp tcpfin udp): 900 120 45',
  },
  {
    file: 'http-details.conf',
    named: [],
    // ::13 answers /host 200 for Host judge.test: up in both members (a DR server has no port in
    // the fwmark one); ::15 is asked for other.test (404): removed. .15 (TLS, SNI judge.test) matches its regex: up; .13's body does
    // not match: weight 0 (inhibit_on_failure, alpha); .12 is checked on .11:3306 (connect_ip,
    // connect_port): up.
    table: `-A -t [2001:db8:21::30]:80 -s wrr
-a -t [2001:db8:21::30]:80 -r [2001:db8:20::13]:80 -g -w 2
-A -f 61 -6 -s wrr
-a -f 61 -6 -r [2001:db8:20::13]:0 -g -w 2
-A -t 198.18.21.50:443 -s rr
-a -t 198.18.21.50:443 -r 198.18.20.12:3306 -m -w 1
-a -t 198.18.21.50:443 -r 198.18.20.13:80 -m -w 0
-a -t 198.18.21.50:443 -r 198.18.20.15:443 -m -w 4
`,
    timeouts: 'Timeout (tcp tcpfin udp): 600 30 100',
  },
];

/** The real servers' namespace: what listens where (every other address refuses). */
const RS_V4 = ['11', '12', '13', '14', '15', '16', '17', '21', '22', '23', '24', '25', '30'].map((n) => `198.18.20.${n}`);
const RS_V6 = ['2001:db8:20::13', '2001:db8:20::14', '2001:db8:20::15'];
const SERVERS_JS = `
const http = require('http'), https = require('https'), net = require('net'), fs = require('fs');
const [key, cert] = process.argv.slice(2);
const answer = (q, r) => {
  if (q.url === '/health') { r.writeHead(200, { 'content-type': 'text/plain' }); r.end('judge ok\\n'); }
  else if (q.url === '/host' && /^judge\\.test(:\\d+)?$/.test(q.headers.host || '')) { r.writeHead(200, { 'content-type': 'text/plain' }); r.end('judge host\\n'); }
  else if (q.url === '/host') { r.writeHead(404, { 'content-type': 'text/plain' }); r.end('no such host\\n'); }
  else { r.writeHead(500, { 'content-type': 'text/plain' }); r.end('broken\\n'); }
};
const all = [
  [net.createServer((c) => c.destroy()), 3306, '198.18.20.11'],
  [http.createServer(answer), 80, '198.18.20.13'],
  [http.createServer(answer), 80, '198.18.20.14'],
  [http.createServer(answer), 80, '198.18.20.17'],
  [http.createServer(answer), 80, '2001:db8:20::13'],
  [http.createServer(answer), 80, '2001:db8:20::15'],
  [https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, answer), 443, '198.18.20.15'],
];
let n = 0;
for (const [s, port, host] of all) s.listen(port, host, () => { if (++n === all.length) console.log('listening'); });
`;

before(async () => {
  setUpNamespace();
  ok('ip', ['netns', 'add', RS_NS]);
  ok('ip', ['link', 'add', 'kaj0', 'type', 'veth', 'peer', 'name', 'kaj1']);
  ok('ip', ['link', 'set', 'kaj1', 'netns', RS_NS]);
  ok('ip', ['addr', 'add', '198.18.20.1/24', 'dev', 'kaj0']);
  ok('ip', ['addr', 'add', '2001:db8:20::1/64', 'dev', 'kaj0', 'nodad']);
  ok('ip', ['link', 'set', 'kaj0', 'up']);
  const inNs = (args: string[]) => ok('ip', ['netns', 'exec', RS_NS, 'ip', ...args]);
  inNs(['link', 'set', 'lo', 'up']);
  for (const a of RS_V4) inNs(['addr', 'add', `${a}/24`, 'dev', 'kaj1']);
  for (const a of RS_V6) inNs(['addr', 'add', `${a}/64`, 'dev', 'kaj1', 'nodad']);
  inNs(['link', 'set', 'kaj1', 'up']);
  certs = makeTestCerts(['judge.test']);
  writeFileSync(join(work, 'rs.key'), certs.server['judge.test'].key);
  writeFileSync(join(work, 'rs.pem'), certs.server['judge.test'].cert);
  writeFileSync(join(work, 'servers.js'), SERVERS_JS);
  writeFileSync(join(work, 'exit.sh'), '#!/bin/sh\nexit "$1"\n');
  chmodSync(join(work, 'exit.sh'), 0o755);
  servers = spawn('ip', ['netns', 'exec', RS_NS, process.execPath, join(work, 'servers.js'), join(work, 'rs.key'), join(work, 'rs.pem')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await firstOutput(servers, 'the real servers', 30_000);
});

after(async () => {
  await lab?.kill();
  servers?.kill();
  certs?.remove();
  run('ip', ['netns', 'del', RS_NS]);
});

/** Polls the table until it has not changed for `quietMs` (and at least `minMs` passed). */
async function settle(what: string, quietMs: number, minMs: number, maxMs: number, describe: () => string): Promise<{ table: string; took: number }> {
  const start = Date.now();
  let last = saved();
  let since = start;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = saved();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && Date.now() - start >= minMs) {
      return { table: last, took: since - start };
    }
    if (Date.now() - start > maxMs) throw new Error(`${what} did not settle in ${maxMs} ms; table:\n${last}\n${describe()}`);
  }
}

/**
 * `ipvsadm -S` leaves thresholds out: the --thresholds listing (no traffic, so its connection
 * counts are 0), each service with its servers sorted, the services sorted (the order servers were
 * added in is not compared).
 */
function thresholds(): string {
  const blocks: string[][] = [];
  for (const l of ipvsadm(['-L', '-n', '--thresholds']).split('\n').slice(3).filter(Boolean)) {
    if (l.startsWith('  ->')) blocks[blocks.length - 1].push(l);
    else blocks.push([l]);
  }
  return blocks.map(([head, ...dests]) => [head, ...dests.sort()].join('\n')).sort().join('\n');
}

function timeouts(): string {
  return ipvsadm(['-L', '--timeout']).trim();
}

/** The fixture with SCRIPTS_DIR pointing at the scripts this test wrote, under its own name. */
function materialise(file: string): string {
  const path = join(mkdtempSync(join(work, 'conf-')), file);
  writeFileSync(path, readFileSync(join(JUDGE, file), 'utf8').replaceAll('SCRIPTS_DIR', work));
  return path;
}

/** file:line for each line the import must name (its trimmed text given). */
function namedLines(path: string, texts: string[]): string[] {
  const all = readFileSync(path, 'utf8').split('\n').map((l) => l.trim());
  return texts
    .map((t) => {
      const i = all.indexOf(t);
      assert.ok(i >= 0, `${basename(path)} has a line "${t}"`);
      assert.equal(all.indexOf(t, i + 1), -1, `${basename(path)} has one line "${t}"`);
      return `${basename(path)}:${i + 1}: ${t.split(/\s+/)[0]}`;
    })
    .sort();
}

for (const judged of CONFIGS) {
  test(`${judged.file}: keepalived and lvsd director run on the import settle on the same table and timeouts`, async () => {
    const conf = materialise(judged.file);
    ipvsadm(['-C']);
    ipvsadm(['--set', ...DEFAULT_TIMEOUTS]);

    // keepalived, the judge
    const dir = mkdtempSync(join(work, 'ka-'));
    const ka = spawn('keepalived', ['--check', '-n', '-l', '-G', '-f', conf, '-p', join(dir, 'keepalived.pid'), '-c', join(dir, 'checkers.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    ka.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
    ka.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    const exited = new Promise<void>((resolve) => ka.on('exit', () => resolve()));
    let kaTable: string;
    let kaTimeouts: string;
    let kaTook: number;
    let kaThresholds: string;
    try {
      // delay_loop 1-2 s, up to 3 tries: quiet for 8 s, and 12 s at least since the start
      const s = await settle('keepalived', 8_000, 12_000, 150_000, () => `keepalived:\n${log.join('')}`);
      kaTable = s.table;
      kaTook = s.took;
      kaTimeouts = timeouts();
      kaThresholds = thresholds();
    } finally {
      ka.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
    assert.deepEqual(lines(kaTable), lines(judged.table), `keepalived's table is the one expected; keepalived:\n${log.join('')}`);
    assert.equal(kaTimeouts, judged.timeouts);
    if (judged.thresholds) assert.equal(kaThresholds.split('\n').filter((l) => judged.thresholds!.line.test(l)).length, judged.thresholds.count, kaThresholds);

    // the slate cleaned: no service, the kernel's default timeouts (keepalived leaves its own)
    ipvsadm(['-C']);
    ipvsadm(['--set', ...DEFAULT_TIMEOUTS]);
    assert.equal(saved(), '');
    assert.equal(timeouts(), `Timeout (tcp tcpfin udp): ${DEFAULT_TIMEOUTS.join(' ')}`);

    // lvsd on the import
    const imp = lvsdRun(['director', 'import-keepalived', conf]);
    assert.equal(imp.status, judged.named.length ? 3 : 0, imp.stderr);
    const named = imp.stderr
      .split('\n')
      .map((l) => /([^/\s]+\.conf:\d+: \S+): /.exec(l)?.[1])
      .filter((x): x is string => x !== undefined)
      .sort();
    assert.deepEqual(named, namedLines(conf, judged.named), imp.stderr);
    const doc = YAML.parse(imp.stdout) as Record<string, Record<string, unknown>>;
    lab = new DirectorLab();
    doc.global = { ...(doc.global ?? {}), state_file: lab.state, control: { socket: lab.socket }, status: { listen: '' } };
    lab.write(YAML.stringify(doc));
    lab.start();
    let lvsdTook: number;
    try {
      lvsdTook = await until('lvsd on the same table', () => saved() === kaTable, 120_000).catch((err: Error) => {
        throw new Error(`${err.message}; lvsd's table:\n${saved()}\nkeepalived's:\n${kaTable}`);
      });
      // and it stays there: three more rounds of the slowest check
      await new Promise((r) => setTimeout(r, 6_000));
      assert.deepEqual(lines(saved()), lines(kaTable));
      assert.equal(timeouts(), kaTimeouts);
      assert.equal(thresholds(), kaThresholds);
    } finally {
      await lab.kill();
      lab = undefined;
    }
    ipvsadm(['-C']);
    console.log(`# ${judged.file}: keepalived settled in ${kaTook} ms, lvsd in ${lvsdTook} ms; ${lines(kaTable).length} table lines, ${kaThresholds.split('\n').length} --thresholds lines and the timeouts (${kaTimeouts.replace(/.*: /, '')}) compared; ${named.length} lines named by the import`);
  });
}
