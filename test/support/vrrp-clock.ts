// A deterministic virtual clock for the VRRP state machine (src/vrrp/instance.ts's Clock): timers
// fire only when the test moves time, in time order (ties in the order they were set), synchronously.
import type { Clock } from '../../src/vrrp/instance';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): { cancel(): void } {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Pending (not cancelled) timers. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time to `end`, firing every timer due by then; at most `maxFires` (a guard against loops). */
  advanceTo(end: number, maxFires = 100_000): void {
    for (let fired = 0; ; fired++) {
      if (fired >= maxFires) throw new Error(`virtual clock: more than ${maxFires} timers before ${end} ms`);
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: Timer | undefined;
      for (const timer of this.timers) {
        if (timer.at <= end && (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))) next = timer;
      }
      if (!next) break;
      next.cancelled = true;
      this.t = next.at;
      next.fn();
    }
    this.t = Math.max(this.t, end);
  }

  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }
}
