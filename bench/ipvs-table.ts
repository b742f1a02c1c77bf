// The table the IPVS benches load: N TCP services (198.18.0.0/15), each with 4 DR real servers,
// as ipvsadm -R input in the shape ipvsadm -S -n writes.

export function restoreText(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const vip = `198.18.${(i >> 8) & 0xff}.${i & 0xff}`;
    lines.push(`-A -t ${vip}:80 -s wrr`);
    for (let r = 0; r < 4; r++) lines.push(`-a -t ${vip}:80 -r 198.19.${(i >> 6) & 0xff}.${((i & 0x3f) << 2) | r}:8080 -g -w ${r + 1}`);
  }
  return lines.join('\n') + '\n';
}
