// One timer for all the probes of a monitor. Probes wait in a binary heap ordered by when they are
// due, and one clock timer is set for the earliest. With a Node timer per probe, each jittered
// delay is a duration of its own and Node keeps one timer list per duration: 10,000 probes had
// ~9,100 lists, ~300 bytes per probe with its Timeout and callback.
import type { Clock } from './deadline';

/**
 * One tick runs due items for at most this long, then lets a turn of the event loop pass before
 * the rest. With a backlog (a CPU too slow for the checks asked, as under emulation) a tick once
 * started every overdue probe in one go, and signals (SIGHUP) and the control socket waited
 * seconds behind it.
 */
const TURN_BUDGET_MS = 5;

/** Something the scheduler runs once when due; `slot` is its place in the heap (-1: not waiting). */
export interface Scheduled {
  dueAt: number;
  slot: number;
  due(): void;
}

export class Scheduler {
  private readonly heap: Scheduled[] = [];
  private timer: unknown;
  /** when the timer is set to fire (Infinity: no timer) */
  private armedAt = Infinity;

  constructor(private readonly clock: Clock) {}

  /** Runs `item.due()` once at `dueAt` (clock time); moves an item already waiting. */
  add(item: Scheduled, dueAt: number): void {
    if (item.slot >= 0) this.take(item.slot);
    item.dueAt = dueAt;
    item.slot = this.heap.length;
    this.heap.push(item);
    this.up(item.slot);
    this.arm();
  }

  /** Takes a waiting item out; it will not run. */
  remove(item: Scheduled): void {
    if (item.slot < 0) return;
    this.take(item.slot);
    this.arm();
  }

  /** Takes every item out and clears the timer. */
  clear(): void {
    for (const item of this.heap) item.slot = -1;
    this.heap.length = 0;
    this.arm();
  }

  get size(): number {
    return this.heap.length;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    // The timer was set for armedAt, so that moment has come, even where the clock's arithmetic
    // (now + (dueAt - now)) lands a hair before it.
    const started = this.clock.now();
    const now = Math.max(started, this.armedAt);
    this.armedAt = Infinity;
    while (this.heap.length > 0 && this.heap[0].dueAt <= now) {
      const item = this.heap[0];
      this.take(0);
      item.due();
      if (this.clock.now() - started >= TURN_BUDGET_MS) break; // the rest: at once, after a turn
    }
    this.arm();
  };

  /** Sets the timer for the earliest item when none is set for it or before it; none when empty. */
  private arm(): void {
    if (this.heap.length === 0) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.armedAt = Infinity;
      return;
    }
    const next = this.heap[0].dueAt;
    // a timer set for earlier stays: it fires, finds nothing due yet and sets itself again
    if (this.timer !== undefined && this.armedAt <= next) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.armedAt = next;
    this.timer = this.clock.setTimeout(this.tick, Math.max(0, next - this.clock.now()));
  }

  private take(i: number): void {
    const heap = this.heap;
    heap[i].slot = -1;
    const last = heap.pop()!;
    if (i === heap.length) return;
    heap[i] = last;
    last.slot = i;
    this.down(i);
    this.up(i);
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].dueAt <= item.dueAt) break;
      heap[i] = heap[parent];
      heap[i].slot = i;
      i = parent;
    }
    heap[i] = item;
    item.slot = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1].dueAt < heap[child].dueAt) child++;
      if (heap[child].dueAt >= item.dueAt) break;
      heap[i] = heap[child];
      heap[i].slot = i;
      i = child;
    }
    heap[i] = item;
    item.slot = i;
  }
}
