// Shared by the IPVS lab tests: running ipvsadm and lvsd, the namespace's addresses, and one
// table that exercises every scheduler, flag, forwarding method, tunnel type, family, protocol
// and fwmark, written as ipvsadm argument lists (lvsd takes the same options).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const LVSD = join(__dirname, '..', '..', '..', 'bin', 'lvsd');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], input?: string): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; returns its stdout. */
export function ok(cmd: string, args: readonly string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

export const ipvsadm = (args: readonly string[], input?: string) => ok('ipvsadm', args, input);
export const lvsd = (args: readonly string[], input?: string) => ok(LVSD, args, input);
export const lvsdRun = (args: readonly string[], input?: string) => run(LVSD, args, input);

/**
 * DR and tunnel real servers need a route: a dummy interface carrying the test ranges.
 * The director's own address 198.18.0.1 also makes a real server there "Local".
 */
export function setUpNamespace(): void {
  for (const args of [
    ['link', 'add', 'lab0', 'type', 'dummy'],
    ['link', 'set', 'lab0', 'multicast', 'on'],
    ['addr', 'add', '198.18.0.1/15', 'dev', 'lab0'],
    ['addr', 'add', '2001:db8::1/32', 'dev', 'lab0', 'nodad'],
    ['link', 'set', 'lab0', 'up'],
  ]) {
    ok('ip', args);
  }
  ok('ipvsadm', ['-C']);
}

const IPVSADM_TO_LVSD: Record<string, string> = {
  '-A': 'add-service',
  '-E': 'edit-service',
  '-D': 'delete-service',
  '-a': 'add-server',
  '-e': 'edit-server',
  '-d': 'delete-server',
};

/** The same change through lvsd: `ipvsadm -A -t X` is `lvsd ipvs add-service -t X`. */
export function lvsdArgsOf(ipvsadmArgs: readonly string[]): string[] {
  const [cmd, ...rest] = ipvsadmArgs;
  const sub = IPVSADM_TO_LVSD[cmd];
  if (!sub) throw new Error(`no lvsd equivalent for ${cmd}`);
  return ['ipvs', sub, ...rest];
}

/**
 * Every scheduler (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh), scheduler flag, persistence
 * (default and explicit timeout, IPv4 mask, IPv6 prefix), pe sip, one-packet, port 0, forwarding
 * method (DR, NAT, tunnel, local), tunnel type and checksum option, threshold, weight 0 and 65535,
 * family (IPv4, IPv6, IPv4 real server behind an IPv6 service), protocol and fwmark (v4, v6, max).
 * Kept small: every lvsd command costs a node start-up, which is slow under emulation.
 */
export const FULL_TABLE: readonly string[][] = [
  ['-A', '-t', '198.18.0.10:80', '-s', 'rr'],
  ['-A', '-t', '[2001:db8::10]:80', '-s', 'wrr', '-p', '300', '-M', '64'],
  ['-A', '--sctp-service', '198.18.0.46:9999', '-s', 'lc'],
  ['-A', '-t', '198.18.0.42:8080', '-s', 'wlc', '-b', 'flag-1,flag-3'],
  ['-A', '-f', '2', '-6', '-s', 'lblc', '-p', '900', '-M', '96'],
  ['-A', '-u', '[2001:db8::11]:53', '-s', 'lblcr'],
  ['-A', '-t', '198.18.0.45:0', '-s', 'dh', '-p', '30'],
  ['-A', '-t', '198.18.0.40:443', '-s', 'sh', '-b', 'sh-fallback,sh-port', '-p'],
  ['-A', '-u', '198.18.0.43:5060', '-s', 'sed', '-p', '120', '--pe', 'sip'],
  ['-A', '--sctp-service', '[2001:db8::12]:9999', '-s', 'nq'],
  ['-A', '-f', '4294967295', '-s', 'fo', '-o'],
  ['-A', '-u', '198.18.0.44:53', '-s', 'ovf', '-o'],
  ['-A', '-t', '198.18.0.41:443', '-s', 'mh', '-b', 'mh-fallback,mh-port', '-p', '600', '-M', '255.255.255.0'],
  ['-A', '-f', '1', '-s', 'rr'],

  ['-a', '-t', '198.18.0.10:80', '-r', '198.18.1.10', '-g', '-w', '0'],
  ['-a', '-t', '198.18.0.10:80', '-r', '198.18.2.10:8080', '-m', '-w', '3', '-x', '100', '-y', '10'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.41', '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.42', '-i', '--tun-type', 'gue', '--tun-port', '6081', '--tun-remcsum'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.43', '-i', '--tun-type', 'gue', '--tun-port', '6082', '--tun-nocsum'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.44', '-i', '--tun-type', 'gre', '--tun-csum'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.45', '-i', '--tun-type', 'gre'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.46', '-i', '--tun-type', 'ipip', '-w', '7'],
  ['-a', '-t', '198.18.0.41:443', '-r', '198.18.1.47', '-i'],
  ['-a', '-t', '198.18.0.42:8080', '-r', '198.18.0.1', '-g'],
  ['-a', '-u', '198.18.0.43:5060', '-r', '198.18.1.50', '-m', '-w', '2'],
  ['-a', '-u', '198.18.0.44:53', '-r', '198.18.1.51:5353', '-m'],
  ['-a', '-t', '198.18.0.45:0', '-r', '198.18.1.52', '-g', '-w', '65535'],
  ['-a', '--sctp-service', '198.18.0.46:9999', '-r', '198.18.1.53', '-m', '-w', '4'],
  ['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8:0:1::20]:80', '-g', '-w', '5'],
  ['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8:0:2::20]:8080', '-m', '-w', '6', '-x', '1000', '-y', '100'],
  ['-a', '-t', '[2001:db8::10]:80', '-r', '198.18.1.60', '-i', '-w', '1'],
  ['-a', '-t', '[2001:db8::10]:80', '-r', '2001:db8:0:3::20', '-i', '--tun-type', 'gue', '--tun-port', '5555', '--tun-csum'],
  ['-a', '-u', '[2001:db8::11]:53', '-r', '[2001:db8:0:4::20]:53', '-m'],
  ['-a', '-f', '1', '-r', '198.18.1.70:80', '-m', '-w', '2'],
  ['-a', '-f', '1', '-r', '198.18.1.71', '-g'],
  ['-a', '-f', '2', '-6', '-r', '[2001:db8:0:5::20]:443', '-m'],
  ['-a', '-f', '2', '-6', '-r', '2001:db8:0:5::21', '-i', '--tun-type', 'gre', '--tun-nocsum'],
];

/** Runs commands with at most `width` at a time; rejects with the first failure. */
export async function inParallel(commands: readonly (readonly string[])[], runOne: (args: readonly string[]) => Promise<unknown>, width = 3): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < commands.length) await runOne(commands[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, commands.length) }, worker));
}

/** lvsd as a child process, asynchronously (for inParallel); rejects on a non-zero exit. */
export function lvsdAsync(args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(LVSD, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`lvsd ${args.join(' ')} exited ${code}: ${err.trim()}`))));
    child.stdin.end(input ?? '');
  });
}

/** Programs FULL_TABLE through lvsd's CLI: services first, then real servers, a few at a time. */
export async function programWithLvsd(table: readonly string[][] = FULL_TABLE): Promise<void> {
  await inParallel(table.filter((a) => a[0] === '-A').map(lvsdArgsOf), (a) => lvsdAsync(a));
  await inParallel(table.filter((a) => a[0] === '-a').map(lvsdArgsOf), (a) => lvsdAsync(a));
}

/** The same table as ipvsadm -R input. */
export function asRestoreInput(table: readonly string[][] = FULL_TABLE): string {
  return table.map((a) => a.join(' ')).join('\n') + '\n';
}

/** Every listing mode ipvsadm has for a table (`-L -n` plus these). */
export const LIST_MODES: readonly string[][] = [
  [],
  ['--stats'],
  ['--rate'],
  ['--thresholds'],
  ['--persistent-conn'],
  ['--tun-info'],
  ['--stats', '--exact'],
  ['--rate', '--exact'],
  ['--nosort'],
  ['-t', '198.18.0.41:443'],
  ['-t', '198.18.0.41:443', '--tun-info'],
  ['-u', '[2001:db8::11]:53', '--stats'],
  ['--sctp-service', '198.18.0.46:9999'],
  ['-f', '2', '-6', '--thresholds'],
  ['-f', '1', '--persistent-conn'],
];

/** Resolves when a server started by a test prints its first line (its "listening"); rejects if it exits or is silent for `ms`. */
export function firstOutput(child: ChildProcess, what: string, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start in ${ms / 1000} s`)), ms);
    child.stdout!.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${what} exited ${code}`));
    });
  });
}
