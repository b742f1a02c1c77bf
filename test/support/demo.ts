// `npm run demo`: the seed-002 story told step by step on a real IPVS kernel (scripts/demo.sh
// starts this inside the lab guest, or in a namespace on a host whose kernel has IPVS).
// Two MariaDB read replicas behind LVS-DR, round robin, config/lab/mysql-read-replicas-dr.yaml;
// `lvsd director run` and `lvsd realserver up` do all the LVS work. Ends with one verdict line
// and exit 0 (OK) or 1 (FAILED).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LVSD } from './ipvs-lab';
import { ClientLoad, LabTopology, askThrough, summary, waitFor } from './lab-topology';
import { REPO } from './netns';

const EXAMPLE = join(REPO, 'config', 'lab', 'mysql-read-replicas-dr.yaml');
const VIP = '198.18.0.10';
const RS1 = '198.18.0.21';
const RS2 = '198.18.0.22';

const say = (text = '') => process.stdout.write(`${text}\n`);
const step = (n: number, title: string) => say(`\n── ${n}. ${title} ${'─'.repeat(Math.max(3, 70 - title.length))}`);
const indent = (text: string) => text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

async function main(): Promise<string> {
  const where = process.env.LVSD_DEMO_WHERE ?? 'here';
  say('lvsd demo: seed 002 — two MySQL read replicas behind LVS-DR, round robin, health-checked');
  say(where === 'lab'
    ? 'where: in the kernel lab (a Debian kernel under qemu), because this host kernel has no IPVS'
    : 'where: in network namespaces on this host, whose kernel has IPVS');

  const topo = new LabTopology({ method: 'dr', servers: 2, vips: [VIP], backend: 'mariadb' });
  try {
    step(1, 'the network: a client, a director and two replicas, each in its own namespace');
    await topo.build();
    say(indent(`client    198.18.0.100 (this namespace, on a bridge)
director  198.18.0.2, VIP ${VIP} on eth0           runs: lvsd director run -c director.yaml
rs1       ${RS1}, VIP on lo (lvsd realserver up)  runs: mariadbd (hostname rs1)
rs2       ${RS2}, VIP on lo (lvsd realserver up)  runs: mariadbd (hostname rs2)
set-up: network ${topo.timings.network} ms, mariadb-install-db ${topo.timings.mariadbInstall} ms, both mariadbd up in ${topo.timings.mariadbStart} ms`));

    step(2, `the config: ${EXAMPLE.slice(REPO.length + 1)}`);
    say(indent(readFileSync(EXAMPLE, 'utf8')));
    topo.writeConfig(EXAMPLE);
    say('    (run as written; only the state file, control socket and password file live in a temp dir)');

    step(3, 'start the director; its checks log in to each replica');
    const started = Date.now();
    topo.startDirector();
    await topo.directorReady();
    const up = await waitFor('both replicas up', () => topo.weights().get(`${RS1}:3306`) === 1 && topo.weights().get(`${RS2}:3306`) === 1, 30_000);
    say(`    both replicas up and weighted ${Date.now() - started} ms after the start (${up} ms after the control socket answered)`);
    const sysctl = (name: string) => topo.inNs(topo.directorNs, 'sysctl', ['-n', `net.ipv4.vs.${name}`]).trim();
    const settings = ['expire_nodest_conn', 'expire_quiescent_template'].map((n) => `net.ipv4.vs.${n}=${sysctl(n)}`);
    check(settings.every((x) => x.endsWith('=1')), `the director did not set its IPVS settings: ${settings.join(' ')}`);
    say(`    the director set ${settings.join(' and ')} (global.ipvs_sysctl's defaults): a new connection, also a persistent client's, is not sent to a server at weight 0`);
    say('    $ lvsd ipvs list -n');
    say(indent(topo.inNs(topo.directorNs, LVSD, ['ipvs', 'list', '-n'])));

    step(4, `round robin: six new connections to ${VIP}:3306, each asks SELECT @@hostname`);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await askThrough(VIP));
    for (const a of answers) say(`    answered by ${a.host}, which saw the client as ${a.seenFrom}`);
    for (let i = 1; i < answers.length; i++) check(answers[i].host !== answers[i - 1].host, 'round robin did not alternate');
    say('    they alternate, and each replica sees the client itself (DR forwards, it does not proxy)');

    step(5, 'a replica fails under load: mariadbd on rs1 is killed (kill -9)');
    const load = new ClientLoad({ vip: VIP, rate: 10, concurrency: 4, maxMs: 40_000 });
    await pause(1500);
    const t0 = Date.now();
    await topo.killBackend(topo.servers[0]);
    await waitFor('rs1 at weight 0', () => topo.weights().get(`${RS1}:3306`) === 0, 15_000, 10);
    const detection = Date.now() - t0;
    await pause(2000);
    say(`    the director set rs1's weight to 0 after ${detection} ms (interval 1 s × fall 2 + timeout 500 ms = 2.5 s budget)`);
    say('    $ lvsd ipvs list -n');
    say(indent(topo.inNs(topo.directorNs, LVSD, ['ipvs', 'list', '-n'])));
    say('    $ lvsd director status');
    say(indent(topo.ctl(['status']).stdout));

    step(6, 'recovery: mariadbd on rs1 starts again');
    const restart = Date.now();
    await topo.startBackend(topo.servers[0]);
    const mysqlUp = Date.now() - restart;
    const back = await waitFor('rs1 at weight 1', () => topo.weights().get(`${RS1}:3306`) === 1, 20_000, 10);
    await pause(1000);
    const attempts = await load.stop();
    const t1 = t0 + detection;
    const failedAfter = attempts.filter((a) => !a.ok && a.start >= t1).length;
    const failedBefore = attempts.filter((a) => !a.ok && a.start < t1).length;
    say(`    mariadbd took ${mysqlUp} ms to start; rs1 back at weight 1 ${back} ms later (rise 2)`);
    say(`    client load during all this: ${summary(attempts)}`);
    say(`    failed new connections: ${failedBefore} while rs1 was dead but not yet detected, ${failedAfter} after its weight reached 0`);
    check(failedAfter === 0, `${failedAfter} connections failed after rs1 was drained`);

    step(7, 'operator control without a reload: drain rs2, then enable it');
    say(`    $ lvsd director drain ${RS2}`);
    let r = topo.ctl(['drain', RS2]);
    say(indent(r.stdout + r.stderr));
    check(r.status === 0, 'drain failed');
    check(topo.weights().get(`${RS2}:3306`) === 0, 'drain did not set weight 0');
    const drained = [];
    for (let i = 0; i < 4; i++) drained.push((await askThrough(VIP)).host);
    say(`    four new connections: ${drained.join(', ')}`);
    check(drained.every((h) => h === 'rs1'), 'a drained server took new connections');
    say(`    $ lvsd director enable ${RS2}`);
    r = topo.ctl(['enable', RS2]);
    say(indent(r.stdout + r.stderr));
    check(r.status === 0 && topo.weights().get(`${RS2}:3306`) === 1, 'enable did not restore the weight');
    const enabled = [];
    for (let i = 0; i < 4; i++) enabled.push((await askThrough(VIP)).host);
    say(`    four new connections: ${enabled.join(', ')}`);
    check(new Set(enabled).size === 2, 'rs2 did not come back');

    step(8, 'the status endpoint (read-only HTTP on 127.0.0.1:9180 in the director namespace)');
    say('    $ curl -s http://127.0.0.1:9180/status.json');
    const json = JSON.parse(topo.inNs(topo.directorNs, 'curl', ['-sS', '--max-time', '10', 'http://127.0.0.1:9180/status.json']));
    say(indent(JSON.stringify(json, null, 2)));
    check(!JSON.stringify(json).includes('check-secret'), 'the check password appears in the status');

    return `round robin alternated, rs1 drained ${detection} ms after its mysqld died and back after recovery, 0 failed connections after the drain, drain/enable from the CLI, status served`;
  } finally {
    await topo.teardown();
  }
}

const began = Date.now();
main().then(
  (what) => {
    say(`\ndemo: OK — ${what} (${Math.round((Date.now() - began) / 1000)} s)`);
    process.exit(0);
  },
  (err: Error) => {
    say(`\ndemo: FAILED — ${err.message.split('\n')[0]}`);
    process.exit(1);
  },
);
