import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceRevoked, deviceRevokedChannel } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/**
 * Tells every process that a device's secret was rotated or the device removed: dispatchers disconnect its
 * phone, API replicas forget that they saw the device as the account's.
 */
@Injectable()
export class DeviceRevocationSignal {
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = deviceRevokedChannel(config.redisPrefix);
  }

  async publish(revoked: DeviceRevoked): Promise<void> {
    await this.redis.shared.publish(this.channel, JSON.stringify(revoked));
  }

  static parse(message: string): DeviceRevoked | undefined {
    try {
      const value = JSON.parse(message) as Partial<DeviceRevoked>;
      if (
        Number.isInteger(value.deviceId) &&
        Number.isInteger(value.userId) &&
        (value.reason === 'secret-rotated' || value.reason === 'removed')
      )
        return { deviceId: value.deviceId as number, userId: value.userId as number, reason: value.reason };
    } catch {
      // not ours: ignored below
    }
    return undefined;
  }
}
