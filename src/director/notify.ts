// Notify hooks (keepalived's notify, notify_up/notify_down, quorum_up/quorum_down): a program run
// without a shell when something changes, the event as its arguments. A hook never stops the
// director: a refusal, a failure or a hang is logged.
import { spawn } from 'node:child_process';
import type pino from 'pino';
import { scriptSecurityRefusal } from '../health/exec';

const TIMEOUT_MS = 30_000;
/** events waiting per program beyond which new ones are dropped (a program slower than its events) */
const MAX_PENDING = 1000;
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

/**
 * Runs hooks one at a time per program, in the order of their events (an UP then a DOWN must
 * not reach an alerting script the other way round); each is killed after 30 s.
 */
export class Hooks {
  private readonly queues = new Map<string, { tail: Promise<void>; pending: number }>();

  constructor(
    private readonly log: pino.Logger,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  run(path: string, args: string[]): void {
    let q = this.queues.get(path);
    if (!q) this.queues.set(path, (q = { tail: Promise.resolve(), pending: 0 }));
    if (q.pending >= MAX_PENDING) return void this.log.warn(`notify ${path} ${args.join(' ')}: dropped, ${q.pending} events are waiting for this program`);
    q.pending++;
    const queue = q;
    queue.tail = queue.tail.then(() => this.runOne(path, args)).then(() => {
      if (--queue.pending === 0 && this.queues.get(path) === queue) this.queues.delete(path);
    });
  }

  /** Resolves when every hook started so far has ended (for tests and an orderly stop). */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  private async runOne(path: string, args: string[]): Promise<void> {
    const what = `notify ${path} ${args.join(' ')}`;
    // keepalived's enable_script_security: root never runs a program others could have replaced
    const refusal = await scriptSecurityRefusal(path);
    if (refusal) return void this.log.warn(`${what}: ${refusal}`);
    await new Promise<void>((resolve) => {
      let child;
      try {
        child = spawn(path, args, { stdio: 'ignore', env: ENV });
      } catch (err) {
        this.log.warn(`${what}: ${(err as Error).message}`);
        return resolve();
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        this.log.warn(`${what}: ${err.message}`);
        resolve();
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) this.log.warn({ code, signal }, `${what} exited ${signal ?? code}${signal === 'SIGKILL' ? ` (killed after ${this.timeoutMs} ms)` : ''}`);
        resolve();
      });
    });
  }
}
