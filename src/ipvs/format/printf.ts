// The two printf conversions ipvsadm's tables use. printf pads but never truncates.

/** printf("%-Ns", s) */
export function left(s: string | number | bigint, width: number): string {
  return String(s).padEnd(width, ' ');
}

/** printf("%Ns", s) */
export function right(s: string | number | bigint, width: number): string {
  return String(s).padStart(width, ' ');
}
