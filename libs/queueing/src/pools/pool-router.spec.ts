import { AppConfig } from '@smsfleet/config';
import { DataSource } from 'typeorm';
import { RedisConnections } from '../redis-connections';
import { SimQuotaCounters } from '../sim-quota-counters';
import { PoolChangedSignal } from './pool-changed-signal';
import { PoolMemberState } from './pool-choice';
import { PoolRouter } from './pool-router';

// Only route() with a given state and release() are exercised: they read neither PostgreSQL nor Redis.
const router = () =>
  new PoolRouter(
    null as unknown as DataSource,
    null as unknown as RedisConnections,
    null as unknown as SimQuotaCounters,
    null as unknown as PoolChangedSignal,
    {} as AppConfig,
  );
const idle = (deviceId: number, load = 0): PoolMemberState => ({
  deviceId,
  online: true,
  offlineSinceMs: null,
  load,
  fullSlots: [],
});
const requests = (count: number) => Array.from({ length: count }, () => ({ sim: 0, urgent: false }));
const perDevice = (chosen: Array<number | null>) => {
  const counts = new Map<number, number>();
  for (const id of chosen) counts.set(id as number, (counts.get(id as number) ?? 0) + 1);
  return counts;
};

describe('PoolRouter in-flight loads', () => {
  it('counts held choices in the load of concurrent requests that read the same queue lengths', async () => {
    const pool = router();
    // Queue lengths as every request reads them: member 1 looks idle.
    const state = [idle(1, 0), idle(2, 3), idle(3, 3)];
    const first = await pool.route(7, requests(3), { state, hold: true });
    expect(perDevice(first).get(1)).toBe(3);
    // Without the hold, 1 would take most of these too.
    const second = await pool.route(7, requests(3), { state, hold: true });
    expect([...perDevice(second)].sort()).toEqual(
      [
        [2, 1],
        [3, 1],
        [1, 1],
      ].sort(),
    );
  });

  it('forgets released choices, and unheld ones never count', async () => {
    const pool = router();
    const state = [idle(1, 0), idle(2, 2)];
    const held = await pool.route(7, requests(2), { state, hold: true });
    expect(held).toEqual([1, 1]);
    pool.release(held as number[]);
    expect(await pool.route(7, requests(2), { state })).toEqual([1, 1]);
    expect(await pool.route(7, requests(2), { state })).toEqual([1, 1]);
  });
});
