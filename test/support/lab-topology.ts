// The end-to-end lab topology, for tests, the demo and benchmarks (run inside the kernel lab
// guest, as root, in the test file's own network namespace):
//
//   this namespace = the client: a bridge with 198.18.0.100/24 and 2001:db8::100/64
//   director ns   : eth0 on the bridge, 198.18.0.2 + the VIPs; `lvsd director run -c CONFIG`
//   real server ns: eth0 on the bridge (dr, tun) or on a second bridge behind the director (nat),
//                   `lvsd realserver up` (dr, tun), a real mariadbd (own UTS namespace, so
//                   `SELECT @@hostname` names the server) or a node HTTP server with its own body.
//
// Addresses only from 198.18.0.0/15 and 2001:db8::/32. Every wait is bounded; teardown() kills
// every process it started and deletes every namespace and link it made.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mariadb from 'mariadb';
import YAML from 'yaml';
import { LVSD } from './ipvs-lab';

export type Method = 'dr' | 'nat' | 'tun';

export const CLIENT = '198.18.0.100';
export const CLIENT6 = '2001:db8::100';
export const DIRECTOR = '198.18.0.2';
export const DIRECTOR6 = '2001:db8::2';
/** the director's side of the NAT servers' segment: their gateway */
export const NAT_GATEWAY = '198.19.1.1';
export const APP_USER = 'app';
export const APP_PASSWORD = 'app-secret-e2e';
export const CHECK_USER = 'lvs_check';
export const CHECK_PASSWORD = 'check-secret-e2e';

export interface TopologyOptions {
  method: Method;
  /** real servers, named rs1..rsN */
  servers: number;
  /** the VIPs the director answers for and the real servers hold (dr, tun) */
  vips: string[];
  backend: 'mariadb' | 'http';
  /** HTTP backend port (default 80) */
  httpPort?: number;
  /** mariadb backend: the servers form one Galera cluster (galera-4, gcomm between their addresses) */
  galera?: boolean;
  /** false: the director does not hold the VIPs (VRRP adds them); default true */
  vipsOnDirector?: boolean;
}

/** Debian galera-4's provider (`dpkg -L galera-4`) */
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

export interface RealServerNode {
  name: string;
  ns: string;
  address: string;
  address6?: string;
  /** the backend process (mariadbd or node), undefined while stopped */
  proc?: ChildProcess;
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `every` ms until it holds or `ms` passes; returns the time it took. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000, every = 20): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Reads the real servers' weights of an IPVS table from /proc/PID/net/ip_vs ("addr:port" -> weight). */
export function weightsFromProc(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s+->\s+(\S+)\s+\S+\s+(\d+)\s+\d+\s+\d+/.exec(line);
    if (m) out.set(hexEndpoint(m[1]), Number(m[2]));
  }
  return out;
}

/**
 * One service's real-server weights ("addr:port" -> weight, in the kernel's list order) from
 * /proc/PID/net/ip_vs; `service` is "addr:port" ("[v6]:port"). weightsFromProc merges every
 * service, which hides a server that is in two services at the same port.
 */
export function serviceWeightsFromProc(text: string, service: string): Map<string, number> {
  const out = new Map<string, number>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const svc = /^(?:TCP|UDP|SCTP)\s+(\S+)\s/.exec(line);
    if (svc) current = hexEndpoint(svc[1]);
    else if (/^FWM\s/.test(line)) current = undefined;
    const m = /^\s+->\s+(\S+)\s+\S+\s+(\d+)\s+\d+\s+\d+/.exec(line);
    if (m && current === service) out.set(hexEndpoint(m[1]), Number(m[2]));
  }
  return out;
}

function hexEndpoint(s: string): string {
  const v6 = /^\[([0-9a-f:]+)\]:([0-9A-F]+)$/i.exec(s);
  if (v6) {
    const groups = v6[1].split(':').map((g) => parseInt(g, 16).toString(16));
    return `[${compress6(groups)}]:${parseInt(v6[2], 16)}`;
  }
  const [a, p] = s.split(':');
  const n = parseInt(a, 16);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}:${parseInt(p, 16)}`;
}

function compress6(groups: string[]): string {
  // the longest run of zero groups becomes "::"
  let best = -1;
  let len = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > len && j - i > 1) [best, len] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + len).join(':')}`;
}

let topologies = 0;

export class LabTopology {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvsd-e2e-'));
  /** unique per topology in this process: two may exist one after the other in a test file */
  readonly id = `${process.pid % 10000}${topologies++}`;
  readonly prefix = `e2e${this.id}`;
  readonly directorNs = `${this.prefix}-dir`;
  /** the client's segment (the client is this namespace) and, for NAT, the servers' segment */
  readonly br0 = `e${this.id}br0`;
  readonly br1 = `e${this.id}br1`;
  readonly servers: RealServerNode[] = [];
  readonly configPath = join(this.dir, 'director.yaml');
  readonly socket = join(this.dir, 'director.sock');
  readonly stateFile = join(this.dir, 'state.json');
  readonly passwordFile = join(this.dir, 'mysql-check.password');
  directorProc: ChildProcess | undefined;
  directorLog: string[] = [];
  private directorExit: Promise<number | null> | undefined;
  private holder: ChildProcess | undefined;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  /** the bridge-side end of each addNode namespace's eth0 */
  private readonly ports = new Map<string, string>();
  private readonly procs = new Set<ChildProcess>();
  /** ms spent per set-up step, for the reports */
  readonly timings: Record<string, number> = {};

  constructor(readonly opts: TopologyOptions) {
    chmodSync(this.dir, 0o755); // mariadbd (user mysql) reads its files below it
  }

  serverAddress(i: number): string {
    return this.opts.method === 'nat' ? `198.19.1.${20 + i}` : `198.18.0.${20 + i}`;
  }

  serverAddress6(i: number): string {
    return `2001:db8::${20 + i}`;
  }

  /** Namespaces, links, addresses, realserver set-up and backends; then waits for every backend. */
  async build(): Promise<void> {
    for (const mod of ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ipip', 'veth', 'bridge']) spawnSync('modprobe', [mod]);
    let t = Date.now();
    // `ip -batch`: one process for this namespace's side and one per namespace (a process start
    // costs about a second under emulation)
    const root: string[] = [];
    const inside = new Map<string, string[]>();
    const addr = (a: string, dev: string) => `addr add ${a} dev ${dev}${a.includes(':') ? ' nodad' : ''}`;
    const addNs = (ns: string) => {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); // a leftover of a crashed run
      root.push(`netns add ${ns}`);
      this.namespaces.push(ns);
      inside.set(ns, ['link set lo up']);
    };
    const bridge = (name: string, addrs: string[]) => {
      root.push(`link add ${name} type bridge forward_delay 0`, ...addrs.map((a) => addr(a, name)), `link set ${name} up`);
      this.links.push(name);
    };
    const plug = (ns: string, br: string, ifname: string, addrs: string[]) => {
      const outside = `e${this.id}v${this.links.length}`;
      this.links.push(outside);
      root.push(`link add ${outside} type veth peer name ${ifname} netns ${ns}`, `link set ${outside} master ${br} up`);
      inside.get(ns)!.push(...addrs.map((a) => addr(a, ifname)), `link set ${ifname} up`);
    };

    addNs(this.directorNs);
    bridge(this.br0, [`${CLIENT}/24`, `${CLIENT6}/64`]);
    plug(this.directorNs, this.br0, 'eth0', [`${DIRECTOR}/24`, `${DIRECTOR6}/64`]);
    // An IPv6 VIP goes on as deprecated (preferred_lft 0): it still takes the clients' traffic,
    // but source selection (RFC 6724 rule 3) no longer picks it for the director's own
    // connections. As a preferred /128 it wins rule 8 (longest match, capped at the prefix
    // length: 122 bits against the /64's 64), so the health checks to 2001:db8::21 and ::22 left
    // from the VIP, and each real server, which holds the VIP on lo, answered itself (seen in the
    // lab: `ip -6 route get 2001:db8::22` gave src 2001:db8::11; the check never passed).
    if (this.opts.vipsOnDirector !== false) inside.get(this.directorNs)!.push(...this.opts.vips.map((vip) => (vip.includes(':') ? `${addr(`${vip}/128`, 'eth0')} preferred_lft 0` : addr(`${vip}/32`, 'eth0'))));
    if (this.opts.method === 'nat') {
      bridge(this.br1, []);
      plug(this.directorNs, this.br1, 'eth1', [`${NAT_GATEWAY}/24`]);
    }
    for (let i = 1; i <= this.opts.servers; i++) {
      const name = `rs${i}`;
      const ns = `${this.prefix}-${name}`;
      const node: RealServerNode = { name, ns, address: this.serverAddress(i), dir: join(this.dir, name) };
      mkdirSync(node.dir);
      addNs(ns);
      if (this.opts.method === 'nat') {
        plug(ns, this.br1, 'eth0', [`${node.address}/24`]);
        inside.get(ns)!.push(`route add default via ${NAT_GATEWAY}`);
      } else {
        node.address6 = this.serverAddress6(i);
        plug(ns, this.br0, 'eth0', [`${node.address}/24`, `${node.address6}/64`]);
      }
      this.servers.push(node);
    }
    sh('ip', ['-batch', '-'], root.join('\n') + '\n');
    for (const [ns, lines] of inside) sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
    if (this.opts.method === 'nat') this.inNs(this.directorNs, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    // Nothing set by hand: the director sets net.ipv4.vs.expire_nodest_conn=1 itself (a default of
    // global.ipvs_sysctl). Without it a client that reuses a source port still in the table is
    // sent to the same real server, even one at weight 0 (seen here: ECONNREFUSED after a drain).
    // a long-lived process in the director's namespace: its /proc/PID/net/ip_vs is the table
    this.holder = this.spawnTracked('ip', ['netns', 'exec', this.directorNs, 'sleep', '3600']);
    if (this.opts.method !== 'nat') {
      const vips = this.opts.method === 'tun' ? this.opts.vips.filter((v) => !v.includes(':')) : this.opts.vips;
      const results = await Promise.all(
        this.servers.map((node) =>
          runAsync('ip', ['netns', 'exec', node.ns, LVSD, 'realserver', 'up', '--mode', this.opts.method, ...vips.flatMap((v) => ['--vip', v]), '--state', join(node.dir, 'realserver.json')]),
        ),
      );
      results.forEach((r, i) => {
        if (r.status !== 0) throw new Error(`lvsd realserver up on ${this.servers[i].name} exited ${r.status}: ${r.stderr.trim()}`);
      });
    }
    this.timings.network = Date.now() - t;
    t = Date.now();
    if (this.opts.backend === 'mariadb') {
      await this.mariadbTemplate();
      this.timings.mariadbInstall = Date.now() - t;
      t = Date.now();
      if (this.opts.galera) await this.galeraBootstrap();
      else await Promise.all(this.servers.map((s) => this.startBackend(s, true)));
      this.timings.mariadbStart = Date.now() - t;
    } else {
      await Promise.all(this.servers.map((s) => this.startBackend(s, true)));
      this.timings.httpStart = Date.now() - t;
    }
  }

  /**
   * One more namespace on the client's segment (a second director, say): eth0 with `addrs`,
   * deleted by teardown() like the others.
   */
  addNode(name: string, addrs: string[]): string {
    const ns = `${this.prefix}-${name}`;
    const outside = `e${this.id}v${this.links.length}`;
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.links.push(outside);
    sh('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh('ip', ['link', 'set', outside, 'master', this.br0, 'up']);
    this.ports.set(ns, outside);
    const lines = ['link set lo up', ...addrs.map((a) => `addr add ${a} dev eth0${a.includes(':') ? ' nodad' : ''}`), 'link set eth0 up'];
    sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
    return ns;
  }

  /**
   * Unplugs an addNode namespace from the bridge, or plugs it back: the cable is cut, the node's
   * own interface stays up (its carrier does not drop).
   */
  setBridged(ns: string, on: boolean): void {
    const port = this.ports.get(ns);
    if (!port) throw new Error(`${ns} was not added with addNode`);
    sh('ip', ['link', 'set', port, ...(on ? ['master', this.br0] : ['nomaster'])]);
  }

  /** Runs a command in a namespace; throws with its stderr on failure. */
  inNs(ns: string, cmd: string, args: string[], input?: string): string {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** Runs a command in a namespace; never throws on a non-zero exit. */
  inNsResult(ns: string, cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  private spawnTracked(cmd: string, args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const child = spawn(cmd, args, { stdio: ['ignore', stdout, 'ignore'] });
    this.procs.add(child);
    child.once('exit', () => this.procs.delete(child));
    return child;
  }

  // ---- MariaDB -------------------------------------------------------------------------------

  private template = '';

  /** One mariadb-install-db, copied per server (bootstrap under emulation is the slow part). */
  private async mariadbTemplate(): Promise<void> {
    this.template = join(this.dir, 'template');
    mkdirSync(this.template);
    const { uid, gid } = mysqlUser();
    chownSync(this.template, uid, gid);
    execFileSync(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${this.template}`, '--user=mysql', '--auth-root-authentication-method=socket', '--skip-test-db', '--skip-name-resolve'],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
    );
    // users for the client and for the director's check; the client's grant names its subnet,
    // so a login through the VIP works only when the server sees the client's own address
    const init = join(this.dir, 'init.sql');
    writeFileSync(
      init,
      [
        `CREATE USER IF NOT EXISTS '${APP_USER}'@'198.18.0.%' IDENTIFIED BY '${APP_PASSWORD}';`,
        `CREATE USER IF NOT EXISTS '${APP_USER}'@'2001:db8::%' IDENTIFIED BY '${APP_PASSWORD}';`,
        `GRANT SELECT, PROCESS ON *.* TO '${APP_USER}'@'198.18.0.%';`,
        `GRANT SELECT, PROCESS ON *.* TO '${APP_USER}'@'2001:db8::%';`,
        `CREATE USER IF NOT EXISTS '${CHECK_USER}'@'${DIRECTOR}' IDENTIFIED BY '${CHECK_PASSWORD}';`,
        `CREATE USER IF NOT EXISTS '${CHECK_USER}'@'${NAT_GATEWAY}' IDENTIFIED BY '${CHECK_PASSWORD}';`,
        `GRANT USAGE ON *.* TO '${CHECK_USER}'@'${DIRECTOR}';`,
        `GRANT USAGE ON *.* TO '${CHECK_USER}'@'${NAT_GATEWAY}';`,
        '',
      ].join('\n'),
    );
    chmodSync(init, 0o644);
    writeFileSync(this.passwordFile, CHECK_PASSWORD, { mode: 0o600 });
  }

  socketOf(s: RealServerNode): string {
    return join(s.dir, 'mysqld.sock');
  }

  private datadirOf(s: RealServerNode): string {
    return join(s.dir, 'data');
  }

  /** The server's own tmpdir and a copy of the datadir `from`. */
  private seedDatadir(s: RealServerNode, from: string): void {
    const { uid, gid } = mysqlUser();
    const tmp = join(s.dir, 'tmp');
    mkdirSync(tmp);
    chownSync(tmp, uid, gid);
    cpSync(from, this.datadirOf(s), { recursive: true });
    chownTree(this.datadirOf(s), uid, gid);
    chownSync(s.dir, uid, gid);
  }

  /**
   * Starts the server's backend; `fresh` copies the MariaDB datadir template first. A Galera
   * node joins the cluster of the others (gcomm:// every server) unless `galera` says 'new-cluster'.
   */
  async startBackend(s: RealServerNode, fresh = false, galera: 'join' | 'new-cluster' = 'join'): Promise<void> {
    if (this.opts.backend === 'http') return this.startHttp(s);
    const datadir = this.datadirOf(s);
    const tmp = join(s.dir, 'tmp');
    if (fresh) this.seedDatadir(s, this.template);
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=mysql',
      `--socket=${this.socketOf(s)}`,
      '--port=3306',
      '--bind-address=*',
      `--pid-file=${join(s.dir, 'mysqld.pid')}`,
      `--log-error=${join(s.dir, 'error.log')}`,
      // a Galera node gets its users from the cluster's first start only: the init file's
      // statements would otherwise run on a node that has not joined yet
      ...(this.opts.galera && !fresh ? [] : [`--init-file=${join(this.dir, 'init.sql')}`]),
      // its own tmpdir: a mariadbd starting up deletes #sql* files in its tmpdir, and the servers
      // share one /tmp (seen: a query on rs2 failed "Error on delete of '/tmp/#sql-temptable-...'"
      // when rs1 restarted)
      `--tmpdir=${tmp}`,
      `--server-id=${s.name.slice(2)}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=16M',
      '--max-connections=500',
      '--performance-schema=OFF',
      ...(this.opts.galera ? this.galeraArgs(s, galera) : []),
    ];
    // its own UTS namespace: @@hostname is the kernel's hostname, so each server names itself
    s.proc = this.spawnTracked('ip', ['netns', 'exec', s.ns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec mariadbd "$@"', s.name, ...args]);
    const proc = s.proc;
    await waitFor(
      `mariadbd on ${s.name}`,
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`mariadbd on ${s.name} exited:\n${this.errorLog(s).split('\n').slice(-10).join('\n')}`);
        const c = await mariadb.createConnection({ socketPath: this.socketOf(s), user: 'root', connectTimeout: 1000 }).catch(() => undefined);
        if (!c) return false;
        await c.end();
        return true;
      },
      90_000,
      100,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${this.errorLog(s).split('\n').slice(-10).join('\n')}`);
    });
  }

  /** A Galera node's wsrep options: group communication, IST and SST on the node's own address. */
  private galeraArgs(s: RealServerNode, start: 'join' | 'new-cluster'): string[] {
    return [
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-address=gcomm://${this.servers.map((x) => x.address).join(',')}`,
      ...(start === 'new-cluster' ? ['--wsrep-new-cluster'] : []),
      '--wsrep-cluster-name=lvsd-e2e',
      `--wsrep-node-name=${s.name}`,
      `--wsrep-node-address=${s.address}`,
      `--wsrep-provider-options=gmcast.listen_addr=tcp://${s.address}:4567;ist.recv_addr=${s.address}:4568;gcache.size=16M`,
      // only if a node ever needs a full state transfer: the start below avoids one
      '--wsrep-sst-method=rsync',
      `--wsrep-sst-receive-address=${s.address}:4444`,
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
    ];
  }

  /**
   * A Galera cluster of every server without a full state transfer (an SST under emulation costs
   * minutes): rs1 bootstraps a new cluster from the template (the init file makes the users) and
   * stops cleanly, which leaves the cluster's UUID and seqno in grastate.dat; every other server
   * starts from a copy of that datadir, so it joins with nothing (or an IST) to transfer.
   */
  private async galeraBootstrap(): Promise<void> {
    const [first, ...rest] = this.servers;
    let t = Date.now();
    await this.startBackend(first, true, 'new-cluster');
    await this.galeraSynced(first, 1);
    await this.killBackend(first, 'SIGTERM');
    this.timings.galeraSeed = Date.now() - t;
    for (const s of rest) this.seedDatadir(s, this.datadirOf(first));
    t = Date.now();
    await this.startBackend(first, false, 'new-cluster');
    await this.galeraSynced(first, 1);
    this.timings.galeraBootstrap = Date.now() - t;
    t = Date.now();
    await Promise.all(rest.map((s) => this.startBackend(s, false)));
    await Promise.all(this.servers.map((s) => this.galeraSynced(s, this.servers.length)));
    this.timings.galeraJoin = Date.now() - t;
  }

  /** A Galera node's wsrep status variables (over the root socket). */
  async wsrepStatus(s: RealServerNode): Promise<Record<string, string>> {
    const rows = (await this.sql(s, "SHOW GLOBAL STATUS LIKE 'wsrep%'")) as { Variable_name: string; Value: string }[];
    return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
  }

  /** Waits until the node is Synced, ready, Primary, in a cluster of at least `size`; bounded. */
  async galeraSynced(s: RealServerNode, size: number, ms = 120_000): Promise<number> {
    let last = 'no answer yet';
    return waitFor(
      `Galera node ${s.name} Synced in a Primary cluster of ${size}`,
      async () => {
        const p = s.proc;
        if (!p || p.exitCode !== null || p.signalCode !== null) throw new Error(`mariadbd on ${s.name} exited:\n${this.errorLog(s).split('\n').slice(-15).join('\n')}`);
        const st = await this.wsrepStatus(s).catch((e: Error) => ({ error: e.message }) as Record<string, string>);
        last = JSON.stringify(st.error ? st : { state: st.wsrep_local_state_comment, ready: st.wsrep_ready, status: st.wsrep_cluster_status, size: st.wsrep_cluster_size });
        return st.wsrep_local_state === '4' && st.wsrep_ready === 'ON' && st.wsrep_cluster_status === 'Primary' && Number(st.wsrep_cluster_size) >= size;
      },
      ms,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${last})\n${this.errorLog(s).split('\n').slice(-15).join('\n')}`);
    });
  }

  /** One statement as root over the server's unix socket. */
  async sql(s: RealServerNode, statement: string): Promise<unknown> {
    const c = await mariadb.createConnection({ socketPath: this.socketOf(s), user: 'root', connectTimeout: 5000 });
    try {
      return await c.query(statement);
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  errorLog(s: RealServerNode): string {
    try {
      return readFileSync(join(s.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the backend: SIGKILL is a crash (refused at once), SIGTERM a clean shutdown as `systemctl stop` does. */
  async killBackend(s: RealServerNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = s.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    s.proc = undefined;
  }

  private async startHttp(s: RealServerNode): Promise<void> {
    const port = this.opts.httpPort ?? 80;
    // the body names the server; /health answers with the status in the file HEALTH (200 by default)
    const script = `
      const fs = require('fs'); const http = require('http');
      // idle keep-alive connections live 75 s as nginx's do (node's default 5 s would end the
      // long-lived connections that failover tests carry through a takeover)
      const server = http.createServer((req, res) => {
        let code = 200; try { code = Number(fs.readFileSync(${JSON.stringify(join(s.dir, 'HEALTH'))}, 'utf8')) || 200; } catch {}
        if (req.url === '/health') { res.writeHead(code); res.end(code === 200 ? 'OK' : 'FAIL'); return; }
        res.writeHead(200, { 'content-type': 'text/plain' }); res.end(${JSON.stringify(s.name)} + ' ' + req.socket.remoteAddress + '\\n');
      });
      server.keepAliveTimeout = 75000;
      server.listen(${port}, '::', () => console.log('listening'));`;
    const proc = this.spawnTracked('ip', ['netns', 'exec', s.ns, process.execPath, '-e', script], 'pipe');
    s.proc = proc;
    let listening = false;
    proc.stdout!.on('data', (b: Buffer) => (listening ||= b.toString().includes('listening')));
    await waitFor(`http on ${s.name}`, () => {
      if (proc.exitCode !== null) throw new Error(`http server on ${s.name} exited`);
      return listening;
    }, 30_000, 50);
  }

  /** HTTP backend: /health answers `code` from now on. */
  setHealth(s: RealServerNode, code: number): void {
    writeFileSync(join(s.dir, 'HEALTH'), String(code));
  }

  // ---- the director --------------------------------------------------------------------------

  /**
   * Writes the director config from an example file: the example as it is, except where this lab
   * keeps its files (state file, control socket, check password files) and the servers' list when
   * `edit` changes it.
   */
  writeConfig(example: string, edit?: (doc: Record<string, any>) => void): string {
    const doc = YAML.parse(readFileSync(example, 'utf8')) as Record<string, any>;
    doc.global ??= {};
    doc.global.state_file = this.stateFile;
    doc.global.control = { ...(doc.global.control ?? {}), socket: this.socket };
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.password_file === 'string') o.password_file = this.passwordFile;
        Object.values(o).forEach(walk);
      }
    };
    walk(doc.services);
    edit?.(doc);
    const text = YAML.stringify(doc);
    writeFileSync(this.configPath, text);
    return text;
  }

  startDirector(): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.directorNs, LVSD, 'director', 'run', '-c', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.add(child);
    const keep = (b: Buffer) => this.directorLog.push(...b.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.directorExit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.procs.delete(child);
        resolve(code);
      }),
    );
    this.directorProc = child;
    return child;
  }

  async stopDirector(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.directorProc;
    if (!p) return null;
    p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    const code = (await this.directorExit) ?? null;
    clearTimeout(killer);
    this.directorProc = undefined;
    return code;
  }

  /** `lvsd director ARGS -s SOCKET` (from this namespace: the socket is a file). */
  ctl(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(LVSD, ['director', ...args, '-s', this.socket], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The same, without blocking this process: a client load running beside it keeps its timing
   * (a spawnSync under emulation stops the event loop for seconds, and the load's connect
   * timers would then fire late and count as failures that never happened on the wire).
   */
  ctlAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return runAsync(LVSD, ['director', ...args, '-s', this.socket]);
  }

  /** ipvsadm in the director's namespace, without blocking this process. */
  async ipvsadmAsync(args: string[]): Promise<string> {
    const r = await runAsync('ip', ['netns', 'exec', this.directorNs, 'ipvsadm', ...args]);
    if (r.status !== 0) throw new Error(`ipvsadm ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  status(): any {
    const r = this.ctl(['status', '--json']);
    if (r.status !== 0) throw new Error(`director status exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  async directorReady(ms = 60_000): Promise<number> {
    return waitFor('the director to answer on its control socket', async () => {
      if (this.directorProc?.exitCode !== null && this.directorProc?.exitCode !== undefined) {
        throw new Error(`director exited ${this.directorProc.exitCode}:\n${this.directorLog.slice(-15).join('\n')}`);
      }
      return (await this.ctlAsync(['status', '--json'])).status === 0;
    }, ms, 200);
  }

  /** The director namespace's IPVS table, read without starting a process. */
  procIpvs(): string {
    return readFileSync(`/proc/${this.holder!.pid}/net/ip_vs`, 'utf8');
  }

  /** Real-server weights, "addr:port" -> weight (from /proc, cheap enough to poll every 10 ms). */
  weights(): Map<string, number> {
    return weightsFromProc(this.procIpvs());
  }

  /** ipvsadm in the director's namespace: the judge. */
  ipvsadm(args: string[]): string {
    return this.inNs(this.directorNs, 'ipvsadm', args);
  }

  /** Everything down: processes killed, namespaces and links deleted, files removed. */
  async teardown(): Promise<void> {
    await this.stopDirector('SIGKILL').catch(() => undefined);
    const waits = [...this.procs].map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGKILL')))));
    await Promise.race([Promise.all(waits), sleep(10_000)]);
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    for (const l of this.links.reverse()) spawnSync('ip', ['link', 'del', l], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Runs a command without blocking this process's event loop (a client load may be running). */
export function runAsync(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function mysqlUser(): { uid: number; gid: number } {
  return {
    uid: Number(sh('id', ['-u', 'mysql']).trim()),
    gid: Number(sh('id', ['-g', 'mysql']).trim()),
  };
}

function chownTree(path: string, uid: number, gid: number): void {
  sh('chown', ['-R', `${uid}:${gid}`, path]);
}

// ---- the client ------------------------------------------------------------------------------

export interface Answer {
  host: string;
  /** the client address as the server saw it (information_schema.processlist) */
  seenFrom: string;
}

/** One new connection through `vip`: which server answered, and the client address it saw. */
export async function askThrough(vip: string, port = 3306, connectTimeout = 3000): Promise<Answer> {
  const c = await mariadb.createConnection({ host: vip, port, user: APP_USER, password: APP_PASSWORD, connectTimeout });
  try {
    const rows = (await c.query('SELECT @@hostname AS host, (SELECT host FROM information_schema.processlist WHERE id = CONNECTION_ID()) AS seen')) as { host: string; seen: string }[];
    return { host: rows[0].host, seenFrom: rows[0].seen };
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export interface Attempt {
  start: number;
  end: number;
  ok: boolean;
  host?: string;
  error?: string;
}

/**
 * Bounded client load: a new connection every 1000/rate ms (at most `concurrency` in flight,
 * at most `maxMs` long), each runs `SELECT @@hostname` and closes. stop() returns every attempt.
 */
export class ClientLoad {
  readonly attempts: Attempt[] = [];
  skipped = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight = new Set<Promise<void>>();
  private readonly began = Date.now();

  constructor(private readonly opts: { vip: string; port?: number; rate: number; concurrency: number; maxMs: number; connectTimeout?: number }) {
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / opts.rate)));
  }

  private tick(): void {
    if (Date.now() - this.began > this.opts.maxMs) {
      clearInterval(this.timer);
      return;
    }
    if (this.inflight.size >= this.opts.concurrency) {
      this.skipped++;
      return;
    }
    const start = Date.now();
    const p = askThrough(this.opts.vip, this.opts.port ?? 3306, this.opts.connectTimeout ?? 3000).then(
      (a) => void this.attempts.push({ start, end: Date.now(), ok: true, host: a.host }),
      (err: Error) => void this.attempts.push({ start, end: Date.now(), ok: false, error: err.message.split('\n')[0] }),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  async stop(): Promise<Attempt[]> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
    return this.attempts.sort((a, b) => a.start - b.start);
  }
}

/** "failed/total" with the first errors, for the report lines. */
export function summary(attempts: Attempt[]): string {
  const failed = attempts.filter((a) => !a.ok);
  const hosts = new Map<string, number>();
  for (const a of attempts) if (a.host) hosts.set(a.host, (hosts.get(a.host) ?? 0) + 1);
  const spread = [...hosts].sort().map(([h, n]) => `${h} ${n}`).join(', ');
  return `${failed.length} failed / ${attempts.length} connections (${spread})${failed.length ? `; first error: ${failed[0].error}` : ''}`;
}

/** One HTTP GET on a fresh connection (no keep-alive): status and body. */
export function httpThrough(host: string, port = 80, path = '/', timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host, port, path, agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
