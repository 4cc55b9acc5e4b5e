import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { poolChangedChannel } from '@smsfleet/contracts';
import { RedisConnections } from '../redis-connections';

/** How long a change waits for its signal: a lost one costs the routers at most their cache's second. */
export const PUBLISH_TIMEOUT_MS = 1_000;

/**
 * Tells every process that routes through pools that a pool's members, or a member's rules, changed: they
 * drop their cached members at once instead of after their 1 s. Best effort: a lost signal costs at most
 * that second of routing by old members.
 */
@Injectable()
export class PoolChangedSignal {
  private readonly logger = new Logger(PoolChangedSignal.name);
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = poolChangedChannel(config.redisPrefix);
  }

  /**
   * `poolId` when known (pool routes); a device's settings change names no pool. Waits at most
   * PUBLISH_TIMEOUT_MS: the shared connection queues commands until Redis is back, and the callers answer
   * requests whose change is already committed.
   */
  async publish(change: { poolId?: number; deviceId?: number }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.shared.publish(this.channel, JSON.stringify(change)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Redis did not answer')), PUBLISH_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      this.logger.warn({ err: error as Error, ...change }, 'pool change not signalled');
    } finally {
      clearTimeout(timer);
    }
  }
}
