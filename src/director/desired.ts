// Desired state of one service: config + health + operator overrides + time -> the real servers
// that must be in the kernel and their weights. Pure: no I/O, no clock of its own.
import type { ServerState } from './api';
import type { ServerSpec, ServiceSpec } from './model';
import type { RealServer } from '../ipvs/types';

/** What the director knows of one configured real server at run time. */
export interface ServerRuntime {
  health: 'up' | 'down';
  /** when it last came up (ms); undefined when it started up (adopted) or never came up */
  upSince?: number;
  /** when it last went down (ms), for all_down: keep-last */
  downSince?: number;
  /** weight asked for by an exec check with dynamic weight */
  dynamicWeight?: number;
}

export type Override = { kind: 'drain' } | { kind: 'weight'; weight: number };

export interface ServerDecision {
  spec: ServerSpec;
  state: ServerState;
  /** the weight the server serves with when up: configured, dynamic or set by an operator */
  baseWeight: number;
  /** the weight it gets in the kernel now */
  weight: number;
  /** false: it must not be in the kernel (down with on_failure: remove) */
  present: boolean;
  /** an operator override in force */
  override?: Override;
}

export interface ServiceDecision {
  spec: ServiceSpec;
  servers: ServerDecision[];
  /** sum of the base weights of servers that are up (also ramping) */
  upWeight: number;
  quorumLost: boolean;
  sorryActive: boolean;
  /** active: one: the server that serves, by id; undefined when none is up (or active: all) */
  active: string | undefined;
  /** every real server that must be in the kernel, by server id, with its settings */
  desired: Map<string, RealServer>;
}

export interface DecideInput {
  runtime(serverId: string): ServerRuntime;
  override(serverId: string): Override | undefined;
  inMaintenance(serverId: string): boolean;
  /** the quorum state of the previous decision (hysteresis); undefined on the first */
  quorumLostBefore: boolean | undefined;
  /** active: one: the server that served at the previous decision (kept while it is up) */
  activeBefore?: string;
  now: number;
}

export function decideService(spec: ServiceSpec, input: DecideInput): ServiceDecision {
  const servers = spec.servers.map((s) => decideServer(spec, s, input));
  const serving = servers.filter((d) => d.state === 'up' || d.state === 'slow-start');
  const upWeight = serving.reduce((sum, d) => sum + d.baseWeight, 0);

  // active: one keeps the server that serves while it is up, with no failback to an earlier one:
  // a writer that moved back and forth would meet its own writes twice (Galera, MHA)
  let active: ServerDecision | undefined;
  if (spec.active === 'one') {
    const ready = serving.filter((d) => d.baseWeight > 0);
    active = ready.find((d) => d.spec.id === input.activeBefore) ?? ready[0];
    for (const d of ready) {
      if (d === active) continue;
      d.state = 'standby';
      d.weight = 0;
    }
  }

  // keepalived's quorum: lost below quorum - hysteresis, regained at quorum + hysteresis
  let quorumLost: boolean;
  if (input.quorumLostBefore === undefined) quorumLost = upWeight < spec.quorum;
  else if (input.quorumLostBefore) quorumLost = upWeight < spec.quorum + spec.hysteresis;
  else quorumLost = upWeight < spec.quorum - spec.hysteresis;

  const allDown = serving.length === 0;
  let keptLast = false;
  if (allDown && spec.allDown === 'keep-last') {
    // the server that failed last keeps serving: a server that may still answer beats none
    const candidates = servers.filter((d) => d.state === 'down' && d.baseWeight > 0);
    candidates.sort((a, b) => (input.runtime(b.spec.id).downSince ?? 0) - (input.runtime(a.spec.id).downSince ?? 0));
    const last = candidates[0];
    if (last) {
      last.weight = last.baseWeight;
      last.present = true;
      keptLast = true;
    }
  }
  const sorryActive = spec.sorry !== undefined && quorumLost && !keptLast && !(allDown && spec.allDown === 'empty');

  const desired = new Map<string, RealServer>();
  for (const d of servers) {
    // the spec's own object when the weight is the configured one: no copy per server and pass
    if (d.present) desired.set(d.spec.id, d.weight === d.spec.server.weight ? d.spec.server : { ...d.spec.server, weight: d.weight });
  }
  if (sorryActive && spec.sorry) desired.set(sorryId(spec), spec.sorry);
  return { spec, servers, upWeight, quorumLost, sorryActive, desired, active: active?.spec.id };
}

/** The sorry server's id in `desired` (a server id of its own, never one of the real servers'). */
export function sorryId(spec: ServiceSpec): string {
  return `${spec.sorry!.key.address}|${spec.sorry!.key.port}`;
}

function decideServer(svc: ServiceSpec, spec: ServerSpec, input: DecideInput): ServerDecision {
  const rt = input.runtime(spec.id);
  const override = input.override(spec.id);
  let baseWeight = rt.dynamicWeight ?? spec.server.weight;
  if (override?.kind === 'weight') baseWeight = override.weight;
  const decision = (state: ServerState, weight: number, present = true): ServerDecision => ({
    spec,
    state,
    baseWeight,
    weight,
    present,
    override,
  });
  if (override?.kind === 'drain') return decision('drained', 0);
  if (input.inMaintenance(spec.id)) return decision('maintenance', 0);
  if (rt.health === 'down') return decision('down', 0, svc.onFailure === 'weight-0');
  if (rt.upSince !== undefined && svc.slowStartMs > 0 && baseWeight > 0) {
    const elapsed = input.now - rt.upSince;
    if (elapsed < svc.slowStartMs) {
      return decision('slow-start', Math.max(1, Math.ceil((baseWeight * Math.max(0, elapsed)) / svc.slowStartMs)));
    }
  }
  return decision('up', baseWeight);
}

/** When the next slow-start step is due (ms), or undefined when no server is ramping. */
export function nextRampAt(d: ServiceDecision, input: Pick<DecideInput, 'runtime' | 'now'>): number | undefined {
  let next: number | undefined;
  for (const s of d.servers) {
    if (s.state !== 'slow-start') continue;
    const since = input.runtime(s.spec.id).upSince ?? input.now;
    // one step per weight unit, at most 20 steps, never more often than every 100 ms
    const steps = Math.min(20, Math.max(1, s.baseWeight));
    const step = Math.max(100, d.spec.slowStartMs / steps);
    const at = since + Math.ceil((input.now - since + 1) / step) * step;
    next = next === undefined ? at : Math.min(next, at);
  }
  return next;
}
