// One overall deadline per probe. Checkers stop their own sockets and processes when the
// signal aborts; this enforces the deadline anyway, so a checker that hangs still fails on time.
import type { Checker, CheckResult } from './types';

/** The abort reason the deadline uses, so checkers can say "connect timeout after 1000 ms". */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/** Timers and time, injectable so the scheduling logic can be unit-tested without waiting. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
  /**
   * Runs `fn` once the I/O that is already ready has been handled (the real clock: setImmediate,
   * after the event loop's poll phase). Without it, `fn` runs at once.
   */
  afterPendingIo?(fn: () => void): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: Math.random,
  afterPendingIo: (fn) => setImmediate(fn),
};

/** ms the deadline allowed, when `signal` aborted because of the deadline. */
export function deadlineOf(signal: AbortSignal): number | undefined {
  const reason: unknown = signal.reason;
  return reason instanceof DeadlineExceeded ? reason.timeoutMs : undefined;
}

/** "after 1000 ms" for a deadline abort, "(stopped)" for any other abort. */
export function abortedAfter(signal: AbortSignal, startedAt: number): string {
  const ms = deadlineOf(signal);
  return ms === undefined ? `stopped after ${Math.round(performance.now() - startedAt)} ms` : `after ${ms} ms`;
}

export function elapsedMs(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 100) / 100;
}

/**
 * Runs one probe with a deadline. Resolves by `timeoutMs` (plus one timer tick of grace for the
 * checker to report its own reason), never rejects. `controller` lets the caller abort early.
 */
export function runWithDeadline(
  checker: Checker,
  timeoutMs: number,
  controller: AbortController = new AbortController(),
  clock: Clock = realClock,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const startedAt = clock.now();
    let settled = false;
    let grace: unknown;
    const finish = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(deadline);
      if (grace !== undefined) clock.clearTimeout(grace);
      resolve(result);
    };
    const expire = (): void => {
      if (settled) return;
      controller.abort(new DeadlineExceeded(timeoutMs));
      // The checker normally resolves from its abort listener; give it one tick, then give up on it.
      grace = clock.setTimeout(
        () => finish({ ok: false, reason: `timeout after ${timeoutMs} ms`, latencyMs: clock.now() - startedAt }),
        0,
      );
    };
    // A starved process runs its timers before the I/O that completed meanwhile (libuv: timers,
    // then poll): a connect the kernel finished long ago would be declared timed out. So the
    // deadline lets the ready I/O be handled first, and aborts only a probe still unfinished.
    const deadline = clock.setTimeout(() => (clock.afterPendingIo ? clock.afterPendingIo(expire) : expire()), timeoutMs);
    let running: Promise<CheckResult>;
    try {
      running = checker.run(controller.signal);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(finish, (err: unknown) =>
      // A checker must not reject; if one does it is a bug on our side, never the server's fault.
      // The error text is not repeated: it could carry checker parameters.
      finish({
        ok: false,
        configError: true,
        reason: `${checker.kind} checker failed unexpectedly (${errorCode(err)})`,
        latencyMs: clock.now() - startedAt,
      }),
    );
  });
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.name === 'string') return e.name;
  }
  return typeof err;
}
