import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { workSignalChannel } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** Tells dispatcher nodes that devices have new work, so idle sessions fetch at once instead of at their next poll. */
@Injectable()
export class WorkSignal {
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = workSignalChannel(config.redisPrefix);
  }

  async publish(deviceIds: Iterable<number>): Promise<void> {
    const ids = [...new Set(deviceIds)];
    if (ids.length > 0) await this.redis.shared.publish(this.channel, ids.join(','));
  }

  static parse(message: string): number[] {
    return message
      .split(',')
      .map(Number)
      .filter((id) => Number.isInteger(id) && id > 0);
  }
}
