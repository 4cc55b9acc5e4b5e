import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { workSignalChannel } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** A device named in a work signal; `urgent`: it has an urgent message due now. */
export interface SignalledDevice {
  deviceId: number;
  urgent: boolean;
}

const URGENT_MARK = '!';

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
  private urgent = new Set<number>();
  private flushed?: Promise<void>;

  /**
   * Signals the devices; the calls of one event-loop turn share one PUBLISH (under load, many requests
   * finish their enqueue in the same turn). Resolves when that PUBLISH is done. `urgentDeviceIds` have an
   * urgent message due now: their sessions may take it at once into a slot whose message the phone has
   * acknowledged but we are still recording (docs/device-protocol.md: the window counts unacknowledged
   * events).
   */
  publish(deviceIds: Iterable<number>, urgentDeviceIds: Iterable<number> = []): Promise<void> {
    for (const id of deviceIds) this.pending.add(id);
    for (const id of urgentDeviceIds) {
      this.pending.add(id);
      this.urgent.add(id);
    }
    if (this.pending.size === 0) return Promise.resolve();
    this.flushed ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        const entries = [...this.pending].map((id) =>
          this.urgent.has(id) ? `${id}${URGENT_MARK}` : `${id}`,
        );
        this.pending = new Set();
        this.urgent = new Set();
        this.flushed = undefined;
        this.redis.shared.publish(this.channel, entries.join(',')).then(() => resolve(), reject);
      }),
    );
    return this.flushed;
  }

  /** `"12,34!"`: devices 12 and 34, and 34 has an urgent message due now. Anything malformed is skipped. */
  static parse(message: string): SignalledDevice[] {
    return message
      .split(',')
      .map((part) => {
        const urgent = part.endsWith(URGENT_MARK);
        return { deviceId: Number(urgent ? part.slice(0, -1) : part), urgent };
      })
      .filter(({ deviceId }) => Number.isInteger(deviceId) && deviceId > 0);
  }
}
