interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes submitted items in batches: what arrives in the same event-loop turn goes out together, with at
 * most `maxInFlight` writes outstanding. Beyond that, items wait and leave together in the next write, so
 * under load the batches grow instead of the number of writes (a storm of phone events must not become a
 * storm of round trips that starves everything else on the same connection or pool). Each caller is
 * answered once the write carrying its item is done, or failed.
 */
export class CoalescingWriter<T> {
  private pending: Pending<T>[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxInFlight: number,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
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
      await this.write(batch.map((entry) => entry.item));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
