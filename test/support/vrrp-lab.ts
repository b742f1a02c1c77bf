// Two directors on one segment for the VRRP lab tests: the e2e topology (client = this namespace,
// DR web servers rs1/rs2 with the VIP on lo) without the VIP on the director, plus a second
// director namespace. Each director runs `lvsd director run` or keepalived; the VIP moves between
// them. Addresses only from 198.18.0.0/15; every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as controlStatus } from '../../src/director/control-client';
import type { DirectorStatus } from '../../src/director/api';
import { LVSD } from './ipvs-lab';
import { LabTopology, runAsync, waitFor } from './lab-topology';

export { runAsync };

export const VIP = '198.18.0.10';
export const DIRECTOR_A = '198.18.0.2';
export const DIRECTOR_B = '198.18.0.3';

export type Runner = 'lvsd' | 'keepalived';

export class DirectorNode {
  readonly dir: string;
  readonly configPath: string;
  readonly socket: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private runs = 0;
  logPath = '';
  runner: Runner = 'lvsd';
  /** a process that lives in the namespace: its /proc/PID/net is the namespace's, read without a process start */
  private readonly holder: ChildProcess;

  constructor(
    readonly name: string,
    readonly ns: string,
    readonly address: string,
    parent: string,
  ) {
    this.dir = join(parent, name);
    mkdirSync(this.dir, { recursive: true });
    this.configPath = join(this.dir, 'director.yaml');
    this.socket = join(this.dir, 'director.sock');
    this.holder = spawn('ip', ['netns', 'exec', ns, 'sleep', '3600'], { stdio: 'ignore' });
  }

  dispose(): void {
    this.holder.kill('SIGKILL');
  }

  /** The global part of an lvsd config: this node's files, no status page. */
  global(extra = ''): string {
    return `global:\n  state_file: ${join(this.dir, 'state.json')}\n  control: { socket: ${this.socket} }\n  status: { listen: "" }\n${extra}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** `lvsd director run` (config text given) or keepalived -P (VRRP only) in this namespace. */
  start(runner: Runner, config: string): void {
    if (this.running) throw new Error(`${this.name} is running already`);
    this.runner = runner;
    const path = runner === 'lvsd' ? this.configPath : join(this.dir, 'keepalived.conf');
    writeFileSync(path, config);
    this.logPath = join(this.dir, `${runner}-${++this.runs}.log`);
    const fd = openSync(this.logPath, 'w');
    const args =
      runner === 'lvsd'
        ? [LVSD, 'director', 'run', '-c', path]
        : ['keepalived', '-P', '-n', '-l', '-D', '-G', '-f', path, '-p', join(this.dir, 'keepalived.pid'), '-r', join(this.dir, 'vrrp.pid')];
    const child = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.proc = child;
  }

  /** Signals the process and waits for it (SIGKILL after 15 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    if (this.running) p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    const code = await this.exited!;
    clearTimeout(killer);
    this.proc = undefined;
    return code;
  }

  /** The last lines of the current run's log (for failure messages). */
  log(lines = 25): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).slice(-lines).map((l) => `# ${this.name}: ${l}`).join('\n');
    } catch {
      return '';
    }
  }

  /** The namespace has `vip` as a local address (its fib_trie: cheap enough to poll every 50 ms). */
  holdsVip(vip = VIP): boolean {
    const trie = readFileSync(`/proc/${this.holder.pid}/net/fib_trie`, 'utf8');
    return new RegExp(`\\|-- ${vip.replace(/\./g, '\\.')}\\n\\s+/32 host LOCAL`).test(trie);
  }

  /** The daemon's status over its control socket (undefined while it does not answer). */
  async status(): Promise<DirectorStatus | undefined> {
    return controlStatus({ socket: this.socket }).catch(() => undefined);
  }

  async vrrpState(instance = 'VI_1'): Promise<string | undefined> {
    const st = await this.status();
    return st?.vrrp?.find((v) => v.name === instance)?.state;
  }

  async waitState(state: string, ms = 30_000, instance = 'VI_1'): Promise<number> {
    return waitFor(`${this.name} ${state}`, async () => {
      if (!this.running) throw new Error(`${this.name} exited:\n${this.log()}`);
      return (await this.vrrpState(instance)) === state;
    }, ms, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log()}`);
    });
  }

  /** The veth end outside the namespace: down = this host is gone from the segment. */
  async setLink(up: boolean): Promise<void> {
    const r = await runAsync('ip', ['-n', this.ns, 'link', 'set', 'eth0', up ? 'up' : 'down']);
    if (r.status !== 0) throw new Error(`ip link set eth0 ${up ? 'up' : 'down'} in ${this.ns}: ${r.stderr}`);
  }
}

export class PairLab {
  readonly topo = new LabTopology({ method: 'dr', servers: 2, vips: [VIP], backend: 'http', vipsOnDirector: false });
  a!: DirectorNode;
  b!: DirectorNode;

  async build(): Promise<void> {
    await this.topo.build();
    this.a = new DirectorNode('dir-a', this.topo.directorNs, DIRECTOR_A, this.topo.dir);
    const nsB = this.topo.addNode('dir-b', [`${DIRECTOR_B}/24`]);
    this.b = new DirectorNode('dir-b', nsB, DIRECTOR_B, this.topo.dir);
    for (const ns of [this.a.ns, nsB]) {
      await runAsync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.vs.expire_nodest_conn=1']);
    }
  }

  async teardown(): Promise<void> {
    await Promise.all([this.a?.stop('SIGKILL'), this.b?.stop('SIGKILL')].map((p) => p?.catch(() => undefined)));
    this.a?.dispose();
    this.b?.dispose();
    await this.topo.teardown();
  }
}

/** An lvsd director config: the web service over DR, the checks, and one VRRP instance. */
export function lvsdConfig(node: DirectorNode, vrrp: { priority: number; version?: 2 | 3; extra?: string; scripts?: string; services?: string; sync?: boolean }): string {
  const sync = vrrp.sync === false ? '' : '  sync_daemon: { interface: eth0, sync_id: 51, instance: VI_1 }\n';
  return `${node.global(sync)}check_defaults: { interval: 1s, timeout: 500ms, rise: 1, fall: 2 }
services:
  - name: web
    address: ${VIP}
    port: 80
    scheduler: rr
    forward: route
    checks: [{ type: http, path: /health, expect_status: [200] }]
    servers: [{ address: 198.18.0.21 }, { address: 198.18.0.22 }]
${vrrp.services ?? ''}vrrp:
  version: ${vrrp.version ?? 3}
${vrrp.scripts ?? ''}  instances:
    - name: VI_1
      interface: eth0
      vrid: 51
      priority: ${vrrp.priority}
      advert_interval: 1s
      addresses: [${VIP}/32]
${vrrp.extra ?? ''}`;
}

/** An lvsd vrrp instance's auth_pass_file line, the file written (mode 0600) in the node's directory. */
export function lvsdAuthPass(node: DirectorNode, password: string): string {
  const file = join(node.dir, 'vrrp.pass');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return `      auth_pass_file: ${file}\n`;
}

/** A keepalived config with the same instance (VRRP only); `authPass`: auth_type PASS with it. */
export function keepalivedConfig(vrrp: { priority: number; version: 2 | 3; state?: 'MASTER' | 'BACKUP'; authPass?: string }): string {
  const auth = vrrp.authPass === undefined ? '' : `  authentication {\n    auth_type PASS\n    auth_pass ${vrrp.authPass}\n  }\n`;
  return `global_defs {
  router_id lab_b
  vrrp_version ${vrrp.version}
}
vrrp_instance VI_1 {
  state ${vrrp.state ?? 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${vrrp.priority}
  advert_int 1
${auth}  virtual_ipaddress {
    ${VIP}/32
  }
}
`;
}

/**
 * Watches which nodes hold the VIP every `every` ms until stop(): how long both held it at once
 * (the longest overlap) and when each change was seen.
 */
export class VipWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = true;
  longestBoth = 0;
  private bothSince: number | undefined;
  readonly changes: { at: number; holders: string }[] = [];
  private loop: Promise<void>;

  constructor(nodes: DirectorNode[], every = 100) {
    this.loop = (async () => {
      while (this.running) {
        const held = nodes.map((n) => n.holdsVip());
        const now = Date.now();
        const holders = nodes.filter((_, i) => held[i]).map((n) => n.name).join('+') || 'none';
        if (this.changes.at(-1)?.holders !== holders) this.changes.push({ at: now, holders });
        if (held.filter(Boolean).length > 1) {
          this.bothSince ??= now;
          this.longestBoth = Math.max(this.longestBoth, now - this.bothSince);
        } else this.bothSince = undefined;
        await new Promise((r) => (this.timer = setTimeout(r, every)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
  }
}
