// Builds a Namer for name-resolving listings (no -n): looks every distinct address up once,
// in parallel, before the pure formatting runs.
import type { Family } from '../types';
import { canonicalAddress } from '../address';
import { hostNameOf, serviceNameOf } from '../netdb';
import { namerFrom, type Namer } from './names';

export async function resolvingNamer(addresses: Iterable<{ family: Family; address: string }>): Promise<Namer> {
  const names = new Map<string, string | undefined>();
  const pending: Promise<void>[] = [];
  for (const { family, address } of addresses) {
    const key = canonicalAddress(family, address);
    if (names.has(key)) continue;
    names.set(key, undefined);
    pending.push(hostNameOf(key).then((n) => void names.set(key, n)));
  }
  await Promise.all(pending);
  return namerFrom((family, address) => names.get(canonicalAddress(family, address)), serviceNameOf);
}
