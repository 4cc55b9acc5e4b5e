import { AppConfig } from '@smsfleet/config';
import { RedisConnections } from '../redis-connections';
import { PoolChangedSignal, PUBLISH_TIMEOUT_MS } from './pool-changed-signal';

/** Redis unreachable: the shared connection queues the PUBLISH until it is back (maxRetriesPerRequest null). */
const unreachable = {
  shared: { publish: () => new Promise<number>(() => undefined) },
} as unknown as RedisConnections;

describe('PoolChangedSignal', () => {
  afterEach(() => jest.useRealTimers());

  it('gives up on a Redis that does not answer after its bound, never hanging the committed change', async () => {
    jest.useFakeTimers();
    const signal = new PoolChangedSignal(unreachable, { redisPrefix: 't' } as AppConfig);
    let settled = false;
    const published = signal.publish({ poolId: 1 }).then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(PUBLISH_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await published;
    expect(settled).toBe(true);
  });
});
