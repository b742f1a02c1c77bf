// Running `lvsd director run` in a lab test: a config in a temp dir, the daemon as a child
// process (its JSON log kept), its control commands, and bounded waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LVSD, ipvsadm, lvsdRun } from './ipvs-lab';

export interface DirectorProc {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

export class DirectorLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvsd-director-lab-'));
  readonly config = join(this.dir, 'director.yaml');
  readonly socket = join(this.dir, 'director.sock');
  readonly state = join(this.dir, 'state.json');
  proc: DirectorProc | undefined;

  /** The global section every lab config starts with (state and socket in this lab's dir). */
  global(extra = ''): string {
    return `global:\n  state_file: ${this.state}\n  control:\n    socket: ${this.socket}\n  status:\n    listen: ""\n${extra}`;
  }

  write(yaml: string): void {
    writeFileSync(this.config, yaml);
  }

  start(): DirectorProc {
    const child = spawn(LVSD, ['director', 'run', '-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    const keep = (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    this.proc = { child, log, exited };
    return this.proc;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    // the daemon's warnings and errors, so a failing run shows what the director said
    for (const line of p.log) if (/"level":(40|50|60)|^lvsd:/.test(line)) console.log(`# director: ${line}`);
    p.child.kill(signal);
    const code = await p.exited;
    this.proc = undefined;
    return code;
  }

  ctl(args: string[]) {
    return lvsdRun(['director', ...args, '-s', this.socket]);
  }

  status(): { reconcile: { opsTotal: number; lastOps: number }; services: { name: string; servers: { address: string; state: string; weight: number; health: string }[] }[] } {
    const r = this.ctl(['status', '--json']);
    if (r.status !== 0) throw new Error(`director status exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
}

/** Polls `cond` every 20 ms until it holds or `ms` passes; returns the time it took. */
export async function until(what: string, cond: () => boolean, ms = 60_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (cond()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const saved = () => ipvsadm(['-S', '-n']);

/** A TCP listener a tcp check can be pointed at; close() makes the check fail. */
export async function listener(host: string, port: number): Promise<Server> {
  const s = createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve());
  });
  return s;
}

export { spawn };
