// A decode-only view of an attribute set passes over the attributes it is told to skip (not
// decoded, not kept as unknown), decodes everything else as the full set does, and can swap a
// nested set for a view of its own: how a listing decodes a service dump without its counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrSet, decode, decodeView, encodeToBuffer } from '../../../src/netlink/schema';

const counters = attrSet('counters', [
  { name: 'packets', kernel: 'T_C_PACKETS', type: 1, kind: 'u64' },
  { name: 'bytes', kernel: 'T_C_BYTES', type: 2, kind: 'u64' },
] as const);

const item = attrSet('item', [
  { name: 'id', kernel: 'T_ID', type: 1, kind: 'u32' },
  { name: 'name', kernel: 'T_NAME', type: 2, kind: 'string' },
  { name: 'addr', kernel: 'T_ADDR', type: 3, kind: 'binary', len: 4 },
  { name: 'counters', kernel: 'T_COUNTERS', type: 4, kind: 'nested', nested: counters },
] as const);

const top = attrSet('top', [
  { name: 'item', kernel: 'T_ITEM', type: 1, kind: 'nested', nested: item },
  { name: 'total', kernel: 'T_TOTAL', type: 2, kind: 'u32' },
] as const);

const value = {
  item: { id: 7, name: 'wrr', addr: Buffer.from([198, 18, 0, 1]), counters: { packets: 5n, bytes: 900n } },
  total: 3,
};
const bytes = encodeToBuffer(top, value);

test('the full set decodes everything', () => {
  assert.deepEqual(decode(top, bytes), value);
});

test('a view skips the named attributes: not decoded, not kept as unknown', () => {
  const itemView = decodeView(item, { skip: ['counters'] });
  assert.deepEqual(decode(itemView, encodeToBuffer(item, value.item)), { id: 7, name: 'wrr', addr: Buffer.from([198, 18, 0, 1]) });
});

test('a view swaps a nested set for a view of it; the rest decodes as before', () => {
  const view = decodeView(top, { nested: { item: decodeView(item, { skip: ['counters', 'name'] }) } });
  assert.deepEqual(decode(view, bytes), { item: { id: 7, addr: Buffer.from([198, 18, 0, 1]) }, total: 3 });
  // the original description is untouched
  assert.deepEqual(decode(top, bytes), value);
});

test('naming an attribute the set does not have is an error, not a silent no-op', () => {
  assert.throws(() => decodeView(item, { skip: ['stats'] }), /item: no attribute named stats/);
  assert.throws(() => decodeView(top, { nested: { nope: item } }), /top: no attribute named nope/);
});
