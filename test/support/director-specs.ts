// Hand-made director specs for unit tests of the director (no config file involved).
import type { CheckDef, ServerSpec, ServiceSpec } from '../../src/director/model';
import { serverId, serviceId } from '../../src/director/model';
import type { RealServer, VirtualService } from '../../src/ipvs/types';

export function service(address: string, port: number, servers: ServerSpec[], more: Partial<ServiceSpec> = {}): ServiceSpec {
  const vs: VirtualService = {
    key: { family: address.includes(':') ? 'inet6' : 'inet', protocol: 'tcp', address, port },
    scheduler: 'wrr',
    flags: 0,
    timeout: 0,
    netmask: address.includes(':') ? 128 : '255.255.255.255',
  };
  const svc = more.service ?? vs;
  return {
    id: serviceId(svc.key),
    name: `${address}:${port}`,
    service: svc,
    servers,
    onFailure: 'weight-0',
    quorum: 1,
    hysteresis: 0,
    active: 'all',
    allDown: 'empty',
    slowStartMs: 0,
    drainDeadlineMs: 60_000,
    maintenance: [],
    ...more,
  };
}

export function server(address: string, port: number, weight = 1, checks: CheckDef[] = []): ServerSpec {
  const rs: RealServer = {
    key: { family: address.includes(':') ? 'inet6' : 'inet', address, port },
    forward: 'route',
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
  };
  return { id: serverId(rs.key), name: `${address}:${port}`, server: rs, checks };
}

/** A tcp check definition; the test's checker factory decides what it answers. */
export function tcpCheck(host: string, port: number, watch: CheckDef['watch'] = {}): CheckDef {
  return {
    kind: 'tcp',
    spec: { kind: 'tcp', options: { host, port } },
    watch: { intervalMs: 20, timeoutMs: 15, rise: 1, fall: 1, jitter: 0, initialState: 'down', ...watch },
    describe: `tcp ${host}:${port}`,
  };
}
