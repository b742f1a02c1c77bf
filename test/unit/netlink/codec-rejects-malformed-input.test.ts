// The framing and attribute decoders reject truncated or inconsistent bytes with
// MalformedMessageError, and never crash, hang or read past their container, whatever the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MalformedMessageError } from '../../../src/errors';
import { attrSet, decode, encodeToBuffer } from '../../../src/netlink/schema';
import { Writer, parseAttrs, parseMessages, parseErrorPayload, NLMSG_ERROR } from '../../../src/netlink/wire';

const inner = attrSet('inner', [
  { name: 'a', kernel: 'T_INNER_A', type: 1, kind: 'u32' },
  { name: 's', kernel: 'T_INNER_S', type: 2, kind: 'string' },
] as const);
const outer = attrSet('outer', [
  { name: 'n', kernel: 'T_N', type: 1, kind: 'nested', nested: inner },
  { name: 'x', kernel: 'T_X', type: 2, kind: 'u64' },
  { name: 'p', kernel: 'T_P', type: 3, kind: 'u16be' },
  { name: 'b', kernel: 'T_B', type: 4, kind: 'binary', len: 16 },
  { name: 'list', kernel: 'T_LIST', type: 5, kind: 'array', nested: inner },
] as const);

function message(body: (w: Writer) => void): Buffer {
  const w = new Writer();
  const at = w.beginMessage(0x20, 0);
  body(w);
  w.endMessage(at);
  return w.finish();
}

test('a message whose length runs past the buffer is rejected', () => {
  const m = message((w) => w.u32(7));
  assert.throws(() => parseMessages(m.subarray(0, m.length - 1)), MalformedMessageError);
  assert.throws(() => parseMessages(m.subarray(0, 10)), /header needs 16/);
  const bad = Buffer.from(m);
  bad.writeUInt32LE(8, 0); // shorter than a header
  assert.throws(() => parseMessages(bad), /length 8 does not fit/);
});

test('several messages in one buffer are split at their aligned lengths', () => {
  const a = message((w) => w.u8(1)); // 17 bytes, padded to 20
  const b = message((w) => w.u32(2));
  const msgs = parseMessages(Buffer.concat([a, b]));
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0].header.length, 20);
  assert.equal(msgs[1].payload.readUInt32LE(0), 2);
});

test('an attribute longer than its container is rejected, naming the attribute set', () => {
  const buf = encodeToBuffer(outer, { n: { a: 1, s: 'abc' } });
  const cut = buf.subarray(0, buf.length - 4);
  assert.throws(() => decode(outer, cut), (e: unknown) => e instanceof MalformedMessageError && /outer/.test((e as Error).message));
  const nestedBroken = Buffer.from(buf);
  nestedBroken.writeUInt16LE(200, 4); // first inner attribute claims 200 bytes
  assert.throws(() => decode(outer, nestedBroken), /outer > T_N: attribute type 1 at offset 0 has length 200/);
});

test('an attribute shorter than its kind is rejected', () => {
  const w = new Writer();
  w.attr(2, () => w.u32(1)); // T_X is a u64: 4 bytes are not enough
  assert.throws(() => decode(outer, w.finish()), /T_X: 4 bytes, u64 needs 8/);
  const w2 = new Writer();
  w2.attr(4, () => w2.bytes(new Uint8Array(4)));
  assert.throws(() => decode(outer, w2.finish()), /T_B: 4 bytes, needs 16/);
});

test('an attribute length below the header size is rejected, not looped on', () => {
  const b = Buffer.from([0, 0, 1, 0, 8, 0, 1, 0]);
  assert.throws(() => parseAttrs(b), /has length 0/);
  assert.throws(() => decode(outer, b), MalformedMessageError);
});

test('a short NLMSG_ERROR payload is rejected', () => {
  const m = parseMessages(message((w) => w.u32(0)))[0];
  assert.throws(() => parseErrorPayload({ header: { ...m.header, type: NLMSG_ERROR }, payload: m.payload }), /NLMSG_ERROR payload of 4 bytes/);
});

test('random bytes: decoding either succeeds or throws MalformedMessageError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const buf = Buffer.from(bytes);
      for (const f of [() => decode(outer, buf), () => parseMessages(buf), () => parseAttrs(buf)]) {
        try {
          f();
        } catch (e) {
          if (!(e instanceof MalformedMessageError)) throw e;
        }
      }
    }),
    { numRuns: 3000 },
  );
});

test('valid messages with random corruption: decoding either succeeds or throws MalformedMessageError', () => {
  const good = encodeToBuffer(outer, {
    n: { a: 5, s: 'hello' },
    x: 1n << 40n,
    p: 8080,
    b: Buffer.alloc(16, 7),
    list: [{ a: 1 }, { s: 'x' }],
  });
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(good.length), (pos, value, cut) => {
      const buf = Buffer.from(good);
      buf[pos] = value;
      try {
        decode(outer, buf.subarray(0, cut));
      } catch (e) {
        if (!(e instanceof MalformedMessageError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
