// `ipvsadm -S -n | lvsd ipvs restore` on an empty table gives back the same `ipvsadm -S -n`;
// a bad line applies nothing; a line the kernel refuses is named.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { asRestoreInput, ipvsadm, lvsd, lvsdRun, setUpNamespace } from '../../support/ipvs-lab';

let saved = '';

before(() => {
  setUpNamespace();
  ipvsadm(['-R'], asRestoreInput());
  saved = ipvsadm(['-S', '-n']);
  ipvsadm(['-C']);
});

test('ipvsadm -S -n | lvsd ipvs restore on an empty table reproduces ipvsadm -S -n', () => {
  assert.equal(ipvsadm(['-S', '-n']), '');
  assert.ok(saved.split('\n').length > 30);
  lvsd(['ipvs', 'restore'], saved);
  assert.equal(ipvsadm(['-S', '-n']), saved);
  // and in small batches: same result
  ipvsadm(['-C']);
  lvsd(['ipvs', 'restore', '--batch-size', '5'], saved);
  assert.equal(ipvsadm(['-S', '-n']), saved);
});

test('a restore input with a bad line names it, exits non-zero and applies nothing', () => {
  ipvsadm(['-C']);
  const lines = saved.split('\n');
  const bad = [...lines.slice(0, 3), '-a -t 198.18.0.10:80 -r 198.18.1.99 -w 70000', ...lines.slice(3)].join('\n');
  const r = lvsdRun(['ipvs', 'restore'], bad);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'lvsd: line 4: -w: 70000 is out of range 0..65535\n');
  assert.equal(ipvsadm(['-S', '-n']), '');
});

test('a line the kernel refuses is named, and what the run applied is undone: the table is as before', () => {
  const input = '-A -t 198.18.0.20:80 -s rr\n-a -t 198.18.0.20:80 -r 198.18.1.20 -m\n-A -t 198.18.0.20:80 -s wlc\n-A -t 198.18.0.21:80\n';
  ipvsadm(['-C']);
  const r = lvsdRun(['ipvs', 'restore'], input);
  assert.equal(r.status, 1);
  // the kernel got the whole batch in one send: line 4 was carried out too, and undone
  assert.equal(r.stderr, 'lvsd: line 3: service 198.18.0.20:80 already exists (nothing applied: 3 of 4 commands had been applied and were undone, the table is as before)\n');
  assert.equal(ipvsadm(['-S', '-n']), '');
  // one command per batch stops exactly at the refused line
  const one = lvsdRun(['ipvs', 'restore', '--batch-size', '1'], input);
  assert.equal(one.stderr, 'lvsd: line 3: service 198.18.0.20:80 already exists (nothing applied: 2 of 4 commands had been applied and were undone, the table is as before)\n');
  assert.equal(ipvsadm(['-S', '-n']), '');
});
