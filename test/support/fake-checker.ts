// A scripted Checker for the core's unit tests: returns queued verdicts, records when it ran.
import type { Checker, CheckResult } from '../../src/health/types';
import type { FakeClock } from './fake-clock';

export type Verdict = 'pass' | 'fail' | 'config' | 'hang';

export class FakeChecker implements Checker {
  readonly kind = 'tcp' as const;
  readonly runsAt: number[] = [];
  /** whether the signal each run got was already aborted */
  readonly startedAborted: boolean[] = [];
  private readonly script: Verdict[];

  constructor(
    readonly key: string,
    private readonly clock: FakeClock,
    script: Verdict[] = [],
    private readonly otherwise: Verdict = 'pass',
  ) {
    this.script = [...script];
  }

  /** Queues more verdicts. */
  then(...verdicts: Verdict[]): this {
    this.script.push(...verdicts);
    return this;
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    this.runsAt.push(this.clock.now());
    this.startedAborted.push(signal.aborted);
    const verdict = this.script.shift() ?? this.otherwise;
    if (verdict === 'hang') return new Promise(() => {}); // ignores its signal
    if (verdict === 'config') return Promise.resolve({ ok: false, configError: true, reason: 'bad credentials', latencyMs: 1 });
    return Promise.resolve({ ok: verdict === 'pass', reason: verdict, latencyMs: 1 });
  }
}
