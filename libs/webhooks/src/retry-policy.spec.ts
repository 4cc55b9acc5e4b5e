import { DEFAULT_RETRY_POLICY, describeSpan, disableReason, nextRetry, retryPolicy } from './retry-policy';

/** mulberry32: a small seeded generator, so jitter is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const start = new Date('2026-03-01T00:00:00Z');
const after = (ms: number) => new Date(start.getTime() + ms);

describe('nextRetry', () => {
  it('draws each delay at random up to the doubling ceiling, above the floor', () => {
    const random = seeded(42);
    for (let attempts = 1; attempts <= 30; attempts += 1) {
      const decision = nextRetry(
        { attempts, firstAttemptAt: start, now: after(HOUR) },
        DEFAULT_RETRY_POLICY,
        random,
      );
      if (!decision.retry) throw new Error(decision.reason);
      const ceiling = Math.min(HOUR, 10_000 * 2 ** (attempts - 1));
      expect(decision.delayMs).toBeGreaterThanOrEqual(1000);
      expect(decision.delayMs).toBeLessThanOrEqual(ceiling);
      expect(decision.at.getTime()).toBe(after(HOUR).getTime() + decision.delayMs);
    }
  });

  it('spreads delays over the whole range (full jitter), reproducibly with one seed', () => {
    const draw = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 1000 }, () => {
        const decision = nextRetry(
          { attempts: 20, firstAttemptAt: start, now: start },
          DEFAULT_RETRY_POLICY,
          random,
        );
        return decision.retry ? decision.delayMs : -1;
      });
    };
    const delays = draw(7);
    expect(draw(7)).toEqual(delays);
    expect(draw(8)).not.toEqual(delays);
    const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
    // Uniform on [0, 1 h): mean near 30 min, both quarters of the range drawn.
    expect(mean).toBeGreaterThan(0.4 * HOUR);
    expect(mean).toBeLessThan(0.6 * HOUR);
    expect(delays.some((d) => d < 0.25 * HOUR)).toBe(true);
    expect(delays.some((d) => d > 0.75 * HOUR)).toBe(true);
  });

  it('never retries sooner than Retry-After asks, up to its cap', () => {
    const low = () => 0;
    expect(
      nextRetry(
        { attempts: 1, firstAttemptAt: start, now: start, retryAfterMs: 120_000 },
        DEFAULT_RETRY_POLICY,
        low,
      ),
    ).toMatchObject({ retry: true, delayMs: 120_000 });
    // Backoff longer than Retry-After wins.
    expect(
      nextRetry(
        { attempts: 30, firstAttemptAt: start, now: start, retryAfterMs: 5000 },
        DEFAULT_RETRY_POLICY,
        () => 0.5,
      ),
    ).toMatchObject({ delayMs: 0.5 * HOUR });
    // A week asked is capped at 6 h.
    expect(
      nextRetry(
        { attempts: 1, firstAttemptAt: start, now: start, retryAfterMs: 7 * DAY },
        DEFAULT_RETRY_POLICY,
        low,
      ),
    ).toMatchObject({ delayMs: 6 * HOUR });
  });

  it('tries once more at the end of the window, then gives up with a reason', () => {
    const late = nextRetry(
      { attempts: 40, firstAttemptAt: start, now: after(3 * DAY - 60_000) },
      DEFAULT_RETRY_POLICY,
      () => 0.99,
    );
    expect(late).toEqual({ retry: true, delayMs: 60_000, at: after(3 * DAY) });
    expect(nextRetry({ attempts: 41, firstAttemptAt: start, now: after(3 * DAY) })).toEqual({
      retry: false,
      reason: 'gave up after 3 days (41 attempts over 3 days)',
    });
    // Retry-After past the window cannot be honoured without giving up early or disobeying it.
    expect(
      nextRetry({ attempts: 3, firstAttemptAt: start, now: after(3 * DAY - HOUR), retryAfterMs: 2 * HOUR }),
    ).toEqual({
      retry: false,
      reason: 'the receiver asked to wait past the 3 days window (3 attempts over 2 days)',
    });
  });

  it('takes configured windows and delays (tests shorten them)', () => {
    const fast = retryPolicy({
      baseDelayMs: 100,
      maxDelayMs: 1000,
      minDelayMs: 10,
      giveUpAfterMs: 5 * 60_000,
    });
    const decision = nextRetry(
      { attempts: 50, firstAttemptAt: start, now: after(60_000) },
      fast,
      () => 0.999,
    );
    expect(decision).toMatchObject({ retry: true, delayMs: 999 });
    expect(nextRetry({ attempts: 2, firstAttemptAt: start, now: after(5 * 60_000) }, fast)).toMatchObject({
      retry: false,
    });
    expect(() => retryPolicy({ baseDelayMs: 0 })).toThrow('baseDelayMs must be > 0');
    expect(() => retryPolicy({ giveUpAfterMs: -1 })).toThrow('giveUpAfterMs must be whole ms');
    expect(() => retryPolicy({ minDelayMs: 10, maxDelayMs: 5 })).toThrow('minDelayMs exceeds maxDelayMs');
  });
});

describe('disableReason', () => {
  it('ends a subscription at once on 410', () => {
    expect(disableReason({ failingSince: null, now: start, lastOutcome: { kind: 'gone' } })).toBe(
      'the receiver answered 410 Gone',
    );
  });

  it('disables one failing continuously for the configured time, saying since when and why', () => {
    const failing = { failingSince: start, lastOutcome: { kind: 'failed' as const, error: 'HTTP 503' } };
    expect(disableReason({ ...failing, now: after(3 * DAY - 1) })).toBeUndefined();
    expect(disableReason({ ...failing, now: after(3 * DAY + 5 * HOUR) })).toBe(
      'every delivery failed for 3 days (since 2026-03-01T00:00:00.000Z); last error: HTTP 503',
    );
    expect(disableReason({ ...failing, now: after(DAY) }, retryPolicy({ disableAfterMs: HOUR }))).toMatch(
      /^every delivery failed for 1 day/,
    );
    expect(
      disableReason({
        failingSince: start,
        now: after(4 * DAY),
        lastOutcome: { kind: 'refused', error: 'x: loopback address' },
      }),
    ).toMatch(/last error: x: loopback address$/);
  });

  it('keeps healthy subscriptions', () => {
    expect(disableReason({ failingSince: null, now: after(10 * DAY) })).toBeUndefined();
    expect(
      disableReason({ failingSince: start, now: after(10 * DAY), lastOutcome: { kind: 'delivered' } }),
    ).toBeUndefined();
  });
});

describe('describeSpan', () => {
  it('names the largest whole unit', () => {
    expect(describeSpan(3 * DAY + HOUR)).toBe('3 days');
    expect(describeSpan(HOUR)).toBe('1 hour');
    expect(describeSpan(150_000)).toBe('2 minutes');
    expect(describeSpan(1500)).toBe('1 second');
    expect(describeSpan(20)).toBe('20 ms');
  });
});
