// `lvsd director plan`: the operations a pass would apply, as ipvsadm-like lines; nothing is sent.
import { FORWARD_SWITCH, hasSchedulerFlags, schedulerFlagsText } from '../ipvs/format/fields';
import { numericNamer } from '../ipvs/format/names';
import { serviceOption } from '../ipvs/format/save';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../ipvs/flags';
import type { ApplyOptions, ApplyResult, Ipvs, IpvsOp, RealServer, ServiceKey, VirtualService } from '../ipvs/types';

/** A change of net.ipv4.vs.NAME; in a plan beside the ops. */
export interface SysctlWrite {
  kind: 'set-sysctl';
  name: string;
  value: number;
}

export type PlanStep = SysctlWrite | IpvsOp;

/** Reads from the kernel; records what would be applied and sends nothing. */
export class RecordingIpvs implements Ipvs {
  readonly steps: PlanStep[] = [];
  constructor(private readonly inner: Ipvs) {}
  info() {
    return this.inner.info();
  }
  readTable() {
    return this.inner.readTable();
  }
  readTimeouts() {
    return this.inner.readTimeouts();
  }
  readSyncDaemons() {
    return this.inner.readSyncDaemons();
  }
  readSysctl(name: string) {
    return this.inner.readSysctl(name);
  }
  writeSysctl(name: string, value: number): Promise<void> {
    this.steps.push({ kind: 'set-sysctl', name, value });
    return Promise.resolve();
  }
  apply(ops: readonly IpvsOp[], _opts?: ApplyOptions): Promise<ApplyResult> {
    this.steps.push(...ops);
    return Promise.resolve({ applied: ops.length, failed: [], skipped: 0 });
  }
  close(): void {
    this.inner.close();
  }
}

export function formatPlan(steps: readonly PlanStep[]): string {
  if (steps.length === 0) return '# nothing to do: the kernel already matches the config\n';
  return steps.map((step) => (step.kind === 'set-sysctl' ? `sysctl -w net.ipv4.vs.${step.name}=${step.value}` : formatOp(step)) + '\n').join('');
}

/** One op as the ipvsadm command line that does the same. */
export function formatOp(op: IpvsOp): string {
  switch (op.kind) {
    case 'add-service':
      return `-A ${serviceText(op.service)}`;
    case 'edit-service':
      return `-E ${serviceText(op.service)}`;
    case 'delete-service':
      return `-D ${svc(op.service)}`;
    case 'add-server':
      return `-a ${svc(op.service)} ${serverText(op.service, op.server)}`;
    case 'edit-server':
      return `-e ${svc(op.service)} ${serverText(op.service, op.server)}`;
    case 'delete-server':
      return `-d ${svc(op.service)} -r ${numericNamer.addrPort(op.server.family, op.server.address, op.server.port, op.service.protocol)}`;
    case 'set-timeouts':
      return `--set ${op.timeouts.tcp} ${op.timeouts.tcpFin} ${op.timeouts.udp}`;
    case 'start-daemon':
      return `--start-daemon ${op.daemon.state} --mcast-interface ${op.daemon.mcastInterface} --syncid ${op.daemon.syncId}`;
    case 'stop-daemon':
      return `--stop-daemon ${op.state}`;
    case 'zero':
      return op.service ? `-Z ${svc(op.service)}` : '-Z';
    case 'flush':
      return '-C';
  }
}

function svc(key: ServiceKey): string {
  return serviceOption(key, numericNamer);
}

function serviceText(s: VirtualService): string {
  let line = `${svc(s.key)} -s ${s.scheduler}`;
  if (s.flags & SVC_F_PERSISTENT) line += ` -p ${s.timeout} -M ${s.netmask}`;
  if (s.persistenceEngine) line += ` --pe ${s.persistenceEngine}`;
  if (s.flags & SVC_F_ONEPACKET) line += ' -o';
  if (hasSchedulerFlags(s)) line += ` -b ${schedulerFlagsText(s)}`;
  return line;
}

function serverText(key: ServiceKey, rs: RealServer): string {
  let line = `-r ${numericNamer.addrPort(rs.key.family, rs.key.address, rs.key.port, key.protocol)} ${FORWARD_SWITCH[rs.forward]} -w ${rs.weight}`;
  if (rs.upperThreshold) line += ` -x ${rs.upperThreshold}`;
  if (rs.lowerThreshold) line += ` -y ${rs.lowerThreshold}`;
  if (rs.forward === 'tunnel' && rs.tunnelType && rs.tunnelType !== 'ipip') line += ` --tun-type ${rs.tunnelType}`;
  return line;
}
