// `lvsd ipvs restore` is all or nothing on the kernel too (issue 18 item 7): when the kernel
// refuses a line, what the run changed is undone, judged by ipvsadm -S -n, --thresholds and
// --timeout before and after. The same cases on the fake: test/host/ipvs/restore-undoes-a-refused-run-on-the-fake.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ipvsadm, lvsdRun, setUpNamespace } from '../../support/ipvs-lab';

before(() => setUpNamespace());

const EXISTING = [
  '-A -t 198.18.0.10:80 -s wrr',
  '-a -t 198.18.0.10:80 -r 198.18.1.10:80 -g -w 3',
  '-a -t 198.18.0.10:80 -r 198.18.1.11:8080 -m -w 1 -x 100 -y 10',
  '-A -u 198.18.0.11:53 -s rr -p 60',
  '-a -u 198.18.0.11:53 -r 198.18.1.12:53 -m -w 2',
  '-A -f 7 -s sh -b sh-port',
  '-a -f 7 -r 198.18.1.13:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
  '-A -t [2001:db8::10]:443 -s lc -p 300 -M 64',
  '-a -t [2001:db8::10]:443 -r [2001:db8::1:20]:443 -m -w 5',
].join('\n');

/** What ipvsadm says of the table: rules, thresholds, timeouts. */
function judged(): string {
  return [ipvsadm(['-S', '-n']), ipvsadm(['-L', '-n', '--thresholds']), ipvsadm(['-L', '--timeout'])].join('---\n');
}

function program(): string {
  ipvsadm(['-C']);
  ipvsadm(['--set', '900', '120', '300']);
  ipvsadm(['-R'], EXISTING + '\n');
  return judged();
}

test('two lines, the second naming a scheduler the kernel cannot load: line 2 named, line 1 undone, ipvsadm -S -n empty as before', () => {
  ipvsadm(['-C']);
  const r = lvsdRun(['ipvs', 'restore'], '-A -t 198.18.0.20:80 -s rr\n-A -t 198.18.0.21:80 -s nosuch\n');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    "lvsd: line 2: scheduler 'nosuch' is not available: its kernel module could not be loaded (nothing applied: 1 of 2 commands had been applied and was undone, the table is as before)\n",
  );
  assert.equal(ipvsadm(['-S', '-n']), '');
});

test('edits, deletes, additions and timeouts of a run are put back when a later line is refused', () => {
  const before = program();
  const run = [
    '-E -t 198.18.0.10:80 -s rr -p 30',
    '-e -t 198.18.0.10:80 -r 198.18.1.10:80 -g -w 9',
    '-e -t 198.18.0.10:80 -r 198.18.1.11:8080 -m -w 4',
    '-d -t 198.18.0.10:80 -r 198.18.1.10:80',
    '-a -t 198.18.0.10:80 -r 198.18.1.14:80 -g -w 1',
    '-D -u 198.18.0.11:53',
    '-E -f 7 -s mh',
    '-d -t [2001:db8::10]:443 -r [2001:db8::1:20]:443',
    '-A -t 198.18.0.30:443 -s lc',
    '-a -t 198.18.0.30:443 -r 198.18.1.30:443 -m',
    '--set 100 0 200',
    '-A -t 198.18.0.31:443 -s nosuch',
    '-A -t 198.18.0.32:443 -s lc',
  ];
  const r = lvsdRun(['ipvs', 'restore'], run.join('\n') + '\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lvsd: line 12: scheduler 'nosuch' is not available: its kernel module could not be loaded \(nothing applied: \d+ of 13 commands had been applied and were undone, the table is as before\)\n$/);
  assert.equal(judged(), before);
});

test('a run that flushes first: every service comes back with its real servers', () => {
  const before = program();
  const r = lvsdRun(['ipvs', 'restore'], '-C\n-A -t 198.18.0.40:80 -s rr\n-A -t 198.18.0.41:80 -s rr -p --pe nope\n');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^lvsd: line 3: persistence engine 'nope' is not available: .*the table is as before\)\n$/);
  assert.equal(judged(), before);
});

test('a run the kernel accepts is kept', () => {
  program();
  const r = lvsdRun(['ipvs', 'restore'], '-A -t 198.18.0.60:80 -s rr\n-a -t 198.18.0.60:80 -r 198.18.1.60:80 -m\n');
  assert.equal(r.status, 0, r.stderr);
  assert.match(ipvsadm(['-S', '-n']), /^-a -t 198\.18\.0\.60:80 -r 198\.18\.1\.60:80 -m -w 1$/m);
});
