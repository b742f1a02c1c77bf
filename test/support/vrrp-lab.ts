// Two directors on one segment for the VRRP lab tests: the e2e topology (client = this namespace,
// DR web servers rs1/rs2 with the VIP on lo) without the VIP on the director, plus a second
// director namespace. Each director runs `lvsd director run` or keepalived; the VIP moves between
// them. Addresses only from 198.18.0.0/15; every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as controlStatus } from '../../src/director/control-client';
import type { DirectorStatus } from '../../src/director/api';
import { LVSD } from './ipvs-lab';
import { LabTopology, httpThrough, runAsync, waitFor } from './lab-topology';

export { runAsync };

export const VIP = '198.18.0.10';
export const DIRECTOR_A = '198.18.0.2';
export const DIRECTOR_B = '198.18.0.3';

/** keepalived: VRRP only (-P); keepalived-lvs: VRRP and virtual_server with its checker */
export type Runner = 'lvsd' | 'keepalived' | 'keepalived-lvs';

export class DirectorNode {
  readonly dir: string;
  readonly configPath: string;
  readonly socket: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private runs = 0;
  logPath = '';
  runner: Runner = 'lvsd';
  /** tells the lab's watchdog what this node is doing */
  step: (what: string) => void = () => undefined;
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
    this.step(`${this.name}: start ${runner}`);
    this.runner = runner;
    const path = this.configFile();
    writeFileSync(path, config);
    this.logPath = join(this.dir, `${runner}-${++this.runs}.log`);
    const fd = openSync(this.logPath, 'w');
    const pids = ['keepalived.pid', 'vrrp.pid', 'checkers.pid'].map((f) => join(this.dir, f));
    // a killed keepalived leaves its pid files; a new one exits if such a pid now names a live process
    for (const f of pids) rmSync(f, { force: true });
    const args =
      runner === 'lvsd'
        ? [LVSD, 'director', 'run', '-c', path]
        : ['keepalived', ...(runner === 'keepalived' ? ['-P'] : []), '-n', '-l', '-D', '-G', '-f', path, '-p', pids[0], '-r', pids[1], '-c', pids[2]];
    const child = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.proc = child;
  }

  /** Where the current runner reads its config. */
  configFile(): string {
    return this.runner === 'lvsd' ? this.configPath : join(this.dir, 'keepalived.conf');
  }

  /**
   * Writes a new config where the running daemon reads it and sends it SIGHUP, its reload (`ip
   * netns exec` execs the daemon, so the child is the daemon). Returns when the signal went.
   */
  reload(config: string): number {
    if (!this.running) throw new Error(`${this.name} is not running`);
    writeFileSync(this.configFile(), config);
    const at = Date.now();
    this.proc!.kill('SIGHUP');
    return at;
  }

  /** Signals the process and waits for it (SIGKILL after 15 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    this.step(`${this.name}: stop (${signal})`);
    if (this.running) p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    const code = await this.exited!;
    clearTimeout(killer);
    this.proc = undefined;
    return code;
  }

  /** SIGKILL to the process and its children (keepalived's VRRP and checker processes), as a host that dies. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p?.pid && this.running) await runAsync('pkill', ['-KILL', '-P', String(p.pid)]);
    await this.stop('SIGKILL');
  }

  /** The last lines of the current run's log (for failure messages). */
  log(lines = 25): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).slice(-lines).map((l) => `# ${this.name}: ${l}`).join('\n');
    } catch {
      return '';
    }
  }

  /** The namespace has `vip` as a local address (its fib_trie or if_inet6: cheap enough to poll every 50 ms). */
  holdsVip(vip = VIP): boolean {
    if (vip.includes(':')) {
      const hex = ipv6Hex(vip);
      return readFileSync(`/proc/${this.holder.pid}/net/if_inet6`, 'utf8').split('\n').some((l) => l.startsWith(`${hex} `));
    }
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
    this.step(`${this.name}: wait for ${state}`);
    return waitFor(`${this.name} ${state}`, async () => {
      if (!this.running) throw new Error(`${this.name} exited:\n${this.log()}`);
      return (await this.vrrpState(instance)) === state;
    }, ms, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log()}`);
    });
  }

  /**
   * Readies `ip -batch` in the namespace so that the returned function takes eth0 down within a
   * millisecond or so (starting `ip` then would take a variable part of a second under
   * emulation); the function resolves once it is done.
   */
  prepareLinkDown(): () => Promise<void> {
    const ip = spawn('ip', ['-n', this.ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const done = new Promise<void>((resolve, reject) => ip.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ip -batch in ${this.ns} exited ${code}`)))));
    return () => {
      this.step(`${this.name}: link down`);
      ip.stdin!.end('link set eth0 down\n');
      return done;
    };
  }

  /** The veth end outside the namespace: down = this host is gone from the segment. */
  async setLink(up: boolean): Promise<void> {
    this.step(`${this.name}: link ${up ? 'up' : 'down'}`);
    const r = await runAsync('ip', ['-n', this.ns, 'link', 'set', 'eth0', up ? 'up' : 'down']);
    if (r.status !== 0) throw new Error(`ip link set eth0 ${up ? 'up' : 'down'} in ${this.ns}: ${r.stderr}`);
  }
}

/** An IPv6 address as /proc/net/if_inet6 writes it: 32 hex digits. */
function ipv6Hex(address: string): string {
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

export class PairLab {
  readonly topo = new LabTopology({ method: 'dr', servers: 2, vips: [VIP], backend: 'http', vipsOnDirector: false });
  a!: DirectorNode;
  b!: DirectorNode;
  private current = { what: 'build', since: Date.now(), dumped: false };
  private readonly watchdog = setInterval(() => this.checkStuck(), 10_000).unref();

  /** Names what the test does now: a step that lasts over 90 s is reported with what might hold it. */
  step(what: string): void {
    this.current = { what, since: Date.now(), dumped: false };
  }

  private checkStuck(): void {
    const c = this.current;
    const ms = Date.now() - c.since;
    if (c.dumped || ms < 90_000) return;
    c.dumped = true;
    // processes in uninterruptible sleep and where they wait: a kernel lock shows here
    const ps = spawnSync('ps', ['-eo', 'pid,stat,wchan:32,args'], { encoding: 'utf8', timeout: 5000 });
    const stuck = (ps.stdout ?? '').split('\n').filter((l) => / D/.test(l) || /lvsd|ipvsadm|keepalived|ip netns|ip -n/.test(l));
    const stacks = stuck
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => { try { return `${pid}: ${readFileSync(`/proc/${pid}/stack`, 'utf8').split('\n').slice(0, 8).join(' | ')}`; } catch { return ''; } })
      .filter(Boolean);
    console.log(`# STUCK ${Math.round(ms / 1000)} s in "${c.what}"\n# ${stuck.join('\n# ')}\n# ${stacks.join('\n# ')}\n${this.a?.log(15) ?? ''}\n${this.b?.log(15) ?? ''}`);
  }

  async build(): Promise<void> {
    await this.topo.build();
    this.a = new DirectorNode('dir-a', this.topo.directorNs, DIRECTOR_A, this.topo.dir);
    const nsB = this.topo.addNode('dir-b', [`${DIRECTOR_B}/24`]);
    this.b = new DirectorNode('dir-b', nsB, DIRECTOR_B, this.topo.dir);
    this.a.step = this.b.step = (what) => this.step(what);
    // a director may be keepalived, which leaves this at the kernel's 0 (lvsd sets it itself):
    // both kinds then treat a reused client port alike
    for (const ns of [this.a.ns, nsB]) {
      await runAsync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.vs.expire_nodest_conn=1']);
    }
  }

  /** Wraps a test: on failure prints both directors' logs and stops them, so the next test starts clean. */
  guard(fn: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await fn();
      } catch (err) {
        for (const n of [this.a, this.b]) console.log(n.log(40));
        await Promise.all([this.a.kill(), this.b.kill()]);
        await this.a.setLink(true);
        throw err;
      }
    };
  }

  /** The VIP on that director and not on the other. */
  onlyOn(holder: 'a' | 'b'): () => boolean {
    const [mine, other] = holder === 'a' ? [this.a, this.b] : [this.b, this.a];
    return () => mine.holdsVip() && !other.holdsVip();
  }

  async teardown(): Promise<void> {
    clearInterval(this.watchdog);
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
export function keepalivedConfig(vrrp: { priority: number; version: 2 | 3; state?: 'MASTER' | 'BACKUP'; authPass?: string; unicastPeer?: string }): string {
  const auth = vrrp.authPass === undefined ? '' : `  authentication {\n    auth_type PASS\n    auth_pass ${vrrp.authPass}\n  }\n`;
  const unicast = vrrp.unicastPeer === undefined ? '' : `  unicast_src_ip ${DIRECTOR_B}\n  unicast_peer {\n    ${vrrp.unicastPeer}\n  }\n`;
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
${auth}${unicast}  virtual_ipaddress {
    ${VIP}/32
  }
}
`;
}

/** keepalived doing the whole job on one director: the VRRP instance, the sync daemon and the web service with its checks. */
/** A keepalived real_server on port 80 with the HTTP check the lab's lvsd configs use (/health every delay_loop, 2 failures). */
export function keepalivedHttpServer(address: string, weight = 1, inhibitOnFailure = false): string {
  return `  real_server ${address} 80 {
    weight ${weight}
${inhibitOnFailure ? '    inhibit_on_failure\n' : ''}    HTTP_GET {
      url { path /health status_code 200 }
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }`;
}

export function keepalivedLvsConfig(node: DirectorNode, vrrp: { priority: number; version?: 2 | 3 }): string {
  const server = (address: string) => keepalivedHttpServer(address);
  return `global_defs {
  router_id ${node.name}
  vrrp_version ${vrrp.version ?? 3}
  lvs_sync_daemon eth0 VI_1 id 51
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${vrrp.priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/32
  }
}
virtual_server ${VIP} 80 {
  delay_loop 1
  lb_algo rr
  lb_kind DR
  protocol TCP
${server('198.18.0.21')}
${server('198.18.0.22')}
}
`;
}

/**
 * Watches which nodes hold the VIP every `every` ms until stop(): how long both held it at once
 * (the longest overlap) and when each change was seen.
 */
export class VipWatch {
  private running = true;
  longestBoth = 0;
  private bothSince: number | undefined;
  readonly changes: { at: number; holders: string }[] = [];
  private loop: Promise<void>;

  /** bounded: a test that fails before stop() must not keep the process alive */
  constructor(nodes: DirectorNode[], every = 100, maxMs = 120_000) {
    const began = Date.now();
    this.loop = (async () => {
      while (this.running && Date.now() - began < maxMs) {
        const held = nodes.map((n) => n.holdsVip());
        const now = Date.now();
        const holders = nodes.filter((_, i) => held[i]).map((n) => n.name).join('+') || 'none';
        if (this.changes.at(-1)?.holders !== holders) this.changes.push({ at: now, holders });
        if (held.filter(Boolean).length > 1) {
          this.bothSince ??= now;
          this.longestBoth = Math.max(this.longestBoth, now - this.bothSince);
        } else this.bothSince = undefined;
        await new Promise((r) => setTimeout(r, every).unref());
      }
    })();
  }

  async stop(): Promise<void> {
    // the loop ends within one period (clearing its timer would leave the loop waiting forever)
    this.running = false;
    await this.loop;
  }
}

/**
 * New connections through the VIP until stopped, each its own TCP connection: one after another,
 * or (`overlap`) one started every `everyMs` whatever the others do, so an outage's end is seen
 * to within `everyMs` (at most 100 in flight).
 */
export class Requests {
  readonly results: { at: number; ok: boolean; doneAt: number; host?: string; error?: string }[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  constructor(everyMs = 100, maxMs = 60_000, overlap = false) {
    const began = Date.now();
    const inFlight = new Set<Promise<void>>();
    const one = async () => {
      const at = Date.now();
      try {
        const r = await httpThrough(VIP, 80, '/', 2000);
        this.results.push({ at, ok: r.status === 200, doneAt: Date.now(), host: r.body.split(' ')[0] });
      } catch (err) {
        this.results.push({ at, ok: false, doneAt: Date.now(), error: (err as Error).message });
      }
    };
    this.loop = (async () => {
      while (this.running && Date.now() - began < maxMs) {
        if (!overlap) await one();
        else if (inFlight.size < 100) {
          const p = one().finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
      await Promise.all(inFlight);
    })();
  }
  async stop() {
    this.running = false;
    await this.loop;
    return this.results.sort((a, b) => a.at - b.at);
  }
}
