/**
 * Token buckets in this process, one per key: each holds up to `burst` tokens and gains `ratePerSecond` of
 * them a second; an action costs some. Bounded: when full, the fullest buckets (idle ones) go first, and a
 * bucket that is full again is the same as one never seen.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Takes `cost` tokens from the key's bucket: 0 when it had them, else the ms until it will (nothing is
   * taken then). A cost above the burst is charged as the whole burst, so that a large action is still
   * possible from a full bucket.
   */
  take(key: string, cost = 1, now = Date.now()): number {
    const wanted = Math.min(cost, this.burst);
    const tokens = this.tokensOf(key, now);
    if (tokens < wanted) return Math.ceil(((wanted - tokens) / this.ratePerSecond) * 1_000);
    this.set(key, tokens - wanted, now);
    return 0;
  }

  /** As `take`, without taking: the ms until `cost` tokens are there, 0 if they are now. */
  waitFor(key: string, cost = 1, now = Date.now()): number {
    const tokens = this.tokensOf(key, now);
    const wanted = Math.min(cost, this.burst);
    return tokens >= wanted ? 0 : Math.ceil(((wanted - tokens) / this.ratePerSecond) * 1_000);
  }

  get size(): number {
    return this.buckets.size;
  }

  private tokensOf(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1_000) * this.ratePerSecond);
  }

  private set(key: string, tokens: number, now: number): void {
    if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) this.makeRoom(now);
    this.buckets.set(key, { tokens, at: now });
  }

  private makeRoom(now: number): void {
    for (const [key, bucket] of this.buckets)
      if (bucket.tokens + ((now - bucket.at) / 1_000) * this.ratePerSecond >= this.burst)
        this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
