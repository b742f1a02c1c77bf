// Seed 003 end to end on the real kernel, config/lab/galera-three-nodes-dr.yaml (the lab copy of
// config/director-galera.yaml): three MariaDB nodes with real galera-4 in three real-server
// namespaces, one cluster; a read VIP (wlc, every Synced node) and a write VIP (active: one: a
// single node weighted, the first up in list order, kept while it stays up) through LVS-DR;
// lvsd's galera-role mysql check. A node set to wsrep_desync=ON, or stopped, leaves the pools
// within interval × fall and comes back after rise; the write VIP always has exactly one member
// with a weight. ipvsadm only judges.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as mariadb from 'mariadb';
import { APP_PASSWORD, APP_USER, LabTopology, serviceWeightsFromProc, waitFor, type RealServerNode } from '../../support/lab-topology';
import { REPO } from '../../support/netns';

const EXAMPLE = join(REPO, 'config', 'lab', 'galera-three-nodes-dr.yaml');
const READ = '198.18.0.14';
const WRITE = '198.18.0.15';
const ADDRS = ['198.18.0.21', '198.18.0.22', '198.18.0.23'];
const NAMES = new Map(ADDRS.map((a, i) => [a, `rs${i + 1}`]));
// the config's check timing
const INTERVAL_MS = 2000;
const TIMEOUT_MS = 1000;
const RISE = 2;
const FALL = 2;
const LEAVE_GOAL_MS = INTERVAL_MS * FALL + TIMEOUT_MS + 100;
const BACK_GOAL_MS = INTERVAL_MS * RISE + TIMEOUT_MS + 100;
// the earliest a change can show: fall (or rise) results one interval apart, less the jitter (10 %)
const SOONEST_MS = (n: number) => INTERVAL_MS * (n - 1) * 0.9;
const EMULATION_SLACK_MS = 1500;

const topo = new LabTopology({ method: 'dr', servers: 3, vips: [READ, WRITE], backend: 'mariadb', galera: true });
const node = (name: string): RealServerNode => topo.servers.find((s) => s.name === name)!;

/** One service's weights by server address, in the kernel's list order. */
function pool(vip: string): [string, number][] {
  return [...serviceWeightsFromProc(topo.procIpvs(), `${vip}:3306`)].map(([a, w]) => [a.replace(/:3306$/, ''), w]);
}
const weightOf = (vip: string, addr: string) => pool(vip).find(([a]) => a === addr)?.[1];

/** The write VIP's member with a weight; 'two' if more than one has one (never expected). */
function writeTarget(): string | undefined {
  const weighted = pool(WRITE).filter(([, w]) => w > 0);
  return weighted.length > 1 ? 'two' : weighted[0] && NAMES.get(weighted[0][0]);
}

/** The director's state of a server of the write service: up (serving), standby (up, at weight 0), down. */
async function writeState(addr: string): Promise<string | undefined> {
  const r = await topo.ctlAsync(['status', '--json']); // not blocking: a load may be running
  const st = JSON.parse(r.stdout) as { services: { name: string; servers: { address: string; state: string }[] }[] };
  return st.services.find((x) => x.name === 'galera-write')?.servers.find((x) => x.address === addr)?.state;
}

/** What a joining node's error log says of its state transfer: the seqnos, IST or SST, how long. */
function stateTransfer(log: string): string {
  const local = /Local state: \S+:(-?\d+)/.exec(log)?.[1];
  const group = /Group state: \S+:(-?\d+)/.exec(log)?.[1];
  const kind = /rsync (IST|SST) completed/.exec(log)?.[1];
  const at = (re: RegExp) => /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/.exec(log.split('\n').find((l) => re.test(l)) ?? '')?.[1];
  const from = at(/State transfer required/);
  const to = at(/SST received|IST received/);
  const secs = from && to ? `${(Date.parse(to.replace(' ', 'T')) - Date.parse(from.replace(' ', 'T'))) / 1000} s` : 'unknown time';
  const donor = /Selected \S+ \(([^)]+)\)\S* as donor/.exec(log)?.[1];
  return local === undefined ? 'no state transfer' : `local seqno ${local}, group ${group}: ${kind ?? 'unknown kind of'} transfer in ${secs}, donor ${donor ?? 'not named'}`;
}

/** Runs of equal values: [a, a, b, a] -> [a, b, a]. */
const runs = <T>(xs: T[]): T[] => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);

async function through(vip: string, statement = 'SELECT @@hostname AS host'): Promise<string> {
  const c = await mariadb.createConnection({ host: vip, port: 3306, user: APP_USER, password: APP_PASSWORD, connectTimeout: 3000 });
  try {
    await c.query(statement);
    const [row] = (await c.query('SELECT @@hostname AS host')) as { host: string }[];
    return row.host;
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

// The write service sampled every 20 ms for the whole file: never without a target.
const targets: (string | undefined)[] = [];
let sampling = true;
let sampler: Promise<void> = Promise.resolve();

before(async () => {
  const began = Date.now();
  await topo.build();
  const transfer = topo.servers.slice(1).map((s) => `${s.name}: ${stateTransfer(topo.errorLog(s))}`);
  topo.writeConfig(EXAMPLE);
  topo.startDirector();
  await topo.directorReady();
  const took = await waitFor(
    'every node in the read pool, rs1 the write pool\'s one member',
    () => ADDRS.every((a) => weightOf(READ, a) === 1) && ADDRS.map((a) => weightOf(WRITE, a)).join() === '1,0,0',
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${topo.procIpvs()}\n${topo.directorLog.filter((l) => /"component":"(health|director)"/.test(l)).slice(-12).join('\n')}`);
  });
  console.log(
    `# set-up: mariadb-install-db ${topo.timings.mariadbInstall} ms; galera: rs1 new cluster and clean stop ${topo.timings.galeraSeed} ms, rs1 bootstrap ${topo.timings.galeraBootstrap} ms, rs2+rs3 joined and all Synced (size 3) ${topo.timings.galeraJoin} ms; ${transfer.join('; ')}`,
  );
  console.log(`# set-up: pools full ${took} ms after the director answered; ${Date.now() - began} ms in all`);
  sampler = (async () => {
    for (let i = 0; i < 60_000 && sampling; i++) {
      targets.push(writeTarget());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
});

after(async () => {
  sampling = false;
  await sampler;
  if (process.exitCode) {
    console.log(topo.directorLog.slice(-30).map((l) => `# director: ${l}`).join('\n'));
    for (const s of topo.servers) console.log(topo.errorLog(s).split('\n').slice(-8).map((l) => `# ${s.name}: ${l}`).join('\n'));
  }
  await topo.teardown();
});

test('a real three-node cluster: reads spread over every node, writes all on rs1 and replicated', async () => {
  assert.deepEqual(topo.ipvsadm(['-S', '-n']).split('\n').filter(Boolean).sort(), [
    '-A -t 198.18.0.14:3306 -s wlc',
    '-A -t 198.18.0.15:3306 -s wlc',
    '-a -t 198.18.0.14:3306 -r 198.18.0.21:3306 -g -w 1',
    '-a -t 198.18.0.14:3306 -r 198.18.0.22:3306 -g -w 1',
    '-a -t 198.18.0.14:3306 -r 198.18.0.23:3306 -g -w 1',
    '-a -t 198.18.0.15:3306 -r 198.18.0.21:3306 -g -w 1',
    '-a -t 198.18.0.15:3306 -r 198.18.0.22:3306 -g -w 0',
    '-a -t 198.18.0.15:3306 -r 198.18.0.23:3306 -g -w 0',
  ]);
  for (const s of topo.servers) {
    const st = await topo.wsrepStatus(s);
    assert.deepEqual([st.wsrep_cluster_size, st.wsrep_cluster_status, st.wsrep_local_state_comment], ['3', 'Primary', 'Synced'], s.name);
  }
  assert.deepEqual(await Promise.all(ADDRS.map(writeState)), ['up', 'standby', 'standby']);
  // DDL and grants replicate (TOI): made on rs1, used through the write VIP
  await topo.sql(node('rs1'), 'CREATE DATABASE e2e');
  await topo.sql(node('rs1'), 'CREATE TABLE e2e.w (id INT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(8) NOT NULL)');
  await topo.sql(node('rs1'), `GRANT INSERT, SELECT ON e2e.* TO '${APP_USER}'@'198.18.0.%'`);
  const writes: string[] = [];
  for (let i = 0; i < 5; i++) writes.push(await through(WRITE, 'INSERT INTO e2e.w (node) VALUES (@@hostname)'));
  assert.deepEqual(writes, ['rs1', 'rs1', 'rs1', 'rs1', 'rs1']);
  // a causal read on rs3 (wsrep_sync_wait) sees every row written on rs1
  const c = await mariadb.createConnection({ socketPath: topo.socketOf(node('rs3')), user: 'root', connectTimeout: 5000 });
  try {
    await c.query('SET SESSION wsrep_sync_wait = 1');
    const rows = (await c.query('SELECT node, COUNT(*) AS n FROM e2e.w GROUP BY node')) as { node: string; n: bigint }[];
    assert.deepEqual(rows.map((r) => [r.node, Number(r.n)]), [['rs1', 5]]);
  } finally {
    await c.end();
  }
  const reads = new Set<string>();
  for (let i = 0; i < 12 && reads.size < 3; i++) reads.add(await through(READ));
  assert.deepEqual([...reads].sort(), ['rs1', 'rs2', 'rs3']);
  console.log(`# cluster: size 3, Primary, Synced on every node; 5 writes through ${WRITE} all on rs1 and replicated to rs3; reads through ${READ} reached ${[...reads].sort().join(', ')}`);
});

test('wsrep_desync=ON on rs2: out of both pools within interval × fall (down in the write service), back after rise (standby); writes stay on rs1', async () => {
  const from = targets.length;
  const t0 = Date.now();
  await topo.sql(node('rs2'), 'SET GLOBAL wsrep_desync = ON');
  const stateDesynced = (await topo.wsrepStatus(node('rs2'))).wsrep_local_state_comment;
  await waitFor('rs2 out of the read pool', () => weightOf(READ, '198.18.0.22') === 0, 20_000, 10);
  const left = Date.now() - t0;
  // the write service checks rs2 on its own (another check): wait for its verdict too
  await waitFor('rs2 down in the write service', async () => (await writeState('198.18.0.22')) === 'down', 20_000, 100);
  const writeWhileOut = await writeState('198.18.0.22');
  const readsWhileOut: string[] = [];
  for (let i = 0; i < 6; i++) readsWhileOut.push(await through(READ));
  const t1 = Date.now();
  await topo.sql(node('rs2'), 'SET GLOBAL wsrep_desync = OFF');
  await waitFor('rs2 back in the read pool', () => weightOf(READ, '198.18.0.22') === 1, 20_000, 10);
  const back = Date.now() - t1;
  await waitFor('rs2 standby in the write service', async () => (await writeState('198.18.0.22')) === 'standby', 20_000, 100);
  const writeWhenBack = await writeState('198.18.0.22');
  const seen = runs(targets.slice(from));
  console.log(
    `# desync rs2 (${stateDesynced}): left both pools ${left} ms after SET GLOBAL wsrep_desync=ON (goal interval 2 s × fall 2 + timeout 1 s + 0.1 s = ${LEAVE_GOAL_MS} ms); back ${back} ms after OFF (rise 2, goal ${BACK_GOAL_MS} ms); reads meanwhile: ${readsWhileOut.join(', ')}; write target meanwhile: ${seen.join(' -> ')}`,
  );
  assert.equal(stateDesynced, 'Donor/Desynced');
  assert.deepEqual([writeWhileOut, writeWhenBack], ['down', 'standby'], 'rs2 in the write service: down while desynced, standby once back');
  assert.ok(left >= SOONEST_MS(FALL), `fall 2: not before a second failed check (${left} ms)`);
  assert.ok(left <= LEAVE_GOAL_MS + EMULATION_SLACK_MS, `left after ${left} ms`);
  assert.ok(back >= SOONEST_MS(RISE), `rise 2: not before a second passed check (${back} ms)`);
  assert.ok(back <= BACK_GOAL_MS + EMULATION_SLACK_MS, `back after ${back} ms`);
  assert.ok(!readsWhileOut.includes('rs2'), `no read on the desynced node: ${readsWhileOut.join(', ')}`);
  assert.deepEqual(new Set(readsWhileOut), new Set(['rs1', 'rs3']));
  assert.deepEqual(seen, ['rs1'], 'the write target never moved');
});

test('the writer rs1 desynced: every new write goes to rs2 within interval × fall, never to two nodes; rs1 back waits (no failback)', async () => {
  const from = targets.length;
  const answers: { t: number; host?: string; error?: string }[] = [];
  let loading = true;
  const load = (async () => {
    for (let i = 0; i < 400 && loading; i++) {
      const t = Date.now();
      await through(WRITE, 'INSERT INTO e2e.w (node) VALUES (@@hostname)').then((host) => answers.push({ t, host }), (e: Error) => answers.push({ t, error: e.message }));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  await topo.sql(node('rs1'), 'SET GLOBAL wsrep_desync = ON');
  await waitFor('writes on rs2', () => writeTarget() === 'rs2', 20_000, 10);
  const moved = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const t1 = Date.now();
  await topo.sql(node('rs1'), 'SET GLOBAL wsrep_desync = OFF');
  await waitFor('rs1 back in the read pool', () => weightOf(READ, '198.18.0.21') === 1, 20_000, 10);
  const up = Date.now() - t1;
  await waitFor('rs1 up again in the write service', async () => (await writeState('198.18.0.21')) !== 'down', 20_000, 100);
  const rs1Write = await writeState('198.18.0.21');
  const settled = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  loading = false;
  await load;
  const seen = runs(targets.slice(from));
  const failed = answers.filter((a) => a.error);
  const hosts = runs(answers.filter((a) => a.host).map((a) => a.host));
  const onDesynced = answers.filter((a) => a.host === 'rs1' && a.t >= t0 && a.t < t0 + moved);
  console.log(
    `# desync writer rs1: writes moved to rs2 ${moved} ms after wsrep_desync=ON (goal ${LEAVE_GOAL_MS} ms); rs1 up again ${up} ms after OFF (rise 2), ${rs1Write} in the write service; writes stayed on rs2`,
  );
  console.log(`# desync writer rs1: ${answers.length} write connections, ${failed.length} failed${failed.length ? ` (first: ${failed[0].error})` : ''}; nodes in order: ${hosts.join(' -> ')}; ${onDesynced.length} reached rs1 while desynced but not yet out; write target in the table: ${seen.join(' -> ')}`);
  assert.deepEqual(seen, ['rs1', 'rs2'], 'one write target at a time, never none, no failback');
  assert.deepEqual(hosts, ['rs1', 'rs2'], 'the clients wrote to one node at a time');
  assert.equal(rs1Write, 'standby');
  assert.equal(failed.length, 0);
  assert.ok(moved >= SOONEST_MS(FALL) && moved <= LEAVE_GOAL_MS + EMULATION_SLACK_MS, `moved after ${moved} ms`);
  assert.ok(up >= SOONEST_MS(RISE) && up <= BACK_GOAL_MS + EMULATION_SLACK_MS, `back after ${up} ms`);
  assert.ok(answers.filter((a) => a.t >= settled).every((a) => a.host === 'rs2'));
});

test('rs3 stopped (SIGTERM, as systemctl stop): out of both pools within interval × fall; restarted, it rejoins the cluster and comes back after rise', async () => {
  const from = targets.length;
  const rs3 = node('rs3');
  const t0 = Date.now();
  let stopped = 0;
  const stopping = topo.killBackend(rs3, 'SIGTERM').then(() => (stopped = Date.now() - t0));
  await waitFor('rs3 out of the read pool', () => weightOf(READ, '198.18.0.23') === 0, 30_000, 10);
  const left = Date.now() - t0;
  await waitFor('rs3 down in the write service', async () => (await writeState('198.18.0.23')) === 'down', 20_000, 100);
  const writeWhileOut = await writeState('198.18.0.23');
  await stopping;
  const reads: string[] = [];
  for (let i = 0; i < 6; i++) reads.push(await through(READ));
  const size = (await topo.wsrepStatus(node('rs1'))).wsrep_cluster_size;
  const logBefore = topo.errorLog(rs3).length;
  const t1 = Date.now();
  await topo.startBackend(rs3);
  const rejoin = await topo.galeraSynced(rs3, 3);
  const synced = Date.now() - t1;
  const transfer = stateTransfer(topo.errorLog(rs3).slice(logBefore));
  await waitFor('rs3 back in the read pool', () => weightOf(READ, '198.18.0.23') === 1, 20_000, 10);
  const back = Date.now() - t1 - synced;
  await waitFor('rs3 standby in the write service', async () => (await writeState('198.18.0.23')) === 'standby', 20_000, 100);
  const writeWhenBack = await writeState('198.18.0.23');
  const seen = runs(targets.slice(from));
  console.log(
    `# stop rs3: out of both pools ${left} ms after SIGTERM (goal ${LEAVE_GOAL_MS} ms; mariadbd took ${stopped} ms to stop); cluster size then ${size}; reads meanwhile: ${reads.join(', ')}`,
  );
  console.log(`# stop rs3: restarted, Synced in a cluster of 3 after ${synced} ms (waited ${rejoin} ms after the socket answered; ${transfer}); back in both pools ${back} ms after Synced (rise 2); write target meanwhile: ${seen.join(' -> ')}`);
  assert.equal(size, '2');
  assert.deepEqual([writeWhileOut, writeWhenBack], ['down', 'standby'], 'rs3 in the write service: down while stopped, standby once back');
  assert.ok(left <= LEAVE_GOAL_MS + EMULATION_SLACK_MS, `left after ${left} ms`);
  assert.ok(!reads.includes('rs3'));
  assert.ok(back <= BACK_GOAL_MS + EMULATION_SLACK_MS, `back ${back} ms after Synced`);
  // the writer moves only when it is the joining rs3's IST donor (desynced meanwhile, so its
  // galera check fails): never to rs3, never to none or two
  assert.ok(seen.length > 0 && seen.every((t) => t === 'rs1' || t === 'rs2'), `write target: ${seen.join(' -> ')}`);
});

test('the write service had exactly one member with a weight at every sample, and changed it only when its node left', () => {
  // rs1 until it was desynced, then rs2 (no failback); then perhaps rs1 again if rs2 donated rs3's IST
  const none = targets.filter((t) => t === undefined).length;
  console.log(`# write target over the whole file: ${targets.length} samples (every 20 ms), ${none} without a target; sequence ${runs(targets).join(' -> ')}`);
  assert.ok(targets.length > 100);
  assert.equal(none, 0);
  assert.ok(!targets.includes('two'), 'never two members with a weight');
  assert.deepEqual(runs(targets).slice(0, 2), ['rs1', 'rs2']);
  assert.ok(runs(targets).length <= 3, `write target: ${runs(targets).join(' -> ')}`);
});
