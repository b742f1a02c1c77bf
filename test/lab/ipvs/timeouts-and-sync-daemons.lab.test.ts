// Timeouts and connection sync daemons set through lvsd, listed by ipvsadm and lvsd alike.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ipvsadm, lvsd, lvsdRun, run, setUpNamespace } from '../../support/ipvs-lab';

before(() => {
  setUpNamespace();
  // an IPv4 real server behind an IPv6 service (tunnel): the sync protocol cannot carry it
  ipvsadm(['-A', '-t', '[2001:db8::10]:80', '-s', 'wrr']);
  ipvsadm(['-a', '-t', '[2001:db8::10]:80', '-r', '198.18.1.60', '-i']);
});

test('timeouts: set through lvsd (0 keeps a value), listed identically', () => {
  lvsd(['ipvs', 'timeout', 'set', '1000', '0', '200']);
  const listed = ipvsadm(['-L', '--timeout']);
  assert.equal(listed, 'Timeout (tcp tcpfin udp): 1000 120 200\n');
  assert.equal(lvsd(['ipvs', 'list', '-n', '--timeout']), listed);
  assert.deepEqual(JSON.parse(lvsd(['ipvs', 'timeout', 'get', '--json'])), { tcp: 1000, tcpFin: 120, udp: 200 });
});

test('sync daemons: refused while a real server has another family than its service, as with ipvsadm', () => {
  const r = lvsdRun(['ipvs', 'daemon', 'start', 'master', '--mcast-interface', 'lab0']);
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.split('\n').length, 2, 'one line');
  assert.notEqual(run('ipvsadm', ['--start-daemon', 'master', '--mcast-interface', 'lab0']).status, 0, 'ipvsadm is refused too');
  lvsd(['ipvs', 'delete-server', '-t', '[2001:db8::10]:80', '-r', '198.18.1.60']);
  assert.equal(ipvsadm(['-S', '-n']), '-A -t [2001:db8::10]:80 -s wrr\n');
});

test('sync daemons started by lvsd are listed identically (--daemon)', () => {
  lvsd(['ipvs', 'daemon', 'start', 'master', '--mcast-interface', 'lab0', '--syncid', '7']);
  lvsd(['ipvs', 'daemon', 'start', 'backup', '--mcast-interface', 'lab0', '--syncid', '9', '--sync-maxlen', '1400', '--mcast-group', '239.1.2.3', '--mcast-port', '8849', '--mcast-ttl', '3']);
  const listed = ipvsadm(['-L', '--daemon']);
  assert.match(listed, /^master sync daemon \(mcast=lab0, syncid=7, maxlen=1472, group=224\.0\.0\.81, port=8848, ttl=1\)$/m);
  assert.match(listed, /^backup sync daemon \(mcast=lab0, syncid=9, maxlen=1400, group=239\.1\.2\.3, port=8849, ttl=3\)$/m);
  assert.equal(lvsd(['ipvs', 'list', '--daemon']), listed);
  assert.equal(lvsd(['ipvs', 'daemon', 'list']), listed);
  lvsd(['ipvs', 'daemon', 'stop', 'backup']);
  lvsd(['ipvs', 'daemon', 'stop', 'master']);
  assert.equal(ipvsadm(['-L', '--daemon']), '');
});
