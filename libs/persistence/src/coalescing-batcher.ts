/** How long a batch may wait for company, and how big it may grow before it leaves at once. */
export interface BatchWindow<T> {
  /** Items wait this long after the first of a batch arrived (0: the same event-loop turn only). */
  waitMs: number;
  /** A batch weighing this much leaves at once. */
  maxWeight: number;
  /** An item's weight (default 1), e.g. the reports it carries. */
  weight?: (item: T) => number;
}

/**
 * The keys of an item (e.g. the message ids of a phone's reports): an item sharing a key with a write in
 * flight, or with an item held back before it, waits for the next write. Two writes in flight may commit
 * in either order, so without this a later item could be committed, and seen, before an earlier one of
 * the same key.
 */
export type OrderKeys<T> = (item: T) => Iterable<unknown>;

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
 * caller gets its own item's result once the write carrying it is done, or the write's error. With
 * `keysOf`, items of one key are written in the order they came, never by two writes at once.
 */
export class CoalescingBatcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private pendingWeight = 0;
  private timer?: NodeJS.Timeout;
  /** The keys of the writes in flight (with `keysOf`), each counted once per write holding it. */
  private readonly keysInFlight = new Map<unknown, number>();

  /** `write` answers one result per item, in the items' order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxInFlight: number,
    private readonly window?: BatchWindow<T>,
    private readonly keysOf?: OrderKeys<T>,
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
    this.scheduled = false;
    const { batch, keys } = this.take();
    if (batch.length === 0) return;
    this.inFlight++;
    for (const key of keys) this.keysInFlight.set(key, (this.keysInFlight.get(key) ?? 0) + 1);
    try {
      const results = await this.write(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index]));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      for (const key of keys) {
        const holders = this.keysInFlight.get(key)! - 1;
        if (holders === 0) this.keysInFlight.delete(key);
        else this.keysInFlight.set(key, holders);
      }
      this.inFlight--;
      this.schedule();
    }
  }

  /**
   * The pending items that may go now, in their order, and their keys; without `keysOf`, all of them.
   * An item whose keys meet a write in flight stays, and so does every later item sharing a key with one
   * that stays: the write that ends takes them, in the order they came.
   */
  private take(): { batch: Pending<T, R>[]; keys: Set<unknown> } {
    const keys = new Set<unknown>();
    const keysOf = this.keysOf;
    if (!keysOf || this.pending.length === 0) {
      const batch = this.pending;
      this.pending = [];
      this.pendingWeight = 0;
      return { batch, keys };
    }
    const batch: Pending<T, R>[] = [];
    const held: Pending<T, R>[] = [];
    const blocked = new Set<unknown>();
    for (const entry of this.pending) {
      const itemKeys = [...keysOf(entry.item)];
      if (itemKeys.some((key) => this.keysInFlight.has(key) || blocked.has(key))) {
        held.push(entry);
        for (const key of itemKeys) blocked.add(key);
      } else {
        batch.push(entry);
        for (const key of itemKeys) keys.add(key);
      }
    }
    this.pending = held;
    this.pendingWeight = held.reduce((sum, entry) => sum + (this.window?.weight?.(entry.item) ?? 1), 0);
    return { batch, keys };
  }
}

/** A `CoalescingBatcher` whose items have no result of their own: callers learn only that theirs is written. */
export class CoalescingWriter<T> extends CoalescingBatcher<T, void> {
  constructor(
    write: (items: T[]) => Promise<void>,
    maxInFlight: number,
    window?: BatchWindow<T>,
    keysOf?: OrderKeys<T>,
  ) {
    super(
      async (items) => {
        await write(items);
        return items.map(() => undefined);
      },
      maxInFlight,
      window,
      keysOf,
    );
  }
}
