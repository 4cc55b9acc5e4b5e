import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { RedisConnections } from '@smsfleet/queueing';
import { ApiError } from './api-error';
import { LocalWindows } from './local-windows';

/** What is counted: each has its own counters per subject (an IP, an email). */
export type RateLimitBucket = 'credentials-ip' | 'failed-login-email' | 'register-ip';

/** A slot taken before the work it limits; given back when the work turns out not to count. */
export interface Reservation {
  release(): Promise<void>;
}

/**
 * Adds `ARGV[2]` to a fixed window's counter and answers `{count, ms left}`. The window starts with the
 * first hit (a key without a TTL, left by an older version, gets one); a release never brings a key back
 * that has expired, and never counts below zero.
 */
const ADD_SCRIPT = `
local count
if tonumber(ARGV[2]) < 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
  count = redis.call('DECRBY', KEYS[1], -tonumber(ARGV[2]))
  if count < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') count = 0 end
else
  count = redis.call('INCRBY', KEYS[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/**
 * Fixed-window counters in Redis (one script call: add, then compare), so a limit holds across API
 * replicas and under concurrency. While Redis is away the same limits are counted in this process
 * instead (ADR 0902): logins keep working, and brute force stays bounded (by the limit per replica).
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly redis: Redis;
  private readonly windowMs: number;
  private readonly local: LocalWindows;
  private redisAway = false;

  constructor(
    connections: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Fails fast instead of waiting for a reconnect: a login must not hang on the limiter. A slow answer is
    // still waited for a while: counted in this process instead, the attempt would escape Redis's count.
    this.redis = connections.create('rate-limits', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 2_000,
    });
    this.windowMs = config.api.rateLimits.windowSeconds * 1_000;
    this.local = new LocalWindows(this.windowMs);
  }

  /** Counts one hit; refuses it when the subject is over `limit` in this window. */
  async hit(bucket: RateLimitBucket, subject: string, limit: number): Promise<void> {
    const { count, remainingMs } = await this.add(this.key(bucket, subject), 1);
    if (count > limit) throw this.limited(remainingMs);
  }

  /**
   * Takes one of the subject's `limit` slots in this window before the work it limits (a password check):
   * the count and the comparison are one step, so concurrent attempts cannot all pass a check that read the
   * same count. Over the limit, the slot is given back and the attempt refused.
   */
  async reserve(bucket: RateLimitBucket, subject: string, limit: number): Promise<Reservation> {
    const key = this.key(bucket, subject);
    const { count, remainingMs } = await this.add(key, 1);
    if (count > limit) {
      await this.add(key, -1);
      throw this.limited(remainingMs);
    }
    return { release: async () => void (await this.add(key, -1)) };
  }

  private async add(key: string, by: number): Promise<{ count: number; remainingMs: number }> {
    try {
      const [count, remainingMs] = (await this.redis.eval(ADD_SCRIPT, 1, key, this.windowMs, by)) as [
        number,
        number,
      ];
      if (this.redisAway) this.logger.log('rate limits counted in Redis again');
      this.redisAway = false;
      return { count, remainingMs };
    } catch (error) {
      if (!this.redisAway)
        this.logger.warn({ err: error }, 'Redis unavailable: rate limits counted in this process meanwhile');
      this.redisAway = true;
      return this.local.add(key, by);
    }
  }

  private key(bucket: RateLimitBucket, subject: string): string {
    // Subjects are hashed: no email addresses in Redis keys.
    const id = createHash('sha256').update(subject).digest('base64url').slice(0, 22);
    return `${this.config.redisPrefix}:rate:${bucket}:${id}`;
  }

  private limited(pttlMs: number): ApiError {
    const seconds = Math.max(1, Math.ceil((pttlMs > 0 ? pttlMs : this.windowMs) / 1_000));
    return new ApiError('rate_limited', `too many attempts; retry in ${seconds} s`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
