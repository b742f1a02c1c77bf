// Small helpers over the Ipvs interface, for callers that change one thing at a time (the CLI,
// tests). They add nothing to the interface: every change still goes through apply().
import type { Ipvs, IpvsOp } from './types';

/** Applies one op; throws its error in words when the kernel refuses it. */
export async function applyOne(ipvs: Pick<Ipvs, 'apply'>, op: IpvsOp): Promise<void> {
  const result = await ipvs.apply([op]);
  if (result.failed.length > 0) throw result.failed[0].error;
}
