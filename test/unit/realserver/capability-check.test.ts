// CAP_NET_ADMIN is bit 12 of CapEff in /proc/self/status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasNetAdmin } from '../../../realserver/privileges';

const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

test('CapEff with bit 12 set means CAP_NET_ADMIN; without it, or unreadable, it does not', () => {
  assert.equal(hasNetAdmin(status('000001ffffffffff')), true); // root
  assert.equal(hasNetAdmin(status('0000000000001000')), true); // only CAP_NET_ADMIN
  assert.equal(hasNetAdmin(status('0000000000000000')), false); // nobody
  assert.equal(hasNetAdmin(status('0000000000002000')), false); // CAP_NET_RAW only (bit 13)
  assert.equal(hasNetAdmin(status('0000000000000fff')), false); // bits 0-11
  assert.equal(hasNetAdmin('Name:\tnode\n'), false);
});
