import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AccountService } from '@smsfleet/auth';
import { RedisConnections, TokenRevocationSignal } from '@smsfleet/queueing';

/** Another replica (or the CLI) rotated an account's token: this replica stops accepting the old one at once. */
@Injectable()
export class TokenRevocationListener implements OnModuleInit {
  private readonly logger = new Logger(TokenRevocationListener.name);

  constructor(
    private readonly redis: RedisConnections,
    private readonly signal: TokenRevocationSignal,
    private readonly accounts: AccountService,
  ) {}

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis.subscriberConnection();
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.signal.channel) return;
      const revoked = TokenRevocationSignal.parse(message);
      if (revoked) this.accounts.forgetAccount(revoked.userId);
    });
    // Not awaited: the API starts (and serves what needs no Redis) while Redis is away.
    subscriber
      .subscribe(this.signal.channel)
      .catch((error: Error) => this.logger.warn({ err: error }, 'token revocations not subscribed'));
  }
}
