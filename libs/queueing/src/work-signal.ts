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

  private pending = new Set<number>();
  private flushed?: Promise<void>;

  /**
   * Signals the devices; the calls of one event-loop turn share one PUBLISH (under load, many requests
   * finish their enqueue in the same turn). Resolves when that PUBLISH is done.
   */
  publish(deviceIds: Iterable<number>): Promise<void> {
    for (const id of deviceIds) this.pending.add(id);
    if (this.pending.size === 0) return Promise.resolve();
    this.flushed ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        const ids = [...this.pending];
        this.pending = new Set();
        this.flushed = undefined;
        this.redis.shared.publish(this.channel, ids.join(',')).then(() => resolve(), reject);
      }),
    );
    return this.flushed;
  }

  static parse(message: string): number[] {
    return message
      .split(',')
      .map(Number)
      .filter((id) => Number.isInteger(id) && id > 0);
  }
}
