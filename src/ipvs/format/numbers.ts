// ipvsadm's print_largenum(): counters in a 9-character column, scaled to K/M/G/T unless --exact.
import { right } from './printf';

export function largeNumber(n: bigint, exact: boolean): string {
  if (exact) {
    const digits = n.toString();
    return right(digits, digits.length <= 8 ? 9 : digits.length + 1);
  }
  if (n < 100_000_000n) return right(n, 9);
  if (n < 1_000_000_000n) return right(n / 1_000n, 8) + 'K';
  if (n < 100_000_000_000n) return right(n / 1_000_000n, 8) + 'M';
  if (n < 100_000_000_000_000n) return right(n / 1_000_000_000n, 8) + 'G';
  return right(n / 1_000_000_000_000n, 8) + 'T';
}
