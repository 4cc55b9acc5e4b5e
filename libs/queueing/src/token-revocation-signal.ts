import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { TokenRevoked, tokenRevokedChannel } from '@smsfleet/contracts';
import { createRedisClient } from './redis-client-options';

/** How long a rotation waits to tell the other replicas; without Redis their caches expire on their own. */
const PUBLISH_TIMEOUT_MS = 2_000;

/** Tells every API replica that an account's API token was rotated, so none keeps the old one cached. */
@Injectable()
export class TokenRevocationSignal {
  private readonly logger = new Logger(TokenRevocationSignal.name);
  readonly channel: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = tokenRevokedChannel(config.redisPrefix);
  }

  /**
   * Best effort, on a connection of its own (opened for this, so the CLI holds none otherwise) that gives
   * up after PUBLISH_TIMEOUT_MS: a rotation must not hang on Redis being away. Answers whether it went out.
   */
  async publish(revoked: TokenRevoked): Promise<boolean> {
    const client = createRedisClient(this.config.redis, {
      connectionName: `smsfleet:${this.config.app}:token-revocation`,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: PUBLISH_TIMEOUT_MS,
      commandTimeout: PUBLISH_TIMEOUT_MS,
    });
    client.on('error', () => undefined); // surfaced by connect() or publish() below
    try {
      await client.connect();
      await client.publish(this.channel, JSON.stringify(revoked));
      return true;
    } catch (error) {
      this.logger.warn(
        { err: error as Error, userId: revoked.userId },
        `token revocation not signalled; other replicas drop the old token within ${this.config.tokenCacheMs} ms`,
      );
      return false;
    } finally {
      client.disconnect();
    }
  }

  static parse(message: string): TokenRevoked | undefined {
    try {
      const value = JSON.parse(message) as Partial<TokenRevoked>;
      if (Number.isInteger(value.userId)) return { userId: value.userId as number };
    } catch {
      // not ours: ignored below
    }
    return undefined;
  }
}
