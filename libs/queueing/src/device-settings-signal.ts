import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import {
  deviceSettingsChannel,
  DeviceRules,
  DeviceSettingsChanged,
  hasValidRules,
} from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** Tells dispatcher nodes that a device's settings changed, so its session applies them without a restart. */
@Injectable()
export class DeviceSettingsSignal {
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = deviceSettingsChannel(config.redisPrefix);
  }

  async publish(deviceId: number, settings: DeviceRules): Promise<void> {
    const message: DeviceSettingsChanged = { deviceId, settings };
    await this.redis.shared.publish(this.channel, JSON.stringify(message));
  }

  static parse(message: string): DeviceSettingsChanged | undefined {
    try {
      const value = JSON.parse(message) as Partial<DeviceSettingsChanged>;
      const settings = value.settings;
      if (
        typeof value.deviceId === 'number' &&
        settings &&
        Number.isInteger(settings.delaybetweeneachsms) &&
        Number.isInteger(settings.window) &&
        settings.window >= 1 &&
        (settings.delaybetweeneachsms_max === undefined ||
          Number.isInteger(settings.delaybetweeneachsms_max)) &&
        hasValidRules(settings)
      )
        return { deviceId: value.deviceId, settings };
    } catch {
      // not ours: ignored below
    }
    return undefined;
  }
}
