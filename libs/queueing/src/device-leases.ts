import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { deviceLeaseChannel, deviceLeaseKey, DeviceLeaseTaken } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** A lease outlives its last renewal by this much: a dead node loses its phones' queues after it. */
export const DEVICE_LEASE_TTL_MS = 10_000;
/** How often a node renews the leases of its phones (well inside the TTL, so one missed beat is harmless). */
export const DEVICE_LEASE_RENEW_MS = 3_000;

// Renews the lease if we still hold it, or takes it back if it vanished (Redis flushed or restarted);
// answers 0 when another connection holds it now.
const RENEW = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Who consumes a device's queue: a lease in Redis per device, owned by one connection of one dispatcher
 * node. The newest connection of a phone takes the lease (and says so on a channel, so the previous owner
 * stops at once); owners renew it, and a node that cannot renew stops serving that phone.
 */
@Injectable()
export class DeviceLeases {
  readonly channel: string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.channel = deviceLeaseChannel(config.redisPrefix);
  }

  private key(deviceId: number): string {
    return deviceLeaseKey(this.config.redisPrefix, deviceId);
  }

  /**
   * Leases have a connection of their own. Under load the shared one carries thousands of queued job
   * commands, and a renewal stuck behind them made a busy but healthy node take itself for cut off and
   * drop every phone at once (soak, 2026-11-25: 885 phones, then a reconnect storm).
   */
  private get connection(): Redis {
    return this.redis.dedicatedConnection('leases');
  }

  /** Opens the lease connection ahead of the first phone (a dispatcher calls it at start). */
  open(): void {
    void this.connection;
  }

  /** Whether lease commands can run now (the lease connection is up). */
  get ready(): boolean {
    return this.connection.status === 'ready';
  }

  /**
   * Lease commands fail at once while Redis is not connected instead of waiting in ioredis's offline
   * queue: a take or renewal that ran minutes later, on reconnection, could steal a phone's lease from
   * the node that serves it now.
   */
  private assertConnected(): void {
    if (!this.ready) throw new Error(`redis not connected (${this.connection.status})`);
  }

  /** Takes the lease whoever holds it (the newer connection wins) and tells the other nodes. */
  async take(deviceId: number, owner: string): Promise<void> {
    this.assertConnected();
    const announcement: DeviceLeaseTaken = { deviceId, owner };
    await this.connection
      .multi()
      .set(this.key(deviceId), owner, 'PX', DEVICE_LEASE_TTL_MS)
      .publish(this.channel, JSON.stringify(announcement))
      .exec();
  }

  /** Renews many leases in one round trip; returns the devices whose lease another owner holds now. */
  async renew(leases: Array<{ deviceId: number; owner: string }>): Promise<number[]> {
    if (leases.length === 0) return [];
    this.assertConnected();
    const pipeline = this.connection.pipeline();
    for (const { deviceId, owner } of leases)
      pipeline.eval(RENEW, 1, this.key(deviceId), owner, DEVICE_LEASE_TTL_MS);
    const results = (await pipeline.exec()) ?? [];
    return leases
      .filter((_, index) => {
        const [error, held] = results[index] ?? [new Error('no reply'), 0];
        if (error) throw error;
        return held === 0;
      })
      .map((lease) => lease.deviceId);
  }

  async release(deviceId: number, owner: string): Promise<void> {
    await this.connection.eval(RELEASE_IF_OWNER, 1, this.key(deviceId), owner);
  }

  async owner(deviceId: number): Promise<string | null> {
    return this.connection.get(this.key(deviceId));
  }

  static parse(message: string): DeviceLeaseTaken | undefined {
    try {
      const value = JSON.parse(message) as Partial<DeviceLeaseTaken>;
      if (typeof value.deviceId === 'number' && typeof value.owner === 'string')
        return { deviceId: value.deviceId, owner: value.owner };
    } catch {
      // not ours: ignored below
    }
    return undefined;
  }
}
