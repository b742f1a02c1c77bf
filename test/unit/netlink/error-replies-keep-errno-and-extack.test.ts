// NLMSG_ERROR and NLMSG_DONE: the errno, the echoed request header, and the kernel's extended-ACK
// text (NLMSGERR_ATTR_MSG) and offset, whether the request is echoed whole or capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  Writer,
  parseDonePayload,
  parseErrorPayload,
  parseMessages,
} from '../../../src/netlink/wire';

function request(): Buffer {
  const w = new Writer();
  const at = w.beginMessage(0x20, 0x5);
  w.u32(0x01020304);
  w.u32(0x05060708);
  w.endMessage(at);
  const b = w.finish();
  b.writeUInt32LE(77, 8); // seq
  return b;
}

function errorReply(errno: number, flags: number, tlvs: boolean): Buffer {
  const req = request();
  const w = new Writer();
  const at = w.beginMessage(NLMSG_ERROR, flags);
  w.s32(-errno);
  w.bytes(flags & NLM_F_CAPPED ? req.subarray(0, 16) : req);
  if (tlvs) {
    w.attr(NLMSGERR_ATTR_MSG, () => {
      w.bytes(Buffer.from('Unknown scheduler'));
      w.u8(0);
    });
    w.attr(NLMSGERR_ATTR_OFFS, () => w.u32(20));
  }
  w.endMessage(at);
  return w.finish();
}

for (const capped of [false, true]) {
  test(`an error with extended ACK (${capped ? 'capped' : 'whole request echoed'})`, () => {
    const [m] = parseMessages(errorReply(17, NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0), true));
    const e = parseErrorPayload(m);
    assert.deepEqual(
      { errno: e.errno, seq: e.request.seq, type: e.request.type, extack: e.extack, offset: e.extackOffset },
      { errno: 17, seq: 77, type: 0x20, extack: 'Unknown scheduler', offset: 20 },
    );
  });
}

test('a plain ACK is errno 0 without extack; a kernel without NETLINK_EXT_ACK sends no TLVs', () => {
  const ack = parseErrorPayload(parseMessages(errorReply(0, NLM_F_CAPPED, false))[0]);
  assert.deepEqual([ack.errno, ack.extack], [0, undefined]);
  const plain = parseErrorPayload(parseMessages(errorReply(2, 0, false))[0]);
  assert.deepEqual([plain.errno, plain.extack, plain.request.seq], [2, undefined, 77]);
});

test('NLMSG_DONE carries the dump error and its extended ACK', () => {
  const w = new Writer();
  const at = w.beginMessage(NLMSG_DONE, NLM_F_ACK_TLVS);
  w.s32(-22);
  w.attr(NLMSGERR_ATTR_MSG, () => {
    w.bytes(Buffer.from('bad filter'));
    w.u8(0);
  });
  w.endMessage(at);
  assert.deepEqual(parseDonePayload(parseMessages(w.finish())[0]), { errno: 22, extack: 'bad filter' });
});
