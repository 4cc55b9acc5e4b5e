import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { deviceLastSeenKey, devicePresenceKey, DevicePresenceRecord } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** A presence record outlives its last refresh by this much; a dead node's phones then read as offline. */
export const PRESENCE_TTL_SECONDS = 90;

export interface DevicePresenceView {
  online: boolean;
  /** Epoch milliseconds of the last sign of life seen by a dispatcher, if any is recorded. */
  lastSeen?: number;
}

// Deletes the record only if this node still owns it (the phone may already be on another node).
const RELEASE_IF_OWNER = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).nodeId == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Online state and last-seen time of phones, kept in Redis by the dispatcher (never a database write per
 * heartbeat) and read by the API.
 */
@Injectable()
export class DevicePresence {
  private readonly lastSeenKey: (deviceId: number) => string;

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.lastSeenKey = (deviceId) => deviceLastSeenKey(config.redisPrefix, deviceId);
  }

  /**
   * Online on `nodeId` now, refreshing the TTL, for any number of devices in one round trip: a phone's
   * connect, the periodic refresh, and the signs of life a node gathers for a second. (A MULTI per status
   * event cost the dispatcher a tenth of its CPU under load: ioredis builds each pipeline object by copying
   * every script BullMQ defined on the connection.)
   */
  async markOnline(deviceIds: number[], nodeId: string, now = Date.now()): Promise<void> {
    if (deviceIds.length === 0) return;
    const record: DevicePresenceRecord = { nodeId, lastSeen: now };
    const value = JSON.stringify(record);
    const pipeline = this.redis.shared.pipeline();
    for (const deviceId of deviceIds) {
      pipeline.set(devicePresenceKey(this.config.redisPrefix, deviceId), value, 'EX', PRESENCE_TTL_SECONDS);
      pipeline.set(this.lastSeenKey(deviceId), String(now));
    }
    const failed = ((await pipeline.exec()) ?? []).find(([error]) => error);
    if (failed) throw failed[0] as Error;
  }

  async markOffline(deviceId: number, nodeId: string, now = Date.now()): Promise<void> {
    await this.redis.shared
      .multi()
      .eval(RELEASE_IF_OWNER, 1, devicePresenceKey(this.config.redisPrefix, deviceId), nodeId)
      .set(this.lastSeenKey(deviceId), String(now))
      .exec();
  }

  async lookup(deviceIds: number[]): Promise<Map<number, DevicePresenceView>> {
    const result = new Map<number, DevicePresenceView>();
    if (deviceIds.length === 0) return result;
    const keys = deviceIds.flatMap((id) => [
      devicePresenceKey(this.config.redisPrefix, id),
      this.lastSeenKey(id),
    ]);
    const values = await this.redis.shared.mget(...keys);
    deviceIds.forEach((id, index) => {
      const online = values[index * 2] !== null;
      const lastSeen = values[index * 2 + 1];
      result.set(id, { online, ...(lastSeen !== null ? { lastSeen: Number(lastSeen) } : {}) });
    });
    return result;
  }
}
