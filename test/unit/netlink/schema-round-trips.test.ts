// Encode and decode derived from one description agree with each other, with the kernel's byte
// layout (alignment, host vs network order, NLA_F_NESTED), and keep attributes they do not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { attrSet, decode, encode, encodeToBuffer } from '../../../src/netlink/schema';
import { NLA_F_NET_BYTEORDER, Writer } from '../../../src/netlink/wire';

const leaf = attrSet('leaf', [
  { name: 'id', kernel: 'T_LEAF_ID', type: 1, kind: 'u32' },
  { name: 'name', kernel: 'T_LEAF_NAME', type: 2, kind: 'string', maxLen: 15 },
] as const);

const all = attrSet('all', [
  { name: 'u8', kernel: 'T_U8', type: 1, kind: 'u8' },
  { name: 'u16', kernel: 'T_U16', type: 2, kind: 'u16' },
  { name: 'u32', kernel: 'T_U32', type: 3, kind: 'u32' },
  { name: 's32', kernel: 'T_S32', type: 4, kind: 's32' },
  { name: 'u64', kernel: 'T_U64', type: 5, kind: 'u64' },
  { name: 'port', kernel: 'T_PORT', type: 6, kind: 'u16be' },
  { name: 'mask', kernel: 'T_MASK', type: 7, kind: 'u32be' },
  { name: 'text', kernel: 'T_TEXT', type: 8, kind: 'string' },
  { name: 'blob', kernel: 'T_BLOB', type: 9, kind: 'binary' },
  { name: 'v4', kernel: 'T_V4', type: 10, kind: 'in_addr' },
  { name: 'v6', kernel: 'T_V6', type: 11, kind: 'in6_addr' },
  { name: 'on', kernel: 'T_ON', type: 12, kind: 'flag' },
  { name: 'leaf', kernel: 'T_LEAF', type: 13, kind: 'nested', nested: leaf },
  { name: 'leaves', kernel: 'T_LEAVES', type: 14, kind: 'array', nested: leaf },
  { name: 'pair', kernel: 'T_PAIR', type: 15, kind: 'struct', fields: [{ name: 'flags', kind: 'u32' }, { name: 'mask', kind: 'u32' }] },
  { name: 'pad', kernel: 'T_PAD', type: 16, kind: 'pad' },
] as const);

test('the byte layout: TLV header, 4-byte padding, network-order kinds, NLA_F_NESTED', () => {
  const buf = encodeToBuffer(all, { u8: 0xab, port: 80, leaf: { id: 1 } });
  assert.equal(
    buf.toString('hex'),
    // len 5, type 1, 0xab + 3 pad | len 6, type 6, 0x0050 + 2 pad | len 12, type 13|NESTED, (len 8 type 1 id=1)
    '05000100ab000000' + '060006000050' + '0000' + '0c000d80' + '0800010001000000',
  );
});

test('every kind survives encode then decode', () => {
  const value = {
    u8: 255,
    u16: 65535,
    u32: 0xfffffffe,
    s32: -5,
    u64: 0xfedcba9876543210n,
    port: 3306,
    mask: 0xffffff00,
    text: 'wlc',
    blob: Buffer.from([1, 2, 3]),
    v4: Buffer.from([198, 18, 0, 1]),
    v6: Buffer.alloc(16, 0x20),
    on: true as const,
    leaf: { id: 7, name: 'x' },
    leaves: [{ id: 1 }, { id: 2, name: 'two' }],
    pair: { flags: 5, mask: 0xffffffff },
  };
  assert.deepEqual(decode(all, encodeToBuffer(all, value)), value);
});

test('NLA_F_NET_BYTEORDER on a received integer means network order', () => {
  const w = new Writer();
  w.attr(3 | NLA_F_NET_BYTEORDER, () => w.u32be(0x01020304));
  assert.equal(decode(all, w.finish()).u32, 0x01020304);
});

test('a nested attribute without NLA_F_NESTED (as IPVS dumps send them) decodes the same', () => {
  const w = new Writer();
  w.attr(13, () => w.attr(1, () => w.u32(9)));
  assert.deepEqual(decode(all, w.finish()).leaf, { id: 9 });
});

test('unknown attributes, nested ones included, survive decode then encode', () => {
  const w = new Writer();
  w.attr(3, () => w.u32(1));
  w.attr(99, () => w.bytes(Buffer.from('future')));
  const nest = w.beginNest(13);
  w.attr(1, () => w.u32(2));
  w.attr(42 | NLA_F_NET_BYTEORDER, () => w.u16be(7));
  w.endNest(nest);
  const original = w.finish();
  const once = decode(all, original);
  assert.deepEqual(once.unknown, [{ type: 99, flags: 0, value: Buffer.from('future') }]);
  assert.deepEqual(once.leaf?.unknown, [{ type: 42, flags: NLA_F_NET_BYTEORDER, value: Buffer.from([0, 7]) }]);
  const again = new Writer();
  encode(again, all, once);
  // known attributes are written in description order, unknown ones after them
  assert.deepEqual(decode(all, again.finish()), once);
});

test('padding attributes are dropped on decode and never encoded', () => {
  const w = new Writer();
  w.attr(16, () => undefined);
  w.attr(5, () => w.u64(1n));
  assert.deepEqual(decode(all, w.finish()), { u64: 1n });
});

test('values that do not fit their kind are refused with the attribute named', () => {
  assert.throws(() => encodeToBuffer(all, { u8: 256 }), /T_U8: 256 is not a u8/);
  assert.throws(() => encodeToBuffer(all, { u32: -1 }), /T_U32/);
  assert.throws(() => encodeToBuffer(all, { leaf: { name: 'sixteen-chars-xx' } }), /all > T_LEAF > T_LEAF_NAME: "sixteen-chars-xx" is longer than 15 bytes/);
  assert.throws(() => encodeToBuffer(all, { v4: Buffer.alloc(5) }), /T_V4: needs 4 bytes/);
});

test('property: random values of every kind round-trip', () => {
  const leafArb = fc.record({ id: fc.nat({ max: 0xffffffff }), name: fc.string({ maxLength: 15 }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= 15) }, { requiredKeys: [], noNullPrototype: true });
  const arb = fc.record(
    {
      u8: fc.integer({ min: 0, max: 255 }),
      u16: fc.integer({ min: 0, max: 65535 }),
      u32: fc.nat({ max: 0xffffffff }),
      s32: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      port: fc.integer({ min: 0, max: 65535 }),
      text: fc.string().filter((s) => !s.includes('\0')),
      blob: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      leaf: leafArb,
      leaves: fc.array(leafArb, { maxLength: 4 }),
    },
    { requiredKeys: [], noNullPrototype: true },
  );
  fc.assert(fc.property(arb, (v) => assert.deepEqual(decode(all, encodeToBuffer(all, v)), v)), { numRuns: 500 });
});

test('a writer that must grow in the middle of any value keeps every byte', () => {
  const value = { u8: 1, port: 2, mask: 3, blob: Buffer.alloc(100, 9), v6: Buffer.alloc(16, 1), leaf: { id: 4, name: 'grow' } };
  const want = encodeToBuffer(all, value);
  for (let initial = 1; initial < 40; initial++) {
    const w = new Writer(initial);
    encode(w, all, value);
    assert.deepEqual(w.finish(), want, `initial size ${initial}`);
  }
});
