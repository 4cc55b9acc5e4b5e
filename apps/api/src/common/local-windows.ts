/**
 * Fixed-window counters in this process: the rate limiter's stand-in while Redis is away, so that limits
 * still hold per API process (ADR 0902). Bounded: when full, expired windows go first, then the oldest.
 */
export class LocalWindows {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Adds `by` to the key's count in the current window; answers the new count and the ms left. */
  add(key: string, by: number, now = Date.now()): { count: number; remainingMs: number } {
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      this.makeRoom(now);
      window = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count = Math.max(0, window.count + by);
    return { count: window.count, remainingMs: window.endsAt - now };
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
  }
}
