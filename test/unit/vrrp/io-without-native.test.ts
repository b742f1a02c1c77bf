// VRRP has no JavaScript path: without dist/native/vrrp_io.node its entry points say what to do,
// and LVSD_NATIVE=0 (which turns the optional speed modules off) does not turn VRRP off.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNative } from '../../../src/native';

const DIST = join(__dirname, '..', '..', '..');
const MESSAGE = 'VRRP needs the native module dist/native/vrrp_io.node (built by npm run build with a C compiler)';

test('without the native module, opening a VRRP socket or sending ARP/NA throws VrrpUnavailableError saying how to build it', (t) => {
  // a copy of dist/src with no dist/native beside it: the module is "not built"
  const copy = mkdtempSync(join(DIST, 'no-native-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(join(DIST, 'src'), join(copy, 'src'), { recursive: true });
  assert.equal(existsSync(join(copy, 'native')), false);
  const io = require(join(copy, 'src', 'vrrp', 'io.js')) as typeof import('../../../src/vrrp/io');
  const { VrrpUnavailableError } = require(join(copy, 'src', 'errors.js')) as typeof import('../../../src/errors');
  const unavailable = (err: unknown) => err instanceof VrrpUnavailableError && err.message === MESSAGE && err.code === 'LVSD_ERR_VRRP_UNAVAILABLE';
  assert.throws(() => io.VrrpSocket.open({ family: 4, ifindex: 1 }), unavailable);
  assert.throws(() => io.VrrpSocket.open({ family: 6, ifindex: 1, source: 'fe80::1' }), unavailable);
  assert.throws(() => io.sendGratuitousArp(1, '198.18.0.10'), unavailable);
  assert.throws(() => io.sendUnsolicitedNa(1, '2001:db8::10'), unavailable);
});

test('LVSD_NATIVE=0 turns off the optional modules but still loads vrrp_io', (t) => {
  if (!existsSync(join(DIST, 'native', 'vrrp_io.node'))) return t.skip('dist/native/vrrp_io.node is not built (no C compiler)');
  const before = process.env.LVSD_NATIVE;
  process.env.LVSD_NATIVE = '0';
  t.after(() => (before === undefined ? delete process.env.LVSD_NATIVE : (process.env.LVSD_NATIVE = before)));
  assert.equal(loadNative('netlink_dumps'), undefined);
  assert.equal(loadNative('vrrp_io'), undefined, 'as an optional module it would be off');
  const io = loadNative<Record<string, unknown>>('vrrp_io', { optional: false });
  assert.deepEqual(Object.keys(io ?? {}).sort(), ['close', 'interfaceAddresses', 'interfaceMac', 'open', 'send', 'sendFrame']);
});

test('options are checked before the module is needed: family, ifindex, addresses of the right family', () => {
  // (these throw the same with or without the module)
  const io = require('../../../src/vrrp/io') as typeof import('../../../src/vrrp/io');
  assert.throws(() => io.VrrpSocket.open({ family: 5 as 4, ifindex: 1 }), /family must be 4 or 6, not 5/);
  assert.throws(() => io.VrrpSocket.open({ family: 4, ifindex: 0 }), /ifindex must be a positive integer, not 0/);
  assert.throws(() => io.VrrpSocket.open({ family: 4, ifindex: 1, source: '2001:db8::1' }), /VRRP source address 2001:db8::1 is not an IPv4 address/);
  assert.throws(() => io.VrrpSocket.open({ family: 6, ifindex: 1, unicastPeers: ['198.18.0.2'] }), /VRRP unicast peer 198.18.0.2 is not an IPv6 address/);
});

test('errno numbers in words, with the call where the meaning depends on it', () => {
  const { errnoInWords } = require('../../../src/vrrp/io') as typeof import('../../../src/vrrp/io');
  const { errno } = require('node:os').constants as typeof import('node:os').constants;
  assert.equal(errnoInWords(errno.EPERM), 'EPERM (needs CAP_NET_RAW)');
  assert.equal(errnoInWords(errno.ENODEV), 'ENODEV (no such interface)');
  assert.equal(errnoInWords(errno.ENETDOWN), 'ENETDOWN (the interface is down)');
  assert.equal(errnoInWords(errno.EAFNOSUPPORT, 'ioctl(SIOCGIFHWADDR)'), 'EAFNOSUPPORT (not an Ethernet interface)');
  assert.equal(errnoInWords(errno.EAFNOSUPPORT, 'socket'), 'EAFNOSUPPORT (address family not supported (IPv6 disabled in this kernel?))');
  assert.equal(errnoInWords(errno.ECONNRESET), 'ECONNRESET');
  assert.equal(errnoInWords(99999), 'errno 99999');
});
