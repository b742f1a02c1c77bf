// Running `up` twice changes nothing the second time; `down` twice likewise (reliability.md §6 item 27).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { netns } from '../../support/netns';

test('up twice: the second run reports nothing to do and changes nothing; down twice likewise', (t) => {
  const ns = netns(t);
  const state = join(ns.dir, 'state.json');
  const args = ['--vip', '198.18.0.10', '--vip', '198.18.0.11', '--vip', '2001:db8::10', '--state', state];

  const first = ns.lvsd(['up', ...args]);
  assert.equal(first.status, 0, first.stderr);
  const addrsAfterFirst = ns.allAddrs();
  const sysctlsAfterFirst = ns.arpSysctls();
  const stateAfterFirst = readFileSync(state, 'utf8');
  assert.deepEqual(addrsAfterFirst, ['lo 127.0.0.1/8', 'lo 198.18.0.10/32 lo:0', 'lo 198.18.0.11/32 lo:1', 'lo 2001:db8::10/128', 'lo ::1/128']);

  const second = ns.lvsd(['up', ...args]);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /nothing to do/);
  assert.doesNotMatch(second.stdout, /added|set net/);
  assert.deepEqual(ns.allAddrs(), addrsAfterFirst);
  assert.deepEqual(ns.arpSysctls(), sysctlsAfterFirst);
  assert.equal(readFileSync(state, 'utf8'), stateAfterFirst, 'the prior values recorded by the first up are kept');

  const status = ns.lvsd(['status', '--state', state]);
  assert.equal(status.status, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /in place: no drift/);

  assert.equal(ns.lvsd(['down', '--state', state]).status, 0);
  const again = ns.lvsd(['down', '--state', state]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /nothing to do/);
  assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
  assert.deepEqual(Object.values(ns.arpSysctls()), ['0', '0', '0', '0']);
});
