// A DirectorControl over plain data, for the transport tests (control socket, status endpoint,
// CLI): it keeps a DirectorStatus, applies drain/enable/weight to it the way the contract says
// (match by selector, override, weight), and records every call so a test sees what arrived.
import type { ControlResult, CountersView, DirectorControl, DirectorStatus, ReloadResult, ServerSelector, ServerView, ServiceView, VrrpInstanceView } from '../../src/director/api';

export function counters(over: Partial<CountersView> = {}): CountersView {
  return { conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0, ...over };
}

const T0 = Date.parse('2026-12-06T10:00:00Z');

/**
 * Two services as an operator would see them: one server down with a reason, one drained.
 * Times count from t0 (the director started at t0, the status is about an hour later).
 */
export function sampleStatus(t0 = T0): DirectorStatus {
  const iso = (secondsAfterT0: number): string => new Date(t0 + secondsAfterT0 * 1000).toISOString();
  const server = (name: string, address: string, port: number, over: Partial<ServerView>): ServerView => ({
    name,
    address,
    port,
    forward: 'route',
    state: 'up',
    health: 'up',
    configuredWeight: 1,
    weight: 1,
    kernelWeight: 1,
    activeConns: 0,
    inactiveConns: 0,
    persistentConns: 0,
    counters: counters(),
    checks: [],
    lastTransitionAt: iso(0),
    ...over,
  });
  const mysqlRead: ServiceView = {
    name: 'mysql-read',
    address: '198.18.0.10:3306/tcp',
    scheduler: 'wlc',
    persistence: 300,
    upWeight: 5,
    quorum: { weight: 2, hysteresis: 1, met: true },
    sorryServerActive: false,
    counters: counters({ conns: 123456, inPackets: 1000, outPackets: 900, inBytes: 5_000_000, outBytes: 70_000_000, cps: 12, inBps: 2048, outBps: 40960 }),
    servers: [
      server('198.18.0.21:3306', '198.18.0.21', 3306, {
        configuredWeight: 3,
        weight: 3,
        kernelWeight: 3,
        activeConns: 17,
        inactiveConns: 42,
        persistentConns: 5,
        counters: counters({ conns: 100000, inBytes: 4_000_000, outBytes: 60_000_000, cps: 9 }),
        checks: [{ kind: 'mysql', target: '198.18.0.21:3306', state: 'up', lastReason: 'replica lag 0 s', lastLatencyMs: 1.8, lastAt: iso(3595) }],
      }),
      server('198.18.0.22:3306', '198.18.0.22', 3306, {
        configuredWeight: 2,
        weight: 2,
        kernelWeight: 2,
        activeConns: 9,
        inactiveConns: 31,
        counters: counters({ conns: 23456, inBytes: 1_000_000, outBytes: 10_000_000 }),
        checks: [{ kind: 'tcp', target: '198.18.0.22:3306', state: 'up', lastReason: 'connected', lastLatencyMs: 0.4, lastAt: iso(3597) }],
        lastTransitionAt: iso(3000),
      }),
      server('198.18.0.23:3306', '198.18.0.23', 3306, {
        state: 'down',
        health: 'down',
        configuredWeight: 2,
        weight: 0,
        kernelWeight: 0,
        checks: [
          { kind: 'tcp', target: '198.18.0.23:3306', state: 'up', lastReason: 'connected', lastLatencyMs: 0.3, lastAt: iso(3598) },
          { kind: 'mysql', target: '198.18.0.23:3306', state: 'down', lastReason: 'replica lag 412 s > 60 s <script>window.__xss=1</script>', lastLatencyMs: 2.5, lastAt: iso(3598) },
        ],
        lastTransitionAt: iso(3540),
      }),
    ],
  };
  const web: ServiceView = {
    name: 'web',
    address: '[2001:db8::10]:80/tcp',
    scheduler: 'rr',
    upWeight: 1,
    sorryServerActive: false,
    counters: counters({ conns: 50, inBytes: 1000, outBytes: 20000 }),
    servers: [
      server('[2001:db8::31]:80', '2001:db8::31', 80, {
        activeConns: 2,
        inactiveConns: 3,
        checks: [{ kind: 'http', target: 'GET http://[2001:db8::31]:80/health', state: 'up', lastReason: 'HTTP 200', lastLatencyMs: 3.2, lastAt: iso(3599) }],
      }),
      server('[2001:db8::32]:80', '2001:db8::32', 80, {
        state: 'drained',
        weight: 0,
        kernelWeight: 0,
        override: { kind: 'drain' },
        checks: [{ kind: 'http', target: 'GET http://[2001:db8::32]:80/health', state: 'up', lastReason: 'HTTP 200', lastLatencyMs: 2.9, lastAt: iso(3599) }],
      }),
    ],
  };
  return {
    version: '0.1.0',
    pid: 4242,
    startedAt: iso(0),
    config: { path: '/etc/lvsd/director.yaml', loadedAt: iso(1800) },
    reloads: { ok: 1, failed: 0 },
    lastReload: { at: iso(1800), ok: true },
    reconcile: { lastAt: iso(3590), opsTotal: 321, lastOps: 0, failuresTotal: 2 },
    services: [mysqlRead, web],
    vrrp: [sampleVrrpInstance(iso(3000))],
  };
}

/** MASTER for the last 10 minutes with a tracked priority drop, a misconfigured peer's adverts dropped and send errors. */
export function sampleVrrpInstance(since: string): VrrpInstanceView {
  return {
    name: 'VI_1',
    interface: 'eth0',
    vrid: 60,
    version: 2,
    family: 4,
    authentication: 'simple-password',
    state: 'master',
    priority: 100,
    effectivePriority: 90,
    addresses: ['198.18.0.10/32'],
    since,
    faults: [],
    adjustments: { 'service mysql-read': -10 },
    counters: {
      advertsSent: 3000,
      advertsReceived: 12,
      advertsRejected: 3,
      transitions: 2,
      becameMaster: 1,
      priorityZeroSent: 0,
      priorityZeroReceived: 1,
      received: 12,
      invalid: { addresses: 3, ttl: 1 },
      sendErrors: 2,
    },
  };
}

export type Call = { op: 'drain' | 'enable' | 'weight' | 'reload'; sel?: ServerSelector; weight?: number };

export class PlainDirector implements DirectorControl {
  readonly calls: Call[] = [];
  /** what the next reload answers */
  nextReload: ReloadResult = { ok: true, ops: 0 };

  constructor(public data: DirectorStatus = sampleStatus()) {}

  status(): DirectorStatus {
    return this.data;
  }

  async drain(sel: ServerSelector): Promise<ControlResult> {
    this.calls.push({ op: 'drain', sel });
    return this.apply('drained', sel, (s) => {
      s.override = { kind: 'drain' };
      s.state = 'drained';
      s.weight = 0;
    });
  }

  async enable(sel: ServerSelector): Promise<ControlResult> {
    this.calls.push({ op: 'enable', sel });
    return this.apply('enabled', sel, (s) => {
      delete s.override;
      s.state = s.health === 'up' ? 'up' : 'down';
      s.weight = s.health === 'up' ? s.configuredWeight : 0;
    });
  }

  async setWeight(sel: ServerSelector, weight: number): Promise<ControlResult> {
    this.calls.push({ op: 'weight', sel, weight });
    return this.apply(`weight ${weight} for`, sel, (s) => {
      s.override = { kind: 'weight', weight };
      if (s.health === 'up') s.weight = weight;
    });
  }

  async reload(): Promise<ReloadResult> {
    this.calls.push({ op: 'reload' });
    return this.nextReload;
  }

  private apply(verb: string, sel: ServerSelector, change: (s: ServerView) => void): ControlResult {
    const matched: string[] = [];
    for (const svc of this.data.services) {
      if (sel.service !== undefined && sel.service !== svc.name && sel.service !== svc.address) continue;
      for (const s of svc.servers) {
        if (sel.server !== s.name && sel.server !== s.address) continue;
        change(s);
        matched.push(`${svc.name}/${s.name}`);
      }
    }
    if (matched.length === 0) return { ok: false, message: `no server matches ${sel.server}${sel.service ? ` in ${sel.service}` : ''}`, matched };
    return { ok: true, message: `${verb} ${matched.join(', ')}`, matched };
  }
}
