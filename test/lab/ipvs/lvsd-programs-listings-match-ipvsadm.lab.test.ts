// A table with every scheduler, flag, forwarding method, tunnel type, family, protocol and fwmark,
// programmed through lvsd's CLI; ipvsadm lists it in every mode and lvsd's listing must be the
// same bytes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_TABLE, LIST_MODES, inParallel, ipvsadm, lvsdAsync, programWithLvsd, setUpNamespace } from '../../support/ipvs-lab';

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
