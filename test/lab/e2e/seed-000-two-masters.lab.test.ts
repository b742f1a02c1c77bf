// Seed 000 end to end on the real kernel, config/lab/mysql-two-masters-dr.yaml as written: two MariaDB
// masters behind one VIP, checked by an authenticated login (no password-less account anywhere).
// Stopping mysqld on one (a clean shutdown) sends every new connection to the other.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CHECK_PASSWORD, CHECK_USER, ClientLoad, LabTopology, askThrough, summary, waitFor } from '../../support/lab-topology';
import { REPO } from '../../support/netns';

const EXAMPLE = join(REPO, 'config', 'lab', 'mysql-two-masters-dr.yaml');
const VIP = '198.18.0.13';
const topo = new LabTopology({ method: 'dr', servers: 2, vips: [VIP], backend: 'mariadb' });
const weightOf = (addr: string) => topo.weights().get(`${addr}:3306`);

before(async () => {
  await topo.build();
  topo.writeConfig(EXAMPLE);
  topo.startDirector();
  await topo.directorReady();
  await waitFor('both masters weighted', () => weightOf('198.18.0.21') === 1 && weightOf('198.18.0.22') === 1, 30_000);
});

after(async () => {
  if (process.exitCode) console.log(topo.directorLog.slice(-30).map((l) => `# director: ${l}`).join('\n'));
  await topo.teardown();
});

test('the check account needs its password: without it the login is refused, with it accepted', () => {
  const login = (args: string[]) =>
    topo.inNsResult(topo.directorNs, 'mariadb', ['-h', '198.18.0.21', '-u', CHECK_USER, '--connect-timeout=5', ...args, '-N', '-e', 'SELECT 1']);
  const without = login([]);
  assert.notEqual(without.status, 0);
  assert.match(without.stderr, /Access denied for user 'lvs_check'/);
  const withPw = login([`--password=${CHECK_PASSWORD}`]);
  assert.equal(withPw.status, 0, withPw.stderr);
  assert.ok(!JSON.stringify(topo.status()).includes(CHECK_PASSWORD), 'the password is not in the status');
  assert.ok(!topo.directorLog.join('\n').includes(CHECK_PASSWORD), 'nor in the log');
});

test('stopping mysqld on one master sends every new connection to the other', async () => {
  const load = new ClientLoad({ vip: VIP, rate: 10, concurrency: 4, maxMs: 40_000 });
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  await topo.killBackend(topo.servers[0], 'SIGTERM');
  const stopped = Date.now() - t0;
  await waitFor('rs1 at weight 0', () => weightOf('198.18.0.21') === 0, 15_000, 10);
  const t1 = Date.now();
  const detection = t1 - t0;
  const hosts = [];
  for (let i = 0; i < 4; i++) hosts.push((await askThrough(VIP)).host);
  await new Promise((r) => setTimeout(r, 1000));
  const attempts = await load.stop();
  const failedAfter = attempts.filter((a) => !a.ok && a.start >= t1).length;
  console.log(`# two masters: mysqld on rs1 stopped (clean shutdown took ${stopped} ms), weight 0 ${detection} ms after the stop began; then new connections: ${hosts.join(', ')}`);
  console.log(`# two masters: ${failedAfter} failed after weight 0; load ${summary(attempts)}`);
  assert.deepEqual(hosts, ['rs2', 'rs2', 'rs2', 'rs2']);
  assert.equal(failedAfter, 0);
  assert.ok(attempts.filter((a) => a.ok && a.start >= t1).every((a) => a.host === 'rs2'));
});
