// A table with every scheduler, flag, forwarding method, tunnel type, family, protocol and fwmark,
// programmed through lvsd's CLI; ipvsadm lists it in every mode and lvsd's listing must be the
// same bytes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_TABLE, LIST_MODES, inParallel, ipvsadm, lvsd, lvsdAsync, lvsdRun, programWithLvsd, run, setUpNamespace } from '../../support/ipvs-lab';

/** lvsd's listings, gathered a few at a time up front (each lvsd start is slow under emulation). */
const listings = new Map<string, string>();
const LISTINGS = [...LIST_MODES.map((m) => ['ipvs', 'list', '-n', ...m]), ['ipvs', 'list'], ['ipvs', 'save', '-n'], ['ipvs', 'list', '--json']];

before(async () => {
  setUpNamespace();
  await programWithLvsd();
  await inParallel(LISTINGS, async (args) => listings.set(args.join(' '), await lvsdAsync(args)));
});

test('lvsd programmed every service and real server', () => {
  const save = ipvsadm(['-S', '-n']);
  assert.equal(save.split('\n').filter((l) => l.startsWith('-A ')).length, FULL_TABLE.filter((a) => a[0] === '-A').length);
  assert.equal(save.split('\n').filter((l) => l.startsWith('-a ')).length, FULL_TABLE.filter((a) => a[0] === '-a').length);
});

for (const mode of LIST_MODES) {
  test(`lvsd ipvs list -n ${mode.join(' ')} is byte-identical to ipvsadm -L -n ${mode.join(' ')}`, () => {
    assert.equal(listings.get(['ipvs', 'list', '-n', ...mode].join(' ')), ipvsadm(['-L', '-n', ...mode]));
  });
}

test('lvsd ipvs list without -n resolves names like ipvsadm -L', () => {
  assert.equal(listings.get('ipvs list'), ipvsadm(['-L']));
});

test('lvsd ipvs save -n is byte-identical to ipvsadm -S -n', () => {
  assert.equal(listings.get('ipvs save -n'), ipvsadm(['-S', '-n']));
});

test('--json lists every service with its real servers', () => {
  const json = JSON.parse(listings.get('ipvs list --json')!);
  assert.equal(json.services.length, FULL_TABLE.filter((a) => a[0] === '-A').length);
  assert.equal(json.services.reduce((n: number, s: { realServers: unknown[] }) => n + s.realServers.length, 0), FULL_TABLE.filter((a) => a[0] === '-a').length);
  const mh = json.services.find((s: { address: string }) => s.address === '198.18.0.41');
  assert.deepEqual([mh.scheduler, mh.schedulerFlags, mh.persistenceTimeout, mh.persistenceNetmask], ['mh', ['mh-fallback', 'mh-port'], 600, '255.255.255.0']);
  assert.deepEqual(mh.realServers.find((r: { address: string }) => r.address === '198.18.1.42').tunnel, { type: 'gue', port: 6081, checksum: 'remcsum' });
});

test('timeouts: set through lvsd (0 keeps a value), listed identically', () => {
  assert.equal(lvsd(['ipvs', 'list', '-n', '--timeout']), ipvsadm(['-L', '-n', '--timeout']));
  lvsd(['ipvs', 'timeout', 'set', '1000', '0', '200']);
  const listed = ipvsadm(['-L', '--timeout']);
  assert.equal(listed, 'Timeout (tcp tcpfin udp): 1000 120 200\n');
  assert.equal(lvsd(['ipvs', 'timeout', 'get']), listed);
  assert.deepEqual(JSON.parse(lvsd(['ipvs', 'timeout', 'get', '--json'])), { tcp: 1000, tcpFin: 120, udp: 200 });
});

test('sync daemons: refused while a real server has another family than its service, as with ipvsadm', () => {
  const r = lvsdRun(['ipvs', 'daemon', 'start', 'master', '--mcast-interface', 'lab0']);
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.split('\n').length, 2, 'one line');
  assert.notEqual(run('ipvsadm', ['--start-daemon', 'master', '--mcast-interface', 'lab0']).status, 0, 'ipvsadm is refused too');
  lvsd(['ipvs', 'delete-server', '-t', '[2001:db8::10]:80', '-r', '198.18.1.60']);
  assert.doesNotMatch(ipvsadm(['-S', '-n']), /198\.18\.1\.60/);
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
