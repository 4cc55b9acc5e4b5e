const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

export interface RetryPolicyOptions {
  /** First retry's ceiling; doubles per attempt. */
  baseDelayMs: number;
  /** Ceiling of any one backoff (before Retry-After). */
  maxDelayMs: number;
  /** Floor of a backoff: full jitter may draw ~0, which would hammer a receiver that is down. */
  minDelayMs: number;
  /** An event is given up this long after its first attempt. */
  giveUpAfterMs: number;
  /** Longest Retry-After honoured; a longer one is waited this long. */
  maxRetryAfterMs: number;
  /** A subscription whose every delivery failed for this long is disabled. */
  disableAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicyOptions> = {
  baseDelayMs: 10 * SECOND,
  maxDelayMs: HOUR,
  minDelayMs: SECOND,
  giveUpAfterMs: 3 * DAY,
  maxRetryAfterMs: 6 * HOUR,
  disableAfterMs: 3 * DAY,
};

/** The defaults with `overrides` (configuration), checked for consistency. */
export function retryPolicy(overrides: Partial<RetryPolicyOptions> = {}): RetryPolicyOptions {
  const options = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (const [name, value] of Object.entries(options))
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`retry policy: ${name} must be whole ms ≥ 0`);
  if (options.baseDelayMs <= 0) throw new Error('retry policy: baseDelayMs must be > 0');
  if (options.minDelayMs > options.maxDelayMs) throw new Error('retry policy: minDelayMs exceeds maxDelayMs');
  return options;
}

export type RetryDecision = { retry: true; delayMs: number; at: Date } | { retry: false; reason: string };

export interface RetryInput {
  /** Attempts made so far, the failed one included (≥ 1). */
  attempts: number;
  /** When the event's first attempt was made: the give-up window runs from there. */
  firstAttemptAt: Date;
  now: Date;
  /** The receiver's Retry-After of the failed attempt. */
  retryAfterMs?: number;
}

/**
 * When to try a failed event again: exponential backoff with full jitter (a random delay up to
 * min(max, base·2^(attempts−1)), so receivers coming back up are not hit by every replica at once), never
 * sooner than Retry-After asks (capped at maxRetryAfterMs), a last try at the end of the window, then no
 * more. `random` returns [0, 1): Math.random in production, a seeded one in tests.
 */
export function nextRetry(
  input: RetryInput,
  options: RetryPolicyOptions = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): RetryDecision {
  const now = input.now.getTime();
  const deadline = input.firstAttemptAt.getTime() + options.giveUpAfterMs;
  const attempts = Math.max(1, input.attempts);
  const giveUp = (why: string): RetryDecision => ({
    retry: false,
    reason: `${why} (${attempts} attempt${attempts === 1 ? '' : 's'} over ${describeSpan(now - input.firstAttemptAt.getTime())})`,
  });
  if (now >= deadline) return giveUp(`gave up after ${describeSpan(options.giveUpAfterMs)}`);

  // 2^attempts overflows to Infinity long after the cap applies; min() keeps it finite.
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempts - 1));
  let delay = Math.max(options.minDelayMs, Math.floor(random() * ceiling));
  const asked = input.retryAfterMs === undefined ? 0 : Math.min(input.retryAfterMs, options.maxRetryAfterMs);
  if (now + asked > deadline)
    return giveUp(`the receiver asked to wait past the ${describeSpan(options.giveUpAfterMs)} window`);
  delay = Math.max(delay, asked);
  // The window's last moment gets one more try rather than none.
  // (asked ≤ deadline − now here, so Retry-After is still honoured.)
  delay = Math.min(delay, deadline - now);
  return { retry: true, delayMs: delay, at: new Date(now + delay) };
}

export interface SubscriptionHealth {
  /** Start of the current run of failures: the first failed delivery after the last success; null if none. */
  failingSince: Date | null;
  now: Date;
  /** The last delivery's outcome kind and its error, for the reason. */
  lastOutcome?: { kind: 'delivered' | 'gone' | 'failed' | 'refused'; error?: string };
}

/**
 * Why a subscription should be disabled now, or undefined. A 410 ends it at once (the receiver asked);
 * failures (refusals included) with no success for disableAfterMs disable it. The reason is shown to the
 * user on the subscription, so it says what happened and since when.
 */
export function disableReason(
  health: SubscriptionHealth,
  options: RetryPolicyOptions = DEFAULT_RETRY_POLICY,
): string | undefined {
  if (health.lastOutcome?.kind === 'gone') return 'the receiver answered 410 Gone';
  if (health.failingSince === null || health.lastOutcome?.kind === 'delivered') return undefined;
  const failingFor = health.now.getTime() - health.failingSince.getTime();
  if (failingFor < options.disableAfterMs) return undefined;
  const last = health.lastOutcome?.error ? `; last error: ${health.lastOutcome.error}` : '';
  return `every delivery failed for ${describeSpan(failingFor)} (since ${health.failingSince.toISOString()})${last}`;
}

/** "3 days", "5 hours", "40 minutes", "12 seconds": the largest whole unit. */
export function describeSpan(ms: number): string {
  const units: Array<[number, string]> = [
    [DAY, 'day'],
    [HOUR, 'hour'],
    [60 * SECOND, 'minute'],
    [SECOND, 'second'],
  ];
  for (const [size, name] of units) {
    const count = Math.floor(ms / size);
    if (count >= 1) return `${count} ${name}${count === 1 ? '' : 's'}`;
  }
  return `${Math.max(0, Math.round(ms))} ms`;
}
