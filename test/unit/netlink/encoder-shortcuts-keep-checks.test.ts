// Generated encoders store plain values (integers, fixed-length bytes, ASCII strings, integer
// structs) directly; every other or wrong value still gets the generic checks and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrSet, decode, encodeToBuffer } from '../../../src/netlink/schema';

const set = attrSet('shortcut', [
  { name: 'name', kernel: 'T_NAME', type: 1, kind: 'string', maxLen: 7 },
  { name: 'pair', kernel: 'T_PAIR', type: 2, kind: 'struct', fields: [{ name: 'flags', kind: 'u32' }, { name: 'mask', kind: 'u16be' }] },
  { name: 'addr', kernel: 'T_ADDR', type: 3, kind: 'binary', len: 4 },
] as const);

test('ASCII and non-ASCII strings, structs and fixed bytes round-trip with the kernel layout', () => {
  const buf = encodeToBuffer(set, { name: 'wrr', pair: { flags: 0x01020304, mask: 0x0506 }, addr: Buffer.from([198, 18, 0, 1]) });
  assert.equal(buf.toString('hex'), '0800010077727200' + '0a000200040302010506' + '0000' + '08000300c6120001');
  for (const name of ['', 'a', 'seven77', 'é', 'ß€', 'x\u00ff']) {
    assert.deepEqual(decode(set, encodeToBuffer(set, { name })).name, name);
  }
});

test('wrong values are refused with the generic messages', () => {
  assert.throws(() => encodeToBuffer(set, { name: 'a\0b' }), /T_NAME: string contains NUL/);
  assert.throws(() => encodeToBuffer(set, { name: 'eight888' }), /T_NAME: "eight888" is longer than 7 bytes/);
  assert.throws(() => encodeToBuffer(set, { name: 'éééé' }), /T_NAME: "éééé" is longer than 7 bytes/);
  assert.throws(() => encodeToBuffer(set, { pair: { flags: 1, mask: 70000 } }), /shortcut > T_PAIR\.mask: 70000 is not a u16be/);
  assert.throws(() => encodeToBuffer(set, { pair: { flags: -1, mask: 1 } }), /shortcut > T_PAIR\.flags: -1 is not a u32/);
  assert.throws(() => encodeToBuffer(set, { addr: Buffer.alloc(16) }), /T_ADDR: needs 4 bytes/);
  assert.throws(() => encodeToBuffer(set, { name: 5 as unknown as string }), /T_NAME: not a string/);
});
