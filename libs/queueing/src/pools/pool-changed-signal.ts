import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { poolChangedChannel } from '@smsfleet/contracts';
import { RedisConnections } from '../redis-connections';

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

  /** `poolId` when known (pool routes); a device's settings change names no pool. */
  async publish(change: { poolId?: number; deviceId?: number }): Promise<void> {
    try {
      await this.redis.shared.publish(this.channel, JSON.stringify(change));
    } catch (error) {
      this.logger.warn({ err: error as Error, ...change }, 'pool change not signalled');
    }
  }
}
