// Two network namespaces joined by a veth pair (198.18.77.2 and .3 on /24, only inside them),
// and the director's VRRP run in one of them through vrrp-director-runner (DirectorVrrp from the
// director config, real raw sockets), for host tests of two directors' VRRP.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNetns, type Netns } from './netns';
import type { VrrpRunnerJob, VrrpRunnerOutcome } from './vrrp-director-runner';

const RUNNER = join(__dirname, 'vrrp-director-runner.js');

export interface Side {
  ns: Netns;
  dev: string;
  address: string;
}

/** Two sides; their namespaces are pushed on `made` for the test to destroy. */
export function vethPair(made: Netns[]): [Side, Side] {
  const a = makeNetns();
  const b = makeNetns();
  made.push(a, b);
  // each end is born in its own namespace, so fixed names cannot clash with anything
  a.must('ip', ['link', 'add', 'to-b', 'type', 'veth', 'peer', 'name', 'to-a', 'netns', b.name]);
  a.must('ip', ['addr', 'add', '198.18.77.2/24', 'dev', 'to-b']);
  b.must('ip', ['addr', 'add', '198.18.77.3/24', 'dev', 'to-a']);
  a.must('ip', ['link', 'set', 'to-b', 'up']);
  b.must('ip', ['link', 'set', 'to-a', 'up']);
  return [
    { ns: a, dev: 'to-b', address: '198.18.77.2' },
    { ns: b, dev: 'to-a', address: '198.18.77.3' },
  ];
}

export interface Ran extends VrrpRunnerOutcome {
  /** the director's log (debug level) */
  log: string;
}

/** Runs the director config `text`'s VRRP in `side`'s namespace for `runMs`, then stops it cleanly. */
export function runVrrp(side: Side, text: string, runMs: number, rewrite?: VrrpRunnerJob['rewrite']): Promise<Ran> {
  const logFile = join(side.ns.dir, 'vrrp.log');
  const job: VrrpRunnerJob = { config: text, runMs, logFile, ...(rewrite ? { rewrite } : {}) };
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', side.ns.name, process.execPath, RUNNER, JSON.stringify(job)], { timeout: runMs + 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`vrrp runner in ${side.ns.name} failed: ${err.message}\n${stderr}`));
      resolve({ ...(JSON.parse(stdout) as VrrpRunnerOutcome), log: readFileSync(logFile, 'utf8') });
    });
  });
}

export function holds(side: Side, address: string): boolean {
  return side.ns.addrs(side.dev).some((a) => a.local === address);
}

/** Polls (every 100 ms, at most `ms`) until `cond` holds; false if it never did. */
export async function within(ms: number, cond: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
