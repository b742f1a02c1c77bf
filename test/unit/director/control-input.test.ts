// Operator input for drain/enable/weight: server selectors and weights, normalised or refused
// with a message that names the input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerSelector, parseWeight } from '../../../src/director/control';

describe('server selector', () => {
  it('accepts ADDR, ADDR:PORT, [V6], [V6]:PORT and a bare IPv6 address, in the spelling the status shows', () => {
    const cases: [string, string][] = [
      ['198.18.0.21', '198.18.0.21'],
      ['198.18.0.21:3306', '198.18.0.21:3306'],
      ['198.18.0.21:03306', '198.18.0.21:3306'],
      ['2001:db8::21', '2001:db8::21'],
      ['2001:0DB8:0:0::21', '2001:db8::21'],
      ['[2001:db8::21]', '2001:db8::21'],
      ['[2001:0db8::0021]:3306', '[2001:db8::21]:3306'],
      ['[::ffff:198.18.0.21]:80', '[::ffff:c612:15]:80'],
    ];
    for (const [given, want] of cases) assert.deepEqual(parseServerSelector(given), { server: want }, given);
    assert.deepEqual(parseServerSelector('198.18.0.21', 'mysql-read'), { server: '198.18.0.21', service: 'mysql-read' });
    assert.deepEqual(parseServerSelector('198.18.0.21', '198.18.0.10:3306/tcp'), { server: '198.18.0.21', service: '198.18.0.10:3306/tcp' });
  });

  it('refuses what is not an address, a port out of range and a service that cannot be a name', () => {
    const hint = '(give ADDR, ADDR:PORT or [IPV6]:PORT)';
    const cases: [unknown, string][] = [
      ['', 'SERVER: give a server as ADDR, ADDR:PORT or [IPV6]:PORT'],
      [42, 'SERVER: give a server as ADDR, ADDR:PORT or [IPV6]:PORT'],
      ['db1', `SERVER "db1": not an IP address ${hint}`],
      ['198.18.0.256', `SERVER "198.18.0.256": not an IP address ${hint}`],
      ['198.018.0.1', `SERVER "198.018.0.1": not an IP address ${hint}`],
      ['198.18.0.21:', `SERVER "198.18.0.21:": port "" is not a number from 0 to 65535 ${hint}`],
      ['198.18.0.21:65536', `SERVER "198.18.0.21:65536": port "65536" is not a number from 0 to 65535 ${hint}`],
      ['198.18.0.21:-1', `SERVER "198.18.0.21:-1": port "-1" is not a number from 0 to 65535 ${hint}`],
      ['[2001:db8::21', `SERVER "[2001:db8::21": brackets do not pair up ${hint}`],
      ['2001:db8::zz:80', `SERVER "2001:db8::zz:80": an IPv6 address with a port needs brackets ${hint}`],
      ['[198.18.0.21]:80', `SERVER "[198.18.0.21]:80": not an IPv6 address inside the brackets ${hint}`],
    ];
    for (const [given, message] of cases) assert.throws(() => parseServerSelector(given), { name: 'InputError', message }, String(given));
    assert.throws(() => parseServerSelector('198.18.0.21', 'a\nb'), /--service: must be a service's name or address/);
    assert.throws(() => parseServerSelector('198.18.0.21', 'x'.repeat(256)), /--service: must be/);
    assert.throws(() => parseServerSelector('198.18.0.21', 7), /--service: must be/);
  });
});

describe('weight', () => {
  it('takes integers from 0 to 65535, as numbers or digits', () => {
    for (const [given, want] of [[0, 0], [65535, 65535], ['7', 7], ['007', 7]] as const) assert.equal(parseWeight(given), want);
  });

  it('refuses anything else, naming the input', () => {
    for (const bad of [-1, 65536, 1.5, NaN, '1e3', '-1', ' 1', '', '65536', null, true]) {
      assert.throws(() => parseWeight(bad), { name: 'InputError', message: `WEIGHT: must be an integer from 0 to 65535, got ${JSON.stringify(bad)}` }, String(bad));
    }
  });
});
