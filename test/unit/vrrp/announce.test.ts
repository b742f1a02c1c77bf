// The gratuitous ARP and unsolicited NA frames, byte for byte against frames written out by hand
// (the NA's checksum computed separately, with Python's struct over the RFC 4443 pseudo-header).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gratuitousArpFrame, unsolicitedNaFrame } from '../../../src/vrrp/announce';

const MAC = Buffer.from('525400123456', 'hex');
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('a gratuitous ARP for 198.18.0.10 is a broadcast ARP request with sender and target IP the address', () => {
  const expected = hex(`
    ffffffffffff 525400123456 0806
    0001 0800 06 04 0001
    525400123456 c612000a
    ffffffffffff c612000a`);
  assert.deepEqual(gratuitousArpFrame(MAC, '198.18.0.10'), expected);
});

test('an unsolicited NA for 2001:db8::10 goes to ff02::1 with hop limit 255, the override flag and the target MAC option', () => {
  const expected = hex(`
    333300000001 525400123456 86dd
    60000000 0020 3a ff
    20010db8000000000000000000000010
    ff020000000000000000000000000001
    88 00 7451 20000000
    20010db8000000000000000000000010
    02 01 525400123456`);
  assert.deepEqual(unsolicitedNaFrame(MAC, '2001:db8::10'), expected);
});

test('the router flag sets R beside O and the checksum still sums to zero', () => {
  const frame = unsolicitedNaFrame(MAC, '2001:db8::10', true);
  assert.equal(frame[14 + 40 + 4], 0xa0);
  // ones' complement sum over pseudo-header + ICMPv6 message is 0xffff when the checksum is right
  const icmp = frame.subarray(54);
  const pseudo = Buffer.concat([frame.subarray(22, 54), hex('00000020 000000 3a'), icmp]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += pseudo.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  assert.equal(sum, 0xffff);
});

test('frames refuse a MAC that is not 6 bytes and an address of the wrong family', () => {
  assert.throws(() => gratuitousArpFrame(Buffer.alloc(5), '198.18.0.10'), /6 bytes, not 5/);
  assert.throws(() => gratuitousArpFrame(MAC, '2001:db8::10'), /IPv4 address, not 2001:db8::10/);
  assert.throws(() => unsolicitedNaFrame(MAC, '198.18.0.10'), /IPv6 address, not 198.18.0.10/);
});
