// print_largenum: 9-character columns scaled at 10^8 (K), 10^9 (M), 10^11 (G), 10^14 (T);
// --exact widens to the number plus one space.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largeNumber } from '../../../src/ipvs/format/numbers';

const CASES: [bigint, string, string][] = [
  [0n, '        0', '        0'],
  [99_999_999n, ' 99999999', ' 99999999'],
  [100_000_000n, '  100000K', ' 100000000'],
  [999_999_999n, '  999999K', ' 999999999'],
  [1_000_000_000n, '    1000M', ' 1000000000'],
  [99_999_999_999n, '   99999M', ' 99999999999'],
  [100_000_000_000n, '     100G', ' 100000000000'],
  [99_999_999_999_999n, '   99999G', ' 99999999999999'],
  [100_000_000_000_000n, '     100T', ' 100000000000000'],
  [18_446_744_073_709_551_615n, '18446744T', ' 18446744073709551615'],
];

for (const [n, scaled, exact] of CASES) {
  test(`${n} prints as '${scaled}' and exactly as '${exact}'`, () => {
    assert.equal(largeNumber(n, false), scaled);
    assert.equal(largeNumber(n, true), exact);
  });
}
