// Desired against observed -> the fewest IPVS operations, in an order the kernel accepts.
// Identity and settings are compared; counters never are. Pure.
import { SVC_F_PERSISTENT } from '../ipvs/flags';
import type { IpvsOp, RealServer, RealServerEntry, ServiceEntry, VirtualService } from '../ipvs/types';
import { serverId } from './model';

export function sameService(want: VirtualService, got: VirtualService): boolean {
  if (want.scheduler !== got.scheduler || want.flags !== got.flags) return false;
  if ((want.persistenceEngine ?? '') !== (got.persistenceEngine ?? '')) return false;
  // timeout and netmask mean something only for a persistent service
  if (want.flags & SVC_F_PERSISTENT) return want.timeout === got.timeout && String(want.netmask) === String(got.netmask);
  return true;
}

export function sameServer(want: RealServer, got: RealServer): boolean {
  if (want.weight !== got.weight || want.upperThreshold !== got.upperThreshold || want.lowerThreshold !== got.lowerThreshold) return false;
  // the kernel reports any server on one of its own addresses as Local, whatever was asked
  if (got.forward === 'local') return true;
  if (want.forward !== got.forward) return false;
  if (want.forward !== 'tunnel') return true;
  const type = want.tunnelType ?? 'ipip';
  if (type !== (got.tunnelType ?? 'ipip')) return false;
  if (type === 'gue' && (want.tunnelPort ?? 0) !== (got.tunnelPort ?? 0)) return false;
  if (type !== 'ipip' && (want.tunnelChecksum ?? 'nocsum') !== (got.tunnelChecksum ?? 'nocsum')) return false;
  return true;
}

export interface ServiceTarget {
  service: VirtualService;
  /** real servers that must be in the kernel, by server id */
  servers: Map<string, RealServer>;
  /** real servers in the kernel but not in `servers` that may be deleted now, by server id */
  deletable: (id: string, rs: RealServerEntry) => boolean;
}

/** Operations that turn `got` (undefined: not in the kernel) into `want`. */
export function diffService(want: ServiceTarget, got: ServiceEntry | undefined): IpvsOp[] {
  const key = want.service.key;
  const ops: IpvsOp[] = [];
  if (!got) {
    ops.push({ kind: 'add-service', service: want.service });
    for (const server of want.servers.values()) ops.push({ kind: 'add-server', service: key, server });
    return ops;
  }
  if (!sameService(want.service, got.service)) ops.push({ kind: 'edit-service', service: want.service });
  const present = new Map<string, RealServerEntry>();
  for (const e of got.realServers) present.set(serverId(e.server.key), e);
  // deletions first, so that a weight moving from one server to another never overshoots
  for (const [id, e] of present) {
    if (!want.servers.has(id) && want.deletable(id, e)) ops.push({ kind: 'delete-server', service: key, server: e.server.key });
  }
  for (const [id, server] of want.servers) {
    const e = present.get(id);
    if (!e) ops.push({ kind: 'add-server', service: key, server });
    else if (!sameServer(server, e.server)) ops.push({ kind: 'edit-server', service: key, server });
  }
  return ops;
}
