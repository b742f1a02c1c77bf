// The one-pass IPv4 parser (hot in restores) accepts and rejects exactly what the plain
// split-and-regex reading of inet_pton's rules does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIPv4 } from '../../../src/ipvs/address';

function reference(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    if (Number(p) > 255) return undefined;
    bytes[i] = Number(p);
  }
  return bytes;
}

test('edge cases', () => {
  for (const t of ['0.0.0.0', '255.255.255.255', '198.18.0.1', '256.1.1.1', '01.1.1.1', '1.1.1', '1.1.1.1.', '1..1.1', '1.1.1.1.1', '', '.1.1.1', '1.1.1.0', '1.1.1.1 ', '1.1.1.1000', '::1']) {
    assert.deepEqual(parseIPv4(t), reference(t), t);
  }
});

test('property: same verdict and bytes as the reference on dotted-digit soup and real addresses', () => {
  const soup = fc.string({ unit: fc.constantFrom(...'0123456789....x'.split('')), maxLength: 20 });
  fc.assert(
    fc.property(fc.oneof(soup, fc.ipV4(), fc.ipV4Extended()), (t) => assert.deepEqual(parseIPv4(t), reference(t))),
    { numRuns: 20000 },
  );
});
