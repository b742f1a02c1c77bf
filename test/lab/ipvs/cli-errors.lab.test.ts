// Each refusal reaches the user of `lvsd ipvs` as one line on stderr and a non-zero exit,
// with nothing on stdout.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ipvsadm, lvsd, lvsdRun, setUpNamespace } from '../../support/ipvs-lab';

before(() => {
  setUpNamespace();
  lvsd(['ipvs', 'add-service', '-t', '198.18.0.10:80', '-s', 'rr']);
  lvsd(['ipvs', 'add-server', '-t', '198.18.0.10:80', '-r', '198.18.1.10', '-m']);
});

function refused(args: string[], message: RegExp, input?: string): void {
  const r = lvsdRun(['ipvs', ...args], input);
  assert.notEqual(r.status, 0, `lvsd ipvs ${args.join(' ')} succeeded`);
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.endsWith('\n') && !r.stderr.slice(0, -1).includes('\n'), `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr.slice(0, -1), message);
}

test('adding a service that exists', () => {
  refused(['add-service', '-t', '198.18.0.10:80'], /^lvsd: .*198\.18\.0\.10:80.*already exists/);
});

test('editing or deleting a service that does not exist', () => {
  refused(['edit-service', '-t', '198.18.0.11:80'], /^lvsd: no such service 198\.18\.0\.11:80$/);
  refused(['delete-service', '-u', '198.18.0.10:80'], /^lvsd: no such service 198\.18\.0\.10:80\/udp$/);
  refused(['list', '-n', '-t', '198.18.0.11:80'], /^lvsd: no such service 198\.18\.0\.11:80$/);
});

test('editing or deleting a real server that does not exist', () => {
  refused(['edit-server', '-t', '198.18.0.10:80', '-r', '198.18.1.11', '-m'], /^lvsd: no such real server 198\.18\.1\.11:80 in service 198\.18\.0\.10:80$/);
  refused(['delete-server', '-t', '198.18.0.10:80', '-r', '198.18.1.11'], /^lvsd: no such real server 198\.18\.1\.11:80 in service 198\.18\.0\.10:80$/);
  refused(['add-server', '-t', '198.18.0.99:80', '-r', '198.18.1.11', '-m'], /^lvsd: .*no such service 198\.18\.0\.99:80/);
});

test('an unknown scheduler', () => {
  refused(['add-service', '-t', '198.18.0.12:80', '-s', 'nosuchsched'], /^lvsd: .*nosuchsched/);
  assert.doesNotMatch(ipvsadm(['-S', '-n']), /198\.18\.0\.12/);
});

test('flush without --yes is refused and deletes nothing; with --yes it flushes', () => {
  refused(['flush'], /^lvsd: flush deletes every virtual service: add --yes to confirm$/);
  assert.match(ipvsadm(['-S', '-n']), /198\.18\.0\.10:80/);
  lvsd(['ipvs', 'flush', '--yes']);
  assert.equal(ipvsadm(['-S', '-n']), '');
});

test('a bad restore line', () => {
  refused(['restore'], /^lvsd: line 2: -s: 'w lc' is not a scheduler name$/, '-A -t 198.18.0.13:80\n-A -t 198.18.0.14:80 -s "w lc"\n');
  assert.equal(ipvsadm(['-S', '-n']), '');
});

test('bad flags name the flag', () => {
  refused(['add-server', '-t', '198.18.0.10:80', '-r', '198.18.1.10', '-w', '70000'], /^lvsd: -w: 70000 is out of range 0\.\.65535$/);
  refused(['add-service', '-t', '198.18.0.10'], /^lvsd: port 0 is only allowed for a persistent service \(-p\)$/);
  refused(['timeout', 'set', '900', 'x', '300'], /^lvsd: TCPFIN: 'x' is not a number$/);
  refused(['daemon', 'start', 'primary'], /^lvsd: state: 'primary' is not master or backup$/);
  refused(['daemon', 'start', 'master', '--mcast-group', '198.18.0.1'], /^lvsd: --mcast-group: '198\.18\.0\.1' is not an IPv4 or IPv6 multicast address$/);
  refused(['list', '--stats', '--timeout'], /^lvsd: --stats: cannot be combined with --timeout$/);
});
