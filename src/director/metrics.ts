// Prometheus metrics for /metrics, computed from the director's status at scrape time (one
// status() per scrape) on a registry of their own, beside the process metrics prom-client collects.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DirectorControl, DirectorStatus } from './api';

/**
 * Reload counts since start. Not in the DirectorStatus contract yet: read when the status carries
 * it, so lvsd_config_reloads_total appears once the daemon reports them.
 */
interface ReloadCounts {
  reloads?: { ok: number; failed: number };
}

export interface DirectorMetrics {
  contentType: string;
  /** Prometheus text for the status now. */
  render(): Promise<string>;
}

export function createMetrics(control: DirectorControl): DirectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers });
  const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });

  const m = {
    build: gauge('lvsd_build_info', 'The running director: always 1, its version as a label.', ['version']),
    svcConns: counter('lvsd_service_connections_total', 'Connections the kernel scheduled for the virtual service.', ['service']),
    svcPackets: counter('lvsd_service_packets_total', 'Packets through the virtual service, by direction.', ['service', 'direction']),
    svcBytes: counter('lvsd_service_bytes_total', 'Bytes through the virtual service, by direction.', ['service', 'direction']),
    svcUpWeight: gauge('lvsd_service_up_weight', 'Sum of the weights of the servers that are up.', ['service']),
    svcQuorum: gauge('lvsd_service_quorum_met', '1 while the service has its quorum (only services with a quorum).', ['service']),
    svcSorry: gauge('lvsd_service_sorry_server_active', '1 while the sorry server is in the table.', ['service']),
    svcError: gauge('lvsd_service_kernel_error', '1 while the kernel refuses this service.', ['service']),
    weight: gauge('lvsd_server_weight', 'Weight the director wants in the kernel for the server now.', ['service', 'server']),
    cfgWeight: gauge('lvsd_server_configured_weight', 'Weight of the server in the config.', ['service', 'server']),
    kernelWeight: gauge('lvsd_server_kernel_weight', 'Weight the kernel reported at the last read (absent when the server is not in the kernel).', ['service', 'server']),
    up: gauge('lvsd_server_up', '1 when all checks of the server pass, 0 when one fails.', ['service', 'server']),
    state: gauge('lvsd_server_state', 'The state the server is in (up, down, slow-start, drained, maintenance, removed, sorry): 1 for the current one.', ['service', 'server', 'state']),
    active: gauge('lvsd_server_active_connections', 'ActiveConn the kernel reports for the server.', ['service', 'server']),
    inactive: gauge('lvsd_server_inactive_connections', 'InActConn the kernel reports for the server.', ['service', 'server']),
    persistent: gauge('lvsd_server_persistent_connections', 'Persistent connection templates for the server.', ['service', 'server']),
    srvConns: counter('lvsd_server_connections_total', 'Connections the kernel scheduled to the server.', ['service', 'server']),
    srvBytes: counter('lvsd_server_bytes_total', 'Bytes to and from the server, by direction.', ['service', 'server', 'direction']),
    lastTransition: gauge('lvsd_server_last_transition_timestamp_seconds', 'Time of the last change of the server\'s health.', ['service', 'server']),
    checkUp: gauge('lvsd_check_up', '1 when the check\'s last verdict was up.', ['service', 'server', 'kind', 'target']),
    checkLatency: gauge('lvsd_check_latency_seconds', 'Latency of the check\'s last result.', ['service', 'server', 'kind', 'target']),
    ops: counter('lvsd_reconcile_operations_total', 'IPVS operations the reconciler sent since start.'),
    failures: counter('lvsd_reconcile_failures_total', 'Reconcile passes that failed since start.'),
    lastOps: gauge('lvsd_reconcile_last_operations', 'IPVS operations of the last reconcile pass.'),
    lastReconcile: gauge('lvsd_reconcile_last_timestamp_seconds', 'Time of the last reconcile pass.'),
    reloads: counter('lvsd_config_reloads_total', 'Config reloads since start, by result (ok, failed).', ['result']),
    reloadOk: gauge('lvsd_config_last_reload_successful', '1 when the last reload was applied, 0 when it was rejected.'),
    reloadAt: gauge('lvsd_config_last_reload_timestamp_seconds', 'Time of the last reload.'),
    loadedAt: gauge('lvsd_config_loaded_timestamp_seconds', 'Time the config in force was loaded.'),
  };

  function fill(status: DirectorStatus & ReloadCounts): void {
    for (const metric of Object.values(m)) metric.reset();
    m.build.set({ version: status.version }, 1);
    for (const svc of status.services) {
      const service = svc.name;
      const c = svc.counters;
      m.svcConns.inc({ service }, c.conns);
      m.svcPackets.inc({ service, direction: 'in' }, c.inPackets);
      m.svcPackets.inc({ service, direction: 'out' }, c.outPackets);
      m.svcBytes.inc({ service, direction: 'in' }, c.inBytes);
      m.svcBytes.inc({ service, direction: 'out' }, c.outBytes);
      m.svcUpWeight.set({ service }, svc.upWeight);
      if (svc.quorum) m.svcQuorum.set({ service }, svc.quorum.met ? 1 : 0);
      m.svcSorry.set({ service }, svc.sorryServerActive ? 1 : 0);
      m.svcError.set({ service }, svc.error ? 1 : 0);
      for (const s of svc.servers) {
        const labels = { service, server: s.name };
        m.weight.set(labels, s.weight);
        m.cfgWeight.set(labels, s.configuredWeight);
        if (s.kernelWeight !== undefined) m.kernelWeight.set(labels, s.kernelWeight);
        m.up.set(labels, s.health === 'up' ? 1 : 0);
        m.state.set({ ...labels, state: s.state }, 1);
        m.active.set(labels, s.activeConns);
        m.inactive.set(labels, s.inactiveConns);
        m.persistent.set(labels, s.persistentConns);
        m.srvConns.inc(labels, s.counters.conns);
        m.srvBytes.inc({ ...labels, direction: 'in' }, s.counters.inBytes);
        m.srvBytes.inc({ ...labels, direction: 'out' }, s.counters.outBytes);
        setTime(m.lastTransition, labels, s.lastTransitionAt);
        for (const check of s.checks) {
          const checkLabels = { ...labels, kind: check.kind, target: check.target };
          m.checkUp.set(checkLabels, check.state === 'up' ? 1 : 0);
          if (check.lastLatencyMs !== undefined) m.checkLatency.set(checkLabels, check.lastLatencyMs / 1000);
        }
      }
    }
    const rec = status.reconcile;
    m.ops.inc(rec.opsTotal);
    m.failures.inc(rec.failuresTotal);
    m.lastOps.set(rec.lastOps);
    setTime(m.lastReconcile, {}, rec.lastAt);
    if (status.reloads) {
      m.reloads.inc({ result: 'ok' }, status.reloads.ok);
      m.reloads.inc({ result: 'failed' }, status.reloads.failed);
    }
    if (status.lastReload) {
      m.reloadOk.set(status.lastReload.ok ? 1 : 0);
      setTime(m.reloadAt, {}, status.lastReload.at);
    }
    setTime(m.loadedAt, {}, status.config.loadedAt);
  }

  return {
    contentType: registry.contentType,
    render: async () => {
      fill(control.status());
      return registry.metrics();
    },
  };
}

function setTime(g: Gauge, labels: Record<string, string>, iso: string | undefined): void {
  const t = iso === undefined ? NaN : Date.parse(iso);
  if (!Number.isNaN(t)) g.set(labels, t / 1000);
}
