import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('forgets entries after their time', () => {
    const cache = new TtlCache<string, number>(1_000, 10);
    cache.set('a', 1, 0);
    expect(cache.get('a', 999)).toBe(1);
    expect(cache.get('a', 1_000)).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = new TtlCache<string, number>(1_000, 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.set('c', 3, 0);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)]).toEqual([undefined, 2, 3]);
  });

  it('forgets every entry whose value matches, whatever its key', () => {
    const cache = new TtlCache<string, { deviceId: number }>(1_000, 10);
    cache.set('a', { deviceId: 1 }, 0);
    cache.set('b', { deviceId: 2 }, 0);
    cache.set('c', { deviceId: 1 }, 0);
    cache.deleteWhere((value) => value.deviceId === 1);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)]).toEqual([
      undefined,
      { deviceId: 2 },
      undefined,
    ]);
  });
});
