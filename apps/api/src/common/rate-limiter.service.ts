import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { RedisConnections } from '@smsfleet/queueing';
import { ApiError } from './api-error';

/** What is counted: each has its own counters per subject (an IP, an email). */
export type RateLimitBucket = 'credentials-ip' | 'failed-login-email' | 'register-ip';

/**
 * Fixed-window counters in Redis (SET NX PX + INCR), so a limit holds across API replicas. Limits protect,
 * they do not decide correctness: while Redis is away they are not enforced (logged), rather than refusing
 * every login.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly redis: Redis;
  private readonly windowMs: number;

  constructor(
    connections: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Fails fast instead of waiting for a reconnect: a login must not hang on the limiter.
    this.redis = connections.create('rate-limits', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 500,
    });
    this.windowMs = config.api.rateLimits.windowSeconds * 1_000;
  }

  /** Counts one hit; refuses it when the subject is over `limit` in this window. */
  async hit(bucket: RateLimitBucket, subject: string, limit: number): Promise<void> {
    const key = this.key(bucket, subject);
    const reply = await this.unlessAway(() =>
      this.redis.multi().set(key, 0, 'PX', this.windowMs, 'NX').incr(key).pttl(key).exec(),
    );
    const count = Number(reply?.[1]?.[1]);
    if (count > limit) throw this.limited(Number(reply?.[2]?.[1]));
  }

  /** Refuses when the subject has already reached `limit` in this window, without counting. */
  async assertBelow(bucket: RateLimitBucket, subject: string, limit: number): Promise<void> {
    const key = this.key(bucket, subject);
    const reply = await this.unlessAway(() => this.redis.multi().get(key).pttl(key).exec());
    if (Number(reply?.[0]?.[1] ?? 0) >= limit) throw this.limited(Number(reply?.[1]?.[1]));
  }

  /** Counts one hit, never refusing (e.g. a failed login, checked by assertBelow on the next try). */
  async count(bucket: RateLimitBucket, subject: string): Promise<void> {
    const key = this.key(bucket, subject);
    await this.unlessAway(() => this.redis.multi().set(key, 0, 'PX', this.windowMs, 'NX').incr(key).exec());
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

  private async unlessAway<T>(command: () => Promise<T>): Promise<T | undefined> {
    try {
      return await command();
    } catch (error) {
      this.logger.warn({ err: error }, 'rate limits not enforced: Redis unavailable');
      return undefined;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
