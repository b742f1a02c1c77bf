// `lvsd ipvs restore` is one transaction: when the kernel (here FakeIpvs, which refuses as the
// kernel does: test/lab/ipvs/kernel-and-fake-agree) refuses a line, everything the run changed is
// undone and the table reads back exactly as before. The lab proves the same with ipvsadm -Sn
// (test/lab/ipvs/restore-is-all-or-nothing.lab.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIpvs } from '../../../src/ipvs/fake';
import { applyRestore, parseRestore, RestoreApplyError } from '../../../src/ipvs/restore';
import { settingsOf } from '../../support/ipvs-conformance';

async function programmed(lines: string): Promise<FakeIpvs> {
  const ipvs = new FakeIpvs();
  await applyRestore(ipvs, parseRestore(lines));
  return ipvs;
}

async function snapshot(ipvs: FakeIpvs) {
  return { table: settingsOf(await ipvs.readTable()), timeouts: await ipvs.readTimeouts() };
}

const EXISTING = [
  '-A -t 198.18.0.10:80 -s wrr',
  '-a -t 198.18.0.10:80 -r 198.18.1.10:80 -g -w 3',
  '-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 1',
  '-A -u 198.18.0.11:53 -s rr -p 60',
  '-a -u 198.18.0.11:53 -r 198.18.1.12:53 -m -w 2',
  '-A -f 7 -s sh -b sh-port',
  '-a -f 7 -r 198.18.1.13:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
].join('\n');

test('two lines, the second naming a scheduler the kernel cannot load: line 2 reported, line 1 undone, the table empty as before', async () => {
  const ipvs = new FakeIpvs();
  await assert.rejects(applyRestore(ipvs, parseRestore('-A -t 198.18.0.20:80 -s rr\n-A -t 198.18.0.21:80 -s nosuch\n')), (err: unknown) => {
    assert.ok(err instanceof RestoreApplyError);
    assert.equal(
      err.message,
      "line 2: scheduler 'nosuch' is not available: its kernel module could not be loaded (nothing applied: 1 of 2 commands had been applied and was undone, the table is as before)",
    );
    assert.deepEqual([err.line, err.applied, err.undone], [2, 1, true]);
    return true;
  });
  assert.deepEqual(await ipvs.readTable(), []);
  assert.deepEqual(
    ipvs.applied.map((op) => op.kind),
    ['add-service', 'delete-service'],
    'the added service was deleted again',
  );
});

test('edits, deletes, additions and timeouts of a run are all put back when a later line is refused', async () => {
  const ipvs = await programmed(EXISTING);
  const before = await snapshot(ipvs);
  const run = [
    '-E -t 198.18.0.10:80 -s rr -p 30',
    '-e -t 198.18.0.10:80 -r 198.18.1.10:80 -g -w 9',
    '-d -t 198.18.0.10:80 -r 198.18.1.11:80',
    '-a -t 198.18.0.10:80 -r 198.18.1.14:80 -g -w 1',
    '-D -u 198.18.0.11:53',
    '-E -f 7 -s mh',
    '-A -t 198.18.0.30:443 -s lc',
    '-a -t 198.18.0.30:443 -r 198.18.1.30:443 -m',
    '--set 100 0 200',
    '-a -t 198.18.0.10:80 -r 198.18.1.10:80 -g -w 1', // EEXIST: the kernel refuses
    '-A -t 198.18.0.31:443 -s lc',
  ];
  await assert.rejects(applyRestore(ipvs, parseRestore(run.join('\n'))), (err: unknown) => {
    assert.ok(err instanceof RestoreApplyError);
    assert.equal(err.line, 10);
    assert.match(err.message, /^line 10: real server 198\.18\.1\.10:80 already exists in service 198\.18\.0\.10:80 \(nothing applied: 9 of 11 commands had been applied and were undone, the table is as before\)$/);
    return true;
  });
  assert.deepEqual(await snapshot(ipvs), before);
});

test('a flush in the run: every service is put back with its real servers', async () => {
  const ipvs = await programmed(EXISTING);
  const before = await snapshot(ipvs);
  await assert.rejects(applyRestore(ipvs, parseRestore('-C\n-A -t 198.18.0.40:80 -s rr\n-A -t 198.18.0.41:80 -s rr --pe nope -p\n')), /^RestoreApplyError: line 3: persistence engine 'nope'/);
  assert.deepEqual(await snapshot(ipvs), before);
});

test('services the run does not name are neither read back nor touched', async () => {
  const ipvs = await programmed(EXISTING);
  await assert.rejects(applyRestore(ipvs, parseRestore('-A -t 198.18.0.50:80\n-a -t 198.18.0.50:80 -r 198.18.1.50:80 -x 1 -y 2\n')), RestoreApplyError);
  // after the programmed table: the run's one accepted op and its undo, nothing else
  assert.deepEqual(
    ipvs.applied.slice(7).map((op) => [op.kind, 'service' in op && op.service && ('key' in op.service ? op.service.key.address : op.service.address)]),
    [
      ['add-service', '198.18.0.50'],
      ['delete-service', '198.18.0.50'],
    ],
  );
});

test('a run the kernel accepts is kept', async () => {
  const ipvs = await programmed(EXISTING);
  assert.deepEqual(await applyRestore(ipvs, parseRestore('-A -t 198.18.0.60:80 -s rr\n-a -t 198.18.0.60:80 -r 198.18.1.60:80 -m\n')), { applied: 2 });
  assert.equal((await ipvs.readTable()).length, 4);
});
