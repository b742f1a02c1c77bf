// Prometheus metrics for /metrics, computed from one status() at scrape time. The lvsd_ families
// are written straight in the text format, a family at a time, so the endpoint can hand the event
// loop back between them: through prom-client's label objects a scrape of 10,000 services x 4
// servers took 9 to 20 s of one blocked loop (the health checks run on that loop). prom-client
// gives the process metrics (collectDefaultMetrics) on a registry of this endpoint's own.
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { CheckView, DirectorControl, DirectorStatus, ServerView, ServiceView, VrrpInstanceView } from './api';

type Status = DirectorStatus;

/** A slice of the services of one scrape, with their label text made once. */
interface Slice {
  st: Status;
  services: ServiceView[];
  /** `service="..."` per service */
  svc: string[];
  /** `service="...",server="..."` per server of each service */
  srv: string[][];
}
/** labels: the text between the braces ("" for none) */
type Put = (labels: string, value: number) => void;

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** per service (filled a slice of services at a time) or once for the director */
  per: 'service' | 'director';
  fill(x: Slice, put: Put): void;
}

const each = (x: Slice, f: (svc: ServiceView, labels: string) => void) => x.services.forEach((svc, i) => f(svc, x.svc[i]));
const eachServer = (x: Slice, f: (s: ServerView, labels: string) => void) => x.services.forEach((svc, i) => svc.servers.forEach((s, j) => f(s, x.srv[i][j])));
const eachInstance = (x: Slice, f: (i: VrrpInstanceView, labels: string) => void) => x.st.vrrp?.forEach((i) => f(i, `instance="${labelValue(i.name)}"`));
const seconds = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso) / 1000);
const inOut = (labels: string, put: Put, inValue: number, outValue: number) => {
  put(`${labels},direction="in"`, inValue);
  put(`${labels},direction="out"`, outValue);
};
const checkLabels = (labels: string, c: CheckView) => `${labels},kind="${labelValue(c.kind)}",target="${labelValue(c.target)}"`;

const FAMILIES: Family[] = [
  { name: 'lvsd_build_info', type: 'gauge', per: 'director', help: 'The running director: always 1, its version as a label.', fill: (x, put) => put(`version="${labelValue(x.st.version)}"`, 1) },
  { name: 'lvsd_service_connections_total', type: 'counter', per: 'service', help: 'Connections the kernel scheduled for the virtual service.', fill: (x, put) => each(x, (svc, l) => put(l, svc.counters.conns)) },
  { name: 'lvsd_service_packets_total', type: 'counter', per: 'service', help: 'Packets through the virtual service, by direction.', fill: (x, put) => each(x, (svc, l) => inOut(l, put, svc.counters.inPackets, svc.counters.outPackets)) },
  { name: 'lvsd_service_bytes_total', type: 'counter', per: 'service', help: 'Bytes through the virtual service, by direction.', fill: (x, put) => each(x, (svc, l) => inOut(l, put, svc.counters.inBytes, svc.counters.outBytes)) },
  { name: 'lvsd_service_up_weight', type: 'gauge', per: 'service', help: 'Sum of the weights of the servers that are up.', fill: (x, put) => each(x, (svc, l) => put(l, svc.upWeight)) },
  { name: 'lvsd_service_quorum_met', type: 'gauge', per: 'service', help: '1 while the service has its quorum (only services with a quorum).', fill: (x, put) => each(x, (svc, l) => svc.quorum && put(l, svc.quorum.met ? 1 : 0)) },
  { name: 'lvsd_service_sorry_server_active', type: 'gauge', per: 'service', help: '1 while the sorry server is in the table.', fill: (x, put) => each(x, (svc, l) => put(l, svc.sorryServerActive ? 1 : 0)) },
  { name: 'lvsd_service_kernel_error', type: 'gauge', per: 'service', help: '1 while the kernel refuses the service.', fill: (x, put) => each(x, (svc, l) => put(l, svc.error ? 1 : 0)) },
  { name: 'lvsd_server_weight', type: 'gauge', per: 'service', help: 'Weight the director wants in the kernel for the server now.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.weight)) },
  { name: 'lvsd_server_configured_weight', type: 'gauge', per: 'service', help: 'Weight of the server in the config.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.configuredWeight)) },
  {
    name: 'lvsd_server_kernel_weight',
    type: 'gauge',
    per: 'service',
    help: 'Weight the kernel reported at the last read (absent while the server is not in the kernel).',
    fill: (x, put) => eachServer(x, (s, l) => s.kernelWeight !== undefined && put(l, s.kernelWeight)),
  },
  { name: 'lvsd_server_up', type: 'gauge', per: 'service', help: '1 when all checks of the server pass, 0 when one fails.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.health === 'up' ? 1 : 0)) },
  {
    name: 'lvsd_server_state',
    type: 'gauge',
    per: 'service',
    help: 'The state the server is in (up, down, slow-start, standby, drained, maintenance, removed, sorry): 1 for the current one.',
    fill: (x, put) => eachServer(x, (s, l) => put(`${l},state="${labelValue(s.state)}"`, 1)),
  },
  { name: 'lvsd_server_active_connections', type: 'gauge', per: 'service', help: 'ActiveConn the kernel reports for the server.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.activeConns)) },
  { name: 'lvsd_server_inactive_connections', type: 'gauge', per: 'service', help: 'InActConn the kernel reports for the server.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.inactiveConns)) },
  { name: 'lvsd_server_persistent_connections', type: 'gauge', per: 'service', help: 'Persistence templates the kernel reports for the server.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.persistentConns)) },
  { name: 'lvsd_server_connections_total', type: 'counter', per: 'service', help: 'Connections the kernel scheduled to the server.', fill: (x, put) => eachServer(x, (s, l) => put(l, s.counters.conns)) },
  { name: 'lvsd_server_bytes_total', type: 'counter', per: 'service', help: 'Bytes to and from the server, by direction.', fill: (x, put) => eachServer(x, (s, l) => inOut(l, put, s.counters.inBytes, s.counters.outBytes)) },
  {
    name: 'lvsd_server_last_transition_timestamp_seconds',
    type: 'gauge',
    per: 'service',
    help: "Time of the last change of the server's health.",
    fill: (x, put) => eachServer(x, (s, l) => put(l, seconds(s.lastTransitionAt))),
  },
  {
    name: 'lvsd_check_up',
    type: 'gauge',
    per: 'service',
    help: "1 when the check's last verdict was up.",
    fill: (x, put) => eachServer(x, (s, l) => s.checks.forEach((c) => put(checkLabels(l, c), c.state === 'up' ? 1 : 0))),
  },
  {
    name: 'lvsd_check_latency_seconds',
    type: 'gauge',
    per: 'service',
    help: "Latency of the check's last result.",
    fill: (x, put) => eachServer(x, (s, l) => s.checks.forEach((c) => c.lastLatencyMs !== undefined && put(checkLabels(l, c), c.lastLatencyMs / 1000))),
  },
  { name: 'lvsd_reconcile_operations_total', type: 'counter', per: 'director', help: 'IPVS operations the reconciler sent since start.', fill: (x, put) => put('', x.st.reconcile.opsTotal) },
  { name: 'lvsd_reconcile_failures_total', type: 'counter', per: 'director', help: 'Reconcile passes that failed since start.', fill: (x, put) => put('', x.st.reconcile.failuresTotal) },
  { name: 'lvsd_reconcile_last_operations', type: 'gauge', per: 'director', help: 'IPVS operations of the last reconcile pass.', fill: (x, put) => put('', x.st.reconcile.lastOps) },
  { name: 'lvsd_reconcile_last_timestamp_seconds', type: 'gauge', per: 'director', help: 'Time of the last reconcile pass.', fill: (x, put) => put('', seconds(x.st.reconcile.lastAt)) },
  {
    name: 'lvsd_config_reloads_total',
    type: 'counter',
    per: 'director',
    help: 'Config reloads since start, by result (ok, failed).',
    fill: (x, put) => {
      put('result="ok"', x.st.reloads.ok);
      put('result="failed"', x.st.reloads.failed);
    },
  },
  {
    name: 'lvsd_config_last_reload_successful',
    type: 'gauge',
    per: 'director',
    help: '1 when the last reload was applied, 0 when it was rejected.',
    fill: (x, put) => x.st.lastReload && put('', x.st.lastReload.ok ? 1 : 0),
  },
  { name: 'lvsd_config_last_reload_timestamp_seconds', type: 'gauge', per: 'director', help: 'Time of the last reload.', fill: (x, put) => put('', seconds(x.st.lastReload?.at)) },
  { name: 'lvsd_config_loaded_timestamp_seconds', type: 'gauge', per: 'director', help: 'Time the config in force was loaded.', fill: (x, put) => put('', seconds(x.st.config.loadedAt)) },
  {
    name: 'lvsd_vrrp_state',
    type: 'gauge',
    per: 'director',
    help: 'The state a VRRP instance is in (init, backup, master, fault, stopped): 1 for the current one.',
    fill: (x, put) => eachInstance(x, (i, l) => put(`${l},state="${labelValue(i.state)}"`, 1)),
  },
  { name: 'lvsd_vrrp_priority', type: 'gauge', per: 'director', help: 'Priority a VRRP instance advertises (after tracking).', fill: (x, put) => eachInstance(x, (i, l) => put(l, i.effectivePriority)) },
  { name: 'lvsd_vrrp_transitions_total', type: 'counter', per: 'director', help: 'State changes of a VRRP instance since start.', fill: (x, put) => eachInstance(x, (i, l) => put(l, i.counters.transitions)) },
  { name: 'lvsd_vrrp_adverts_sent_total', type: 'counter', per: 'director', help: 'Adverts a VRRP instance sent.', fill: (x, put) => eachInstance(x, (i, l) => put(l, i.counters.advertsSent)) },
  { name: 'lvsd_vrrp_adverts_received_total', type: 'counter', per: 'director', help: 'Adverts for a VRRP instance that passed the checks.', fill: (x, put) => eachInstance(x, (i, l) => put(l, i.counters.received)) },
  {
    name: 'lvsd_vrrp_adverts_invalid_total',
    type: 'counter',
    per: 'director',
    help: 'Adverts dropped by the checks, by reason (ttl, version, checksum, ...).',
    fill: (x, put) => eachInstance(x, (i, l) => Object.entries(i.counters.invalid).forEach(([reason, n]) => put(`${l},reason="${labelValue(reason)}"`, n))),
  },
  { name: 'lvsd_vrrp_send_errors_total', type: 'counter', per: 'director', help: 'Adverts and announcements a VRRP instance could not send.', fill: (x, put) => eachInstance(x, (i, l) => put(l, i.counters.sendErrors)) },
];

/** Services per piece: a piece of 40,000 servers' lines blocked the loop for over a second. */
const SLICE = 250;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** The lvsd_ families for one status, in pieces: each family whole, in order, a slice at a time. */
export function* familyChunks(st: Status): Generator<string> {
  // label text made once per slice, when the first family reaches it (not all up front: that
  // alone was the longest piece)
  const slices: Slice[] = [];
  const sliceAt = (k: number): Slice => {
    if (slices[k] === undefined) {
      const services = st.services.slice(k * SLICE, (k + 1) * SLICE);
      const svc = services.map((x) => `service="${labelValue(x.name)}"`);
      slices[k] = { st, services, svc, srv: services.map((x, i) => x.servers.map((r) => `${svc[i]},server="${labelValue(r.name)}"`)) };
    }
    return slices[k];
  };
  for (const family of FAMILIES) {
    let lines = [`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`];
    const put: Put = (labels, value) => {
      if (Number.isNaN(value)) return; // an unknown time is no sample, not NaN
      lines.push(labels === '' ? `${family.name} ${value}` : `${family.name}{${labels}} ${value}`);
    };
    if (family.per === 'director') {
      family.fill({ st, services: [], svc: [], srv: [] }, put);
    } else {
      for (let k = 0; k * SLICE < st.services.length; k++) {
        family.fill(sliceAt(k), put);
        if (lines.length > 0) yield `${lines.join('\n')}\n`;
        lines = [];
      }
    }
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }
}

export interface DirectorMetrics {
  contentType: string;
  /** The exposition for the status now, a family at a time (the caller may yield between them). */
  chunks(): AsyncGenerator<string>;
  /** All of it as one string. */
  render(): Promise<string>;
}

export function createMetrics(control: DirectorControl): DirectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  async function* chunks(): AsyncGenerator<string> {
    yield* familyChunks(control.status() as Status);
    // prom-client writes a NaN value as "Nan" (the event loop lag before its first sample); the
    // exposition format spells it NaN
    yield (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }
  return {
    contentType: registry.contentType,
    chunks,
    render: async () => {
      let text = '';
      for await (const c of chunks()) text += c;
      return text;
    },
  };
}
