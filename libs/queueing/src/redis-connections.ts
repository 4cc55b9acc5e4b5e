import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { APP_CONFIG, AppConfig, describeRedis } from '@smsfleet/config';
import { createRedisClient } from './redis-client-options';

/**
 * The Redis connections of one process. BullMQ queues and non-blocking workers share `shared`;
 * pub/sub needs a connection of its own, and so does traffic that must not wait behind the shared
 * connection's queue (device leases). Each is made by createRedisClient from the configuration: one Redis
 * by URL or a Sentinel-monitored primary, with credentials and TLS (docs/operations.md#redis-behind-sentinel).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnections.name);
  readonly shared: Redis;
  private readonly dedicated = new Map<string, Redis>();
  private checkedEviction = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.shared = this.create('shared');
  }

  create(purpose: string, extra: RedisOptions = {}): Redis {
    const client = createRedisClient(this.config.redis, {
      // Required by BullMQ for connections that workers use; commands wait for a reconnect instead of failing.
      maxRetriesPerRequest: null,
      connectionName: `smsfleet:${this.config.app}:${purpose}`,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      ...extra,
    });
    // Which Redis (a URL or the Sentinels), never its password: "connection refused" alone does not say.
    const target = describeRedis(this.config.redis);
    client.on('error', (error: Error) => this.logger.warn(`redis (${purpose}, ${target}): ${error.message}`));
    client.once('ready', () => void this.warnUnlessNoEviction(client));
    return client;
  }

  subscriberConnection(): Redis {
    return this.dedicatedConnection('subscriber');
  }

  /** The connection of its own for `purpose`, opened on first use and closed at shutdown. */
  dedicatedConnection(purpose: string): Redis {
    let client = this.dedicated.get(purpose);
    if (!client) {
      client = this.create(purpose);
      this.dedicated.set(purpose, client);
    }
    return client;
  }

  /** Evicting keys would silently drop queued messages: say so loudly at start-up. */
  private async warnUnlessNoEviction(client: Redis): Promise<void> {
    if (this.checkedEviction) return;
    this.checkedEviction = true;
    try {
      const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy !== 'noeviction') {
        this.logger.error(
          `Redis maxmemory-policy is "${policy}": set it to "noeviction", or Redis may drop queued messages under memory pressure`,
        );
      }
    } catch (error) {
      this.logger.warn(
        `could not read Redis maxmemory-policy (${(error as Error).message}); make sure it is "noeviction"`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.shared, ...this.dedicated.values()].map((client) => client.quit()));
  }
}
