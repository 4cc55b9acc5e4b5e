import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { RedisConnections } from './redis-connections';

/**
 * Takes one message from every counter if all are under their limits, else none (atomic: two dispatcher
 * nodes never pass a limit together). A counter that does not exist is not guessed at: the caller rebuilds
 * it from PostgreSQL first (a new period, or Redis lost it).
 * Answers {1} taken, {0, i…} the counters at their limit, {-1, i} counter i missing.
 */
const RESERVE = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {-1, i} end
end
local full = {0}
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i])) + 1 > tonumber(ARGV[i]) then full[#full + 1] = i end
end
if #full > 1 then return full end
for i = 1, #KEYS do redis.call('INCR', KEYS[i]) end
return {1}`;

/** Gives a message back (it was not sent after all); never below zero, never recreates an expired counter. */
const RELEASE = `
for i = 1, #KEYS do
  local used = redis.call('GET', KEYS[i])
  if used and tonumber(used) > 0 then redis.call('DECR', KEYS[i]) end
end
return 1`;

export type QuotaReserveAnswer =
  { taken: true } | { taken: false; full: number[] } | { taken: false; missing: number };

/** Per-SIM quota counters in Redis: one key per device, slot and period (`<prefix>:quota:<device>:<slot>:<period id>`). */
@Injectable()
export class SimQuotaCounters {
  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  key(deviceId: number, slot: number, periodId: string): string {
    return `${this.config.redisPrefix}:quota:${deviceId}:${slot}:${periodId}`;
  }

  /** `limits[i]` is the limit of `keys[i]` (indexes in the answer count from 0). */
  async reserve(keys: string[], limits: number[]): Promise<QuotaReserveAnswer> {
    const [code, ...rest] = (await this.redis.shared.eval(
      RESERVE,
      keys.length,
      ...keys,
      ...limits,
    )) as number[];
    if (code === 1) return { taken: true };
    if (code === -1) return { taken: false, missing: rest[0] - 1 };
    return { taken: false, full: rest.map((index) => index - 1) };
  }

  /** Creates a counter with what PostgreSQL says was taken, unless another node did first. */
  async seed(key: string, used: number, ttlMs: number): Promise<void> {
    await this.redis.shared.set(key, used, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
  }

  async release(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.shared.eval(RELEASE, keys.length, ...keys);
  }

  /** The counters' values (null: none yet in this period). */
  async read(keys: string[]): Promise<Array<number | null>> {
    if (keys.length === 0) return [];
    const values = await this.redis.shared.mget(...keys);
    return values.map((value) => (value === null ? null : Number(value)));
  }
}
