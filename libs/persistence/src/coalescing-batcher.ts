interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes submitted items in batches: what arrives in the same event-loop turn goes out together, with at
 * most `maxInFlight` writes outstanding. Beyond that, items wait and leave together in the next write, so
 * under load the batches grow instead of the number of writes (a storm of requests or phone events must
 * not become a storm of round trips that starves everything else on the same connection or pool). Each
 * caller gets its own item's result once the write carrying it is done, or the write's error.
 */
export class CoalescingBatcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private scheduled = false;
  private inFlight = 0;

  /** `write` answers one result per item, in the items' order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxInFlight: number,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    this.inFlight++;
    try {
      const results = await this.write(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index]));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}

/** A `CoalescingBatcher` whose items have no result of their own: callers learn only that theirs is written. */
export class CoalescingWriter<T> extends CoalescingBatcher<T, void> {
  constructor(write: (items: T[]) => Promise<void>, maxInFlight: number) {
    super(async (items) => {
      await write(items);
      return items.map(() => undefined);
    }, maxInFlight);
  }
}
