// native/netlink_dumps.c hands back each dump's reply as bytes; dumpOutcome reads them as the
// socket reads a dump: the parts, then NLMSG_DONE (its errno, NLM_F_DUMP_INTR on a part) or
// NLMSG_ERROR; anything else in the bytes is refused, never read past.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpOutcome } from '../../../src/netlink/dumps';
import { MalformedMessageError, NetlinkError } from '../../../src/errors';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_DUMP_INTR, NLM_F_MULTI, Writer, parseMessages } from '../../../src/netlink/wire';

const FAMILY = 0x20;

function part(w: Writer, value: number, flags = NLM_F_MULTI): void {
  const at = w.beginMessage(FAMILY, flags);
  w.u32(value);
  w.endMessage(at);
}

function done(w: Writer, errno = 0): void {
  const at = w.beginMessage(NLMSG_DONE, NLM_F_MULTI);
  w.s32(-errno);
  w.endMessage(at);
}

function error(w: Writer, errno: number): void {
  const at = w.beginMessage(NLMSG_ERROR, 0);
  w.s32(-errno);
  const req = w.beginMessage(FAMILY, 0); // the echoed request header
  w.endMessage(req);
  w.endMessage(at);
}

function reply(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.finish();
}

test('the parts before NLMSG_DONE, as bytes that split into the messages sent', () => {
  const out = dumpOutcome(
    reply((w) => {
      for (const v of [1, 2, 3]) part(w, v);
      done(w);
    }),
  );
  assert.ok(out.ok);
  assert.deepEqual(parseMessages(out.parts).map((m) => m.payload.readUInt32LE(0)), [1, 2, 3]);
});

test('an empty dump is no parts', () => {
  const out = dumpOutcome(reply((w) => done(w)));
  assert.ok(out.ok);
  assert.equal(out.parts.length, 0);
});

test('an errno in NLMSG_DONE fails the dump with that errno', () => {
  const out = dumpOutcome(reply((w) => (part(w, 1), done(w, 12))));
  assert.ok(!out.ok);
  assert.ok(out.error instanceof NetlinkError);
  assert.equal(out.error.errno, 12);
  assert.match(out.error.message, /dump failed.*ENOMEM/);
});

test('a part marked NLM_F_DUMP_INTR fails the dump as interrupted (EINTR)', () => {
  const out = dumpOutcome(reply((w) => (part(w, 1), part(w, 2, NLM_F_MULTI | NLM_F_DUMP_INTR), done(w))));
  assert.ok(!out.ok);
  assert.equal(out.error.errno, 4);
  assert.match(out.error.message, /interrupted/);
});

test('NLMSG_ERROR instead of parts fails the dump with its errno (no such service: ESRCH)', () => {
  const out = dumpOutcome(reply((w) => error(w, 3)));
  assert.ok(!out.ok);
  assert.equal(out.error.errno, 3);
});

test('truncated bytes, a reply without its end, or bytes after it are refused', () => {
  const whole = reply((w) => (part(w, 1), done(w)));
  for (let cut = 1; cut < whole.length; cut++) assert.throws(() => dumpOutcome(whole.subarray(0, cut)), MalformedMessageError, `cut at ${cut}`);
  assert.throws(() => dumpOutcome(reply((w) => part(w, 1))), /without NLMSG_DONE/);
  assert.throws(() => dumpOutcome(reply((w) => (done(w), part(w, 1)))), /after the end/);
  assert.throws(() => dumpOutcome(reply((w) => (part(w, 1), w.endMessage(w.beginMessage(NLMSG_NOOP, 0)), done(w)))), /type 1 inside/);
});
