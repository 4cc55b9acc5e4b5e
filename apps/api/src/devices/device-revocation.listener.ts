import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DeviceRevocationSignal, RedisConnections } from '@smsfleet/queueing';
import { MessageIntakeService } from '../messages/message-intake.service';

/** Another replica (or the CLI) revoked a device: this replica stops taking it as its account's. */
@Injectable()
export class DeviceRevocationListener implements OnModuleInit {
  private readonly logger = new Logger(DeviceRevocationListener.name);

  constructor(
    private readonly redis: RedisConnections,
    private readonly signal: DeviceRevocationSignal,
    private readonly intake: MessageIntakeService,
  ) {}

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.signal.channel) return;
      const revoked = DeviceRevocationSignal.parse(message);
      if (revoked) this.intake.forgetDevice(revoked.userId, revoked.deviceId);
    });
    // Not awaited: the API starts (and serves what needs no Redis) while Redis is away.
    subscriber
      .subscribe(this.signal.channel)
      .catch((error: Error) => this.logger.warn({ err: error }, 'device revocations not subscribed'));
  }
}
