// keepalived is the judge of `lvsd director import-keepalived`: keepalived 2.2 started on seed 002's
// keepalived.conf (its virtual_server part, addresses in 198.18.0.0/15) and `lvsd director run` on
// the import produce the same `ipvsadm -S -n` and timeouts once checks settle, with one real server
// up (a listener on 3306) and one down (nothing listens: keepalived removes it, without
// inhibit_on_failure, and so must lvsd). Then the cutover an operator makes: keepalived stopped
// with its table left in place, lvsd started on the import, and not one entry changed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { firstOutput, ipvsadm, lvsdRun, ok, run, setUpNamespace } from '../../support/ipvs-lab';
import { DirectorLab, saved, until } from '../../support/director-lab';

const CONF = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'keepalived', 'seed-002.conf');
const RS_NS = `lvsd-ka-rs-${process.pid}`;
const lab = new DirectorLab();
let listenerProc: ChildProcess | undefined;
let keepalivedTable = '';
let keepalivedTimeouts = '';

const lines = (text: string) => text.split('\n').filter(Boolean).sort();

before(async () => {
  setUpNamespace();
  // the real servers in a namespace of their own behind a veth (not local addresses, which IPVS
  // would mark Local): 198.18.14.71 listens on 3306, 198.18.14.72 refuses
  ok('ip', ['netns', 'add', RS_NS]);
  ok('ip', ['link', 'add', 'kav0', 'type', 'veth', 'peer', 'name', 'kav1']);
  ok('ip', ['link', 'set', 'kav1', 'netns', RS_NS]);
  ok('ip', ['addr', 'add', '198.18.14.1/24', 'dev', 'kav0']);
  ok('ip', ['link', 'set', 'kav0', 'up']);
  for (const args of [
    ['link', 'set', 'lo', 'up'],
    ['addr', 'add', '198.18.14.71/24', 'dev', 'kav1'],
    ['addr', 'add', '198.18.14.72/24', 'dev', 'kav1'],
    ['link', 'set', 'kav1', 'up'],
  ]) {
    ok('ip', ['netns', 'exec', RS_NS, 'ip', ...args]);
  }
  listenerProc = spawn('ip', ['netns', 'exec', RS_NS, process.execPath, '-e', "require('net').createServer((c) => c.destroy()).listen(3306, '198.18.14.71', () => console.log('listening'))"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await firstOutput(listenerProc, 'the listener', 10_000);
});

after(async () => {
  await lab.kill();
  listenerProc?.kill();
  run('ip', ['netns', 'del', RS_NS]);
});

const settledTable = `-A -t 198.18.14.100:3306 -s rr
-a -t 198.18.14.100:3306 -r 198.18.14.71:3306 -g -w 1
`;

/** keepalived --check on seed 002 until its table settles; `extra`: more keepalived options. */
async function runKeepalived(extra: string[]): Promise<{ stop: () => Promise<void>; settledAfter: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-ka-'));
  const ka = spawn('keepalived', ['--check', ...extra, '-n', '-l', '-G', '-f', CONF, '-p', join(dir, 'keepalived.pid'), '-c', join(dir, 'checkers.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  ka.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  ka.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  const exited = new Promise<void>((resolve) => ka.on('exit', () => resolve()));
  const stop = async () => {
    ka.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  try {
    // delay_loop 6 (first check within it), retry 1 (nb_get_retry is not a TCP_CHECK keyword) x delay_before_retry 3 for the refused one
    const settledAfter = await until('keepalived settled', () => ipvsadm(['-S', '-n']) === settledTable, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; table:\n${ipvsadm(['-S', '-n'])}\nkeepalived:\n${log.join('')}`);
    });
    return { stop, settledAfter };
  } catch (err) {
    await stop();
    throw err;
  }
}

test('keepalived on seed 002: the up server in the table, the down one removed', async () => {
  const ka = await runKeepalived([]);
  try {
    console.log(`# keepalived settled ${ka.settledAfter} ms after its start`);
    keepalivedTable = ipvsadm(['-S', '-n']);
    keepalivedTimeouts = ipvsadm(['-L', '--timeout']);
  } finally {
    await ka.stop();
  }
  ipvsadm(['-C']); // keepalived removes its services on stop; this makes sure
  assert.equal(keepalivedTable, settledTable);
});

test("lvsd director run on the import programs keepalived's table and timeouts", async () => {
  assert.ok(keepalivedTable, 'the keepalived run above gave a table');
  const imp = lvsdRun(['director', 'import-keepalived', CONF]);
  // 3: delay_before_retry is named (lvsd retries every interval); the YAML is valid
  assert.equal(imp.status, 3, imp.stderr);
  assert.match(imp.stderr, /seed-002\.conf:16: nb_get_retry: /); // not a TCP_CHECK keyword for keepalived 2.2
  assert.match(imp.stderr, /seed-002\.conf:17: delay_before_retry: /);
  lab.write(`${lab.global()}${imp.stdout}`);
  lab.start();
  // fall 2 (keepalived ignores nb_get_retry in a TCP_CHECK) x interval 6 s for the refused server
  const took = await until('lvsd settled', () => saved() === keepalivedTable, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}; table:\n${saved()}`);
  });
  console.log(`# lvsd settled ${took} ms after its start`);
  assert.deepEqual(lines(saved()), lines(keepalivedTable));
  assert.equal(ipvsadm(['-L', '--timeout']), keepalivedTimeouts);
  assert.ok(readFileSync(lab.config, 'utf8').includes('on_failure: remove'));
});

test('a cutover: keepalived stopped with -I leaves its table, lvsd on the import takes it over with zero writes, the failed server never put back', async () => {
  await lab.kill();
  ipvsadm(['-C']);
  const ka = await runKeepalived(['-I']); // --dont-release-ipvs: the table stays when it stops
  await ka.stop();
  assert.equal(saved(), settledTable, 'keepalived -I left its table');
  const imp = lvsdRun(['director', 'import-keepalived', CONF]);
  const cutover = new DirectorLab(); // a director that never ran here: no state file
  cutover.write(`${cutover.global()}${imp.stdout}`);
  // every 20 ms from before the start: any write lvsd made would show (the import starts
  // servers up, so without adoption the refused 198.18.14.72 would be added at the first pass)
  const seen = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      seen.add(readFileSync('/proc/net/ip_vs', 'utf8').split('\n').filter((l) => /^(TCP|  ->)/.test(l)).map((l) => l.replace(/\s+\d+\s+\d+\s*$/, '')).join('\n'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    cutover.start();
    const ready = await until('the director answers', () => cutover.ctl(['status', '--json']).status === 0, 60_000);
    // two check rounds (delay_loop 6) and a resync: a refused check is in, and nothing changed
    await new Promise((r) => setTimeout(r, 13_000));
    const st = cutover.status();
    console.log(`# cutover: lvsd answering ${ready} ms after its start; table states seen: ${seen.size}; writes: ${st.reconcile.opsTotal}`);
    assert.equal(st.reconcile.opsTotal, 0, 'zero writes');
    assert.equal(seen.size, 1, `the table never changed: ${[...seen].join('\n---\n')}`);
    assert.equal(saved(), settledTable);
    const servers = st.services[0].servers.map((x) => [x.address, x.health]);
    assert.deepEqual(servers.sort(), [['198.18.14.71', 'up'], ['198.18.14.72', 'down']]);
  } finally {
    sampling = false;
    await sampler;
    await cutover.kill();
  }
});
