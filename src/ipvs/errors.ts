// Kernel errnos of IPVS requests, in words that name the service or real server concerned.
// The kernel's meanings are those of net/netfilter/ipvs/ip_vs_ctl.c (ip_vs_genl_set_cmd & co).
import { IpvsError, IpvsUnavailableError, LvsdError, NetlinkError, PermissionError } from '../errors';
import { errnoText } from '../netlink/socket';
import { numericNamer } from './format/names';
import type { IpvsOp, RealServer, RealServerKey, ServiceKey, SyncDaemon, SyncDaemonState } from './types';
import { SCHEDULERS } from './types';
import { constants } from 'node:os';

const { EPERM, ENOENT, ESRCH, EACCES, EEXIST, ENODEV, EINVAL } = constants.errno;

/** Every request the client makes, so an error can say what was being done. */
export type IpvsRequest =
  | IpvsOp
  | { kind: 'info' | 'list-services' | 'get-timeouts' | 'list-daemons' }
  | { kind: 'get-service' | 'list-servers'; service: ServiceKey }
  | { kind: 'start-daemon'; daemon: SyncDaemon }
  | { kind: 'stop-daemon'; state: SyncDaemonState };

/** "198.18.0.10:3306", "[2001:db8::1]:80/udp", "fwmark 5", "fwmark 5 (IPv6)" */
export function describeService(key: ServiceKey): string {
  if (key.fwmark !== undefined) return `fwmark ${key.fwmark}${key.family === 'inet6' ? ' (IPv6)' : ''}`;
  const where = numericNamer.addrPort(key.family, key.address, key.port, key.protocol);
  return key.protocol === 'tcp' ? where : `${where}/${key.protocol}`;
}

export function describeRealServer(rs: RealServerKey): string {
  return numericNamer.addrPort(rs.family, rs.address, rs.port, undefined);
}

const OP_WORDS: Record<IpvsRequest['kind'], string> = {
  'add-service': 'adding service',
  'edit-service': 'editing service',
  'delete-service': 'deleting service',
  'get-service': 'reading service',
  'list-services': 'listing services',
  'list-servers': 'listing real servers of service',
  'add-server': 'adding real server',
  'edit-server': 'editing real server',
  'delete-server': 'deleting real server',
  zero: 'zeroing counters',
  flush: 'flushing the table',
  'set-timeouts': 'setting timeouts',
  'get-timeouts': 'reading timeouts',
  info: 'reading IPVS info',
  'start-daemon': 'starting sync daemon',
  'stop-daemon': 'stopping sync daemon',
  'list-daemons': 'listing sync daemons',
};

function serverKey(s: RealServer | RealServerKey): RealServerKey {
  return 'key' in s ? s.key : s;
}

function subject(req: IpvsRequest): string {
  switch (req.kind) {
    case 'add-server':
    case 'edit-server':
    case 'delete-server':
      return `real server ${describeRealServer(serverKey(req.server))} of service ${describeService(req.service)}`;
    case 'add-service':
    case 'edit-service':
      return `service ${describeService(req.service.key)}`;
    case 'delete-service':
    case 'get-service':
    case 'list-servers':
      return `service ${describeService(req.service)}`;
    case 'zero':
      return req.service ? `service ${describeService(req.service)}` : 'all services';
    case 'start-daemon':
      return `${req.daemon.state} sync daemon`;
    case 'stop-daemon':
      return `${req.state} sync daemon`;
    default:
      return 'IPVS';
  }
}

/** Turns a failed request's error into an error in words; non-netlink errors pass through. */
export function ipvsError(req: IpvsRequest, err: unknown): Error {
  if (!(err instanceof NetlinkError)) return err instanceof Error ? err : new Error(String(err));
  const errno = err.errno;
  const opts = { cause: err };
  if (errno === EPERM || errno === EACCES) return new PermissionError('permission denied: needs CAP_NET_ADMIN', { errno, cause: err });
  const words = wordsFor(req, errno);
  if (words) return new IpvsError(words, errno, opts);
  const ext = err.extack ? `: ${err.extack}` : '';
  return new IpvsError(`${OP_WORDS[req.kind]} failed for ${subject(req)}: ${errnoText(errno)}${ext}`, errno, opts);
}

function wordsFor(req: IpvsRequest, errno: number): string | undefined {
  switch (req.kind) {
    case 'add-service':
    case 'edit-service': {
      const svc = req.service;
      const name = describeService(svc.key);
      if (errno === EEXIST) return `service ${name} already exists`;
      if (errno === ESRCH) return `no such service ${name}`;
      if (errno === ENOENT) {
        const knownSched = (SCHEDULERS as readonly string[]).includes(svc.scheduler);
        if (svc.persistenceEngine && knownSched) {
          return `persistence engine '${svc.persistenceEngine}' is not available: its kernel module could not be loaded`;
        }
        return `scheduler '${svc.scheduler}' is not available: its kernel module could not be loaded`;
      }
      return undefined;
    }
    case 'delete-service':
    case 'get-service':
    case 'zero':
      if ((errno === ESRCH || errno === ENOENT) && 'service' in req && req.service) return `no such service ${describeService(req.service)}`;
      return undefined;
    case 'list-servers':
      if (errno === ESRCH) return `no such service ${describeService(req.service)}`;
      return undefined;
    case 'add-server':
    case 'edit-server':
    case 'delete-server': {
      const svc = describeService(req.service);
      const rs = describeRealServer(serverKey(req.server));
      if (errno === ESRCH) return `no such service ${svc}`;
      if (errno === ENOENT) return `no such real server ${rs} in service ${svc}`;
      if (errno === EEXIST) return `real server ${rs} already exists in service ${svc}`;
      if (errno === EINVAL && req.kind !== 'delete-server') {
        const server = req.server;
        if (server.key.family !== req.service.family && server.forward !== 'tunnel') {
          return `real server ${rs} is not of the family of service ${svc}: mixed families need the tunnel forwarding method`;
        }
        return `real server ${rs} is not routable for this forwarding method (${server.forward}); it needs a unicast route in this namespace`;
      }
      return undefined;
    }
    case 'start-daemon':
      if (errno === EEXIST) return `a ${req.daemon.state} sync daemon is already running`;
      if (errno === ENOENT || errno === ENODEV) return `no network interface '${req.daemon.mcastInterface}' for the ${req.daemon.state} sync daemon`;
      // The kernel also says EINVAL while any real server's family differs from its service's.
      if (errno === EINVAL) return `the kernel refused the ${req.daemon.state} sync daemon: check its multicast group and port; IPVS also refuses connection sync while any real server's address family differs from its service's (mixed-family tunnels)`;
      return undefined;
    case 'stop-daemon':
      if (errno === ESRCH || errno === ENOENT) return `no ${req.state} sync daemon is running`;
      return undefined;
    default:
      return undefined;
  }
}

/** The IPVS family missing, or any other open failure, in words. */
export function openError(err: unknown): Error {
  if (err instanceof NetlinkError && err.errno === ENOENT) return new IpvsUnavailableError();
  if (err instanceof LvsdError) return err;
  return err instanceof Error ? err : new Error(String(err));
}
