// Every `ipvsadm -L -n` listing mode and `ipvsadm -S -n`, for a hand-built table covering
// schedulers with flags, persistence masks, pe, ops, fwmark v4/v6, IPv6, SCTP, every forwarding
// method and tunnel type, and counters at each K/M/G/T boundary. Expected text comes from
// test/fixtures/ipvs/oracle.py (ipvsadm's printf formats applied by Python).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOneService, formatTable, listModeOf, type ListMode } from '../../../src/ipvs/format/table';
import { formatSave } from '../../../src/ipvs/format/save';
import { numericNamer } from '../../../src/ipvs/format/names';
import { loadExpectedListings, loadFixtureTable } from '../../support/ipvs-table';

const { info, entries } = loadFixtureTable();
const expected = loadExpectedListings();

const MODES: ListMode[] = ['default', 'stats', 'rate', 'thresholds', 'persistent-conn', 'tun-info'];

for (const mode of MODES) {
  test(`-L -n ${mode === 'default' ? '' : '--' + mode} matches ipvsadm`, () => {
    assert.equal(formatTable(info, entries, { mode, exact: false, sort: true, namer: numericNamer }), expected[mode]);
  });
}

for (const mode of ['stats', 'rate'] as const) {
  test(`-L -n --${mode} --exact matches ipvsadm`, () => {
    assert.equal(formatTable(info, entries, { mode, exact: true, sort: true, namer: numericNamer }), expected[`${mode} exact`]);
  });
}

test('-S -n matches ipvsadm', () => {
  assert.equal(formatSave(entries, numericNamer), expected.save);
});

test('--nosort keeps the kernel order of services and real servers', () => {
  const text = formatTable(info, entries, { mode: 'default', exact: false, sort: false, namer: numericNamer });
  const services = text.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM)/.test(l)).map((l) => l.split(' ').filter(Boolean).slice(0, 2).join(' '));
  assert.deepEqual(services, ['TCP 198.18.0.10:80', 'UDP 198.18.0.11:53', 'FWM 1', 'FWM 7', 'TCP [2001:db8::1]:443', 'SCTP 198.18.0.12:9999', 'TCP 198.18.0.9:8080', 'FWM -1']);
  assert.ok(text.indexOf('198.18.1.2:80') < text.indexOf('198.18.1.1:80'), 'real servers unsorted too');
});

test('one service (-t) prints the title and that service only, without the version header', () => {
  const one = entries[0];
  const text = formatOneService(one, { mode: 'default', exact: false, sort: true, namer: numericNamer });
  const full = expected.default;
  const start = full.indexOf('TCP  198.18.0.10:80 wlc\n');
  const end = full.indexOf('UDP  198.18.0.11:53');
  const title = full.split('\n').slice(1, 3).join('\n') + '\n';
  assert.equal(text, title + full.slice(start, end));
});

test('when several column flags are given, the first of ipvsadm\'s order wins', () => {
  assert.equal(listModeOf({ rate: true, stats: true }), 'stats');
  assert.equal(listModeOf({ thresholds: true, rate: true }), 'rate');
  assert.equal(listModeOf({ tunInfo: true, persistentConn: true }), 'persistent-conn');
  assert.equal(listModeOf({ tunInfo: true, thresholds: true }), 'thresholds');
  assert.equal(listModeOf({}), 'default');
});
