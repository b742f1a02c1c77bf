// Seed 002's MHA side end to end on the real kernel, config/lab/mysql-mha-writer-dr.yaml as written:
// three MariaDB nodes, the writer VIP through LVS-DR, the writer-role check (read_only=OFF).
// Promoting rs2 as MHA does (read_only ON on rs1, then OFF on rs2) moves every new connection to
// rs2, and the pool never holds two writers at once, not even while two nodes have read_only=OFF
// (active: one). ipvsadm only judges.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as mariadb from 'mariadb';
import { APP_PASSWORD, APP_USER, LabTopology, waitFor } from '../../support/lab-topology';
import { REPO } from '../../support/netns';

const EXAMPLE = join(REPO, 'config', 'lab', 'mysql-mha-writer-dr.yaml');
const VIP = '198.18.0.12';
const ADDRS = ['198.18.0.21', '198.18.0.22', '198.18.0.23'];
// interval 1 s × fall 1 + timeout 500 ms + 100 ms; the new master joins after rise 1, as fast
const LEAVE_GOAL_MS = 1600;
const JOIN_GOAL_MS = 1600;
const EMULATION_SLACK_MS = 1500;

const topo = new LabTopology({ method: 'dr', servers: 3, vips: [VIP], backend: 'mariadb' });
const writers = () => ADDRS.filter((a) => (topo.weights().get(`${a}:3306`) ?? 0) > 0);

async function writerThroughVip(): Promise<{ host: string; readOnly: number }> {
  const c = await mariadb.createConnection({ host: VIP, port: 3306, user: APP_USER, password: APP_PASSWORD, connectTimeout: 3000 });
  try {
    const [row] = (await c.query('SELECT @@hostname AS host, @@read_only AS ro')) as { host: string; ro: number }[];
    return { host: row.host, readOnly: Number(row.ro) };
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

before(async () => {
  await topo.build();
  for (const s of topo.servers.slice(1)) await topo.sql(s, 'SET GLOBAL read_only = ON');
  topo.writeConfig(EXAMPLE);
  topo.startDirector();
  await topo.directorReady();
  const took = await waitFor('rs1 the only writer', () => writers().join() === '198.18.0.21', 30_000);
  console.log(`# set-up: mariadb-install-db ${topo.timings.mariadbInstall} ms, 3 mariadbd in ${topo.timings.mariadbStart} ms; rs1 writer in the pool ${took} ms after the director answered`);
});

after(async () => {
  if (process.exitCode) console.log(topo.directorLog.slice(-30).map((l) => `# director: ${l}`).join('\n'));
  await topo.teardown();
});

test('only the node with read_only=OFF is in the writer pool', async () => {
  assert.deepEqual(topo.ipvsadm(['-S', '-n']).split('\n').filter(Boolean).sort(), [
    '-A -t 198.18.0.12:3306 -s rr',
    '-a -t 198.18.0.12:3306 -r 198.18.0.21:3306 -g -w 1',
    '-a -t 198.18.0.12:3306 -r 198.18.0.22:3306 -g -w 0',
    '-a -t 198.18.0.12:3306 -r 198.18.0.23:3306 -g -w 0',
  ]);
  for (let i = 0; i < 3; i++) assert.deepEqual(await writerThroughVip(), { host: 'rs1', readOnly: 0 });
});

test('an MHA-style promotion moves the writer VIP to the new master, never two writers at once', async () => {
  let most = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    for (let i = 0; i < 3000 && sampling; i++) {
      most = Math.max(most, writers().length);
      samples++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const answers: { t: number; host?: string; readOnly?: number; error?: string }[] = [];
  let loading = true;
  const load = (async () => {
    for (let i = 0; i < 300 && loading; i++) {
      const t = Date.now();
      await writerThroughVip().then((a) => answers.push({ t, ...a }), (e: Error) => answers.push({ t, error: e.message }));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  await topo.sql(topo.servers[0], 'SET GLOBAL read_only = ON'); // MHA: the old master stops taking writes
  await waitFor('rs1 out of the pool', () => !writers().includes('198.18.0.21'), 15_000, 10);
  const left = Date.now() - t0; // from the statement, not from when it returned
  await new Promise((r) => setTimeout(r, 300)); // MHA applies the last relay logs on the new master
  const t1 = Date.now();
  await topo.sql(topo.servers[1], 'SET GLOBAL read_only = OFF'); // ... and opens it for writes
  await waitFor('rs2 the writer', () => writers().join() === '198.18.0.22', 15_000, 10);
  const joined = Date.now() - t1;
  const settled = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  loading = false;
  sampling = false;
  await Promise.all([load, sampler]);
  const afterSettled = answers.filter((a) => a.t >= settled);
  const onReadOnly = answers.filter((a) => a.readOnly === 1);
  const refused = answers.filter((a) => a.error);
  console.log(`# mha switch: rs1 left the writer pool ${left} ms after read_only=ON (goal interval 1 s × fall 1 + timeout 0.5 s + 0.1 s = ${LEAVE_GOAL_MS} ms); rs2 joined ${joined} ms after read_only=OFF (rise 1, goal ${JOIN_GOAL_MS} ms); writers in the pool at once: at most ${most} over ${samples} samples`);
  console.log(`# mha switch: ${answers.length} connections: ${onReadOnly.length} reached a read-only node (the old master before it left), ${refused.length} refused while no writer was in the pool, ${afterSettled.length} after the switch all on rs2`);
  assert.equal(most, 1, 'never two writers in the pool');
  assert.ok(left <= LEAVE_GOAL_MS + EMULATION_SLACK_MS, `rs1 left after ${left} ms`);
  assert.ok(joined <= JOIN_GOAL_MS + EMULATION_SLACK_MS, `rs2 joined after ${joined} ms`);
  assert.ok(afterSettled.length > 0);
  for (const a of afterSettled) assert.deepEqual({ host: a.host, readOnly: a.readOnly }, { host: 'rs2', readOnly: 0 });
  assert.ok(
    onReadOnly.every((a) => a.host === 'rs1' && a.t < t0 + left),
    `only the old master, only before it left: ${JSON.stringify(onReadOnly.map((a) => ({ host: a.host, msAfterReadOnly: a.t - t0 })))}`,
  );
});

test('read_only=OFF on a second node while rs2 writes: it waits at weight 0 and never takes a write', async () => {
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    for (let i = 0; i < 1000 && sampling; i++) {
      most = Math.max(most, writers().length);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await topo.sql(topo.servers[2], 'SET GLOBAL read_only = OFF');
    const rs3State = async () => {
      const r = await topo.ctlAsync(['status', '--json']);
      return (JSON.parse(r.stdout) as { services: { servers: { address: string; state: string }[] }[] }).services[0].servers.find((x) => x.address === '198.18.0.23')?.state;
    };
    const standby = await waitFor('rs3 up and standby', async () => (await rs3State()) === 'standby', 15_000, 50);
    const hosts: string[] = [];
    for (let i = 0; i < 6; i++) hosts.push((await writerThroughVip()).host);
    console.log(`# two nodes read_only=OFF: rs3 standby ${standby} ms later; writes then: ${hosts.join(', ')}; writers in the pool at once: at most ${most}`);
    assert.deepEqual(writers(), ['198.18.0.22']);
    assert.deepEqual(hosts, ['rs2', 'rs2', 'rs2', 'rs2', 'rs2', 'rs2']);
  } finally {
    sampling = false;
    await sampler;
    await topo.sql(topo.servers[2], 'SET GLOBAL read_only = ON');
  }
  assert.equal(most, 1, 'never two writers in the pool');
});
