// A big table is read as a stream: a listing asks for each service's real servers once, when it
// prints them (so none are kept), and a director's read lets the event loop run between turns of
// decoding (so its checks are not held for the whole table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entriesOf } from '../../../src/ipvs/client';
import { writeTable } from '../../../src/ipvs/format/table';
import { numericNamer } from '../../../src/ipvs/format/names';
import type { ObservedRealServer, ObservedService, TableView } from '../../../src/ipvs/types';
import { zeroStats } from '../../support/ipvs-table';

function service(i: number): ObservedService {
  return { key: { family: 'inet', protocol: 'tcp', address: `198.18.${i >> 8}.${i & 255}`, port: 80 }, scheduler: 'wrr', flags: 0, timeout: 0, netmask: '255.255.255.255', stats: zeroStats() };
}
function realServer(i: number, k: number): ObservedRealServer {
  const key = { family: 'inet' as const, address: `198.19.${i & 255}.${10 + k}`, port: 80 };
  return { key, forward: 'masq', weight: k + 1, upperThreshold: 0, lowerThreshold: 0, activeConns: k, inactiveConns: 0, persistentConns: 0, stats: zeroStats() };
}

/** A view of n services with 2 real servers each that records every request; `cost` ms of busy work per request. */
function countingView(n: number, cost = 0): { view: TableView; asked: number[] } {
  const asked: number[] = [];
  // services listed in reverse order: a sorted listing asks for them from the last to the first
  const services = Array.from({ length: n }, (_, i) => service(n - 1 - i));
  const view: TableView = {
    services,
    realServers(i) {
      asked.push(i);
      const until = performance.now() + cost;
      while (performance.now() < until);
      const s = n - 1 - i;
      return [realServer(s, 1), realServer(s, 0)];
    },
  };
  return { view, asked };
}

test('a sorted listing asks for each service real servers once, in the order it prints them', () => {
  const { view, asked } = countingView(300);
  const text = writeTable({ version: 0x010201, connectionTableSize: 4096 }, view, { mode: 'default', exact: false, sort: true, namer: numericNamer }).toString();
  assert.deepEqual(asked, Array.from({ length: 300 }, (_, i) => 299 - i));
  const lines = text.split('\n');
  assert.equal(lines[3], 'TCP  198.18.0.0:80 wrr');
  assert.equal(lines[4], '  -> 198.19.0.10:80               Masq    1      0          0         ');
  assert.equal(lines[5], '  -> 198.19.0.11:80               Masq    2      1          0         ');
  assert.equal(lines.length, 3 + 300 * 3 + 1);
});

test('reading a large table lets the event loop run between turns of decoding', async () => {
  // 80 services at 1 ms each: 80 ms of decoding, more than a dozen 5 ms turns
  const { view, asked } = countingView(80, 1);
  let turns = 0;
  let reading = true;
  const probe = () => {
    turns++;
    if (reading) setImmediate(probe);
  };
  setImmediate(probe);
  const entries = await entriesOf(view);
  reading = false;
  assert.ok(turns >= 3, `the event loop ran ${turns} times during the read`);
  assert.equal(asked.length, 80, 'each service read once');
  // identity apart from what the kernel observes
  const first = entries[0];
  assert.deepEqual(first.service, { key: service(79).key, scheduler: 'wrr', flags: 0, timeout: 0, netmask: '255.255.255.255' });
  assert.deepEqual(first.observed, { stats: zeroStats() });
  assert.deepEqual(first.realServers[0], {
    server: { key: realServer(79, 1).key, forward: 'masq', weight: 2, upperThreshold: 0, lowerThreshold: 0 },
    observed: { activeConns: 1, inactiveConns: 0, persistentConns: 0, stats: zeroStats() },
  });
});
