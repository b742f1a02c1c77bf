// The network namespace a lab bench loads its table in (the caller made it with `unshare --net`):
// lo up and a dummy interface holding 198.18.0.1/15, so the table's addresses are on-link.
import { execFileSync } from 'node:child_process';

export function setUpBenchNamespace(): void {
  for (const args of [
    ['link', 'set', 'lo', 'up'],
    ['link', 'add', 'bench0', 'type', 'dummy'],
    ['addr', 'add', '198.18.0.1/15', 'dev', 'bench0'],
    ['link', 'set', 'bench0', 'up'],
  ]) {
    execFileSync('ip', args);
  }
}
