// One writer per IPVS handle: apply() calls run one at a time, in call order, so two batches
// never interleave in the kernel (style.md example 4: seesaw's mutex around its IPVS calls).

/** Runs tasks one after another in call order; a failed task does not stop the next. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
