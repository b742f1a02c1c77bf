// A network namespace of the test's own on the host kernel: rtnetlink state and net.* sysctls are
// per namespace, so tests can change them freely. Removed after the test, even when it fails,
// and on process exit as a last resort.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { repoForNobody } from './runtime-copy';

/** Repository root (this file runs as dist/test/support/netns.js). */
export const REPO = resolve(__dirname, '../../..');
const LVSD = join(REPO, 'bin/lvsd');

const live = new Set<string>();
let counter = 0;
process.on('exit', () => {
  for (const name of live) {
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  }
});

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** An address as `ip -j addr` reports it. */
export interface IpAddr {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  label?: string;
  nodad?: boolean;
  broadcast?: string;
}

/** A device as `ip -d -j link` reports it. */
export interface IpLink {
  ifname: string;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { local?: string; remote?: string } };
}

export class Netns {
  /** A scratch directory for state and config files of this test. */
  readonly dir: string;

  constructor(readonly name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${name}-`));
  }

  /** Runs a command inside the namespace; never throws on a non-zero exit. */
  run(cmd: string, args: string[], opts: { input?: string } = {}): RunResult {
    const r = spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], { encoding: 'utf8', cwd: REPO, input: opts.input, timeout: 30_000 });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs and insists on success. */
  must(cmd: string, args: string[]): string {
    const r = this.run(cmd, args);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${this.name} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  /** `lvsd realserver ...` inside the namespace, as root. */
  lvsd(args: string[]): RunResult {
    return this.run(LVSD, ['realserver', ...args]);
  }

  /** `lvsd realserver ...` as nobody with no capabilities at all (from a copy nobody can read). */
  lvsdUnprivileged(args: string[]): RunResult {
    const lvsd = join(repoForNobody(), 'bin/lvsd');
    return this.run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', lvsd, 'realserver', ...args]);
  }

  /** Addresses on a device, as `ip -j addr show dev DEV` reports them. */
  addrs(dev: string): IpAddr[] {
    const out = JSON.parse(this.must('ip', ['-j', 'addr', 'show', 'dev', dev])) as { addr_info: IpAddr[] }[];
    return out[0]?.addr_info ?? [];
  }

  /** All addresses, keyed "dev address/prefix". */
  allAddrs(): string[] {
    const out = JSON.parse(this.must('ip', ['-j', 'addr'])) as { ifname: string; addr_info: IpAddr[] }[];
    return out.flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}${a.label && a.label !== l.ifname ? ` ${a.label}` : ''}`)).sort();
  }

  /** `ip -d -j link show dev DEV`, or undefined when there is no such device. */
  link(dev: string): IpLink | undefined {
    const r = this.run('ip', ['-d', '-j', 'link', 'show', 'dev', dev]);
    if (r.status !== 0) return undefined;
    return (JSON.parse(r.stdout) as IpLink[])[0];
  }

  sysctl(key: string): string {
    return this.must('sysctl', ['-n', key]).trim();
  }

  setSysctl(key: string, value: string): void {
    this.must('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** The sysctls a realserver manages, for before/after comparisons. */
  arpSysctls(): Record<string, string> {
    const keys = ['lo.arp_ignore', 'lo.arp_announce', 'all.arp_ignore', 'all.arp_announce'].map((k) => `net.ipv4.conf.${k}`);
    return Object.fromEntries(keys.map((k) => [k, this.sysctl(k)]));
  }

  /**
   * Gives commands run in the namespace their own /etc/NAME (`ip netns exec` bind-mounts
   * /etc/netns/<namespace>/NAME over it), e.g. a hosts file. Removed with the namespace.
   */
  etcFile(file: string, content: string): void {
    mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.name}/${file}`, content);
  }

  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
    live.delete(this.name);
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Creates a namespace with lo up (as on any real host), named uniquely for this process; the
 * caller destroys it (and process exit does, as a last resort).
 */
export function makeNetns(): Netns {
  const name = `lvsd-t${process.pid}-${++counter}`;
  execFileSync('ip', ['netns', 'add', name]);
  live.add(name);
  const ns = new Netns(name);
  ns.must('ip', ['link', 'set', 'lo', 'up']);
  return ns;
}

/** Creates a namespace with lo up, removed when the test ends. */
export function netns(t: TestContext): Netns {
  const ns = makeNetns();
  t.after(() => ns.destroy());
  return ns;
}
