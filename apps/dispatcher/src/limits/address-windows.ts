import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { RedisConnections } from '@smsfleet/queueing';

/** Which handshakes are counted per address: every one, or those that failed (bad id, secret or token). */
export type HandshakeCount = 'handshakes' | 'failed';

/** Counts of the address in the current window, and how long a sent-away device still waits. */
export interface AddressCounts {
  handshakes: number;
  failed: number;
  /** ms left in the address's window (of whichever counter is older); 0 if none. */
  windowLeftMs: number;
  /** ms before the device's next handshake is accepted (`goodbye`); 0 if none. */
  penaltyMs: number;
}

/**
 * KEYS: handshake counter, failure counter, device penalty; ARGV: window ms, what to add to KEYS[1].
 * Adds to the handshake counter (its window starts with the first hit), reads the failure counter and
 * the penalty's time left: one round trip per handshake.
 */
const HANDSHAKE_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
local failed = tonumber(redis.call('GET', KEYS[2]) or '0')
local failedTtl = redis.call('PTTL', KEYS[2])
local penalty = 0
if KEYS[3] ~= '' then penalty = redis.call('PTTL', KEYS[3]) end
return {count, ttl, failed, failedTtl, penalty}`;

const FAILURE_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * Handshakes per phone address in Redis, per fixed window, so that a limit holds across dispatcher nodes
 * (a flood spread over the nodes behind a load balancer), and the penalty of a phone sent away, so that it
 * cannot come back through another node. Fails open while Redis is away (ADR 0602): the limits each process
 * counts itself (ADR 1602) still hold meanwhile.
 */
@Injectable()
export class AddressWindows implements OnApplicationShutdown {
  private readonly logger = new Logger(AddressWindows.name);
  private readonly redis: Redis;
  private readonly windowMs: number;
  private redisAway = false;

  constructor(
    connections: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // A handshake must not wait for Redis: no offline queue, no retries, a short timeout.
    this.redis = connections.create('phone-limits', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 1_000,
    });
    this.windowMs = config.dispatcher.phoneLimits.windowSeconds * 1_000;
  }

  /** Counts one handshake (`count` false: only reads) of `address`, and reads the device's penalty. */
  async handshake(address: string, device: string | undefined, count = true): Promise<AddressCounts> {
    try {
      const [handshakes, ttl, failed, failedTtl, penalty] = (await this.redis.eval(
        HANDSHAKE_SCRIPT,
        3,
        this.key('handshakes', address),
        this.key('failed', address),
        device === undefined ? '' : this.penaltyKey(device),
        this.windowMs,
        count ? 1 : 0,
      )) as number[];
      this.back();
      return {
        handshakes,
        failed,
        windowLeftMs: Math.max(ttl, failedTtl, 0),
        penaltyMs: Math.max(0, penalty),
      };
    } catch (error) {
      this.away(error);
      return { handshakes: 0, failed: 0, windowLeftMs: 0, penaltyMs: 0 };
    }
  }

  /** Counts a failed handshake (or an unknown token) of `address`. */
  async failed(address: string): Promise<void> {
    try {
      await this.redis.eval(FAILURE_SCRIPT, 1, this.key('failed', address), this.windowMs);
      this.back();
    } catch (error) {
      this.away(error);
    }
  }

  /** The device's next handshake, on any node, is refused for `ms`. */
  async penalize(device: string, ms: number): Promise<void> {
    try {
      await this.redis.set(this.penaltyKey(device), '1', 'PX', ms);
      this.back();
    } catch (error) {
      this.away(error);
    }
  }

  private key(count: HandshakeCount, address: string): string {
    // Hashed: no client addresses in Redis keys.
    const id = createHash('sha256').update(address).digest('base64url').slice(0, 22);
    return `${this.config.redisPrefix}:phone-limits:${count}:${id}`;
  }

  private penaltyKey(device: string): string {
    return `${this.config.redisPrefix}:phone-limits:goodbye:${device}`;
  }

  private back(): void {
    if (this.redisAway) this.logger.log('phone handshakes counted per address in Redis again');
    this.redisAway = false;
  }

  private away(error: unknown): void {
    if (!this.redisAway)
      this.logger.warn(
        { err: error },
        'Redis unavailable: phone handshakes per address counted in each process only meanwhile',
      );
    this.redisAway = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
