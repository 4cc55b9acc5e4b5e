/** How long a batch may wait for company, and how big it may grow before it leaves at once. */
export interface BatchWindow<T> {
  /** Items wait this long after the first of a batch arrived (0: the same event-loop turn only). */
  waitMs: number;
  /** A batch weighing this much leaves at once. */
  maxWeight: number;
  /** An item's weight (default 1), e.g. the reports it carries. */
  weight?: (item: T) => number;
}

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
  private pendingWeight = 0;
  private timer?: NodeJS.Timeout;

  /** `write` answers one result per item, in the items' order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxInFlight: number,
    private readonly window?: BatchWindow<T>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.pendingWeight += this.window?.weight?.(item) ?? 1;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const window = this.window;
    if (window && window.waitMs > 0 && this.pendingWeight < window.maxWeight) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        // Writes may have filled up meanwhile: the one that ends takes this batch.
        if (this.inFlight >= this.maxInFlight) return;
        this.scheduled = true;
        void this.flush();
      }, window.waitMs);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.pendingWeight = 0;
    this.scheduled = false;
    if (batch.length === 0) return;
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
  constructor(write: (items: T[]) => Promise<void>, maxInFlight: number, window?: BatchWindow<T>) {
    super(
      async (items) => {
        await write(items);
        return items.map(() => undefined);
      },
      maxInFlight,
      window,
    );
  }
}
