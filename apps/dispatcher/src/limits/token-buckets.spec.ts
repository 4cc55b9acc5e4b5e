import { TokenBuckets } from './token-buckets';

describe('TokenBuckets', () => {
  it('allows the burst at once, then the rate', () => {
    const buckets = new TokenBuckets(10, 20);
    for (let i = 0; i < 20; i++) expect(buckets.take('a', 1, 0)).toBe(0);
    expect(buckets.take('a', 1, 0)).toBe(100);
    // Half a second later: five tokens.
    for (let i = 0; i < 5; i++) expect(buckets.take('a', 1, 500)).toBe(0);
    expect(buckets.take('a', 1, 500)).toBeGreaterThan(0);
  });

  it('keeps keys apart and charges a cost above the burst as the burst', () => {
    const buckets = new TokenBuckets(100, 1_000);
    expect(buckets.take('a', 5_000, 0)).toBe(0);
    expect(buckets.take('a', 1, 0)).toBe(10);
    expect(buckets.take('b', 1, 0)).toBe(0);
  });

  it('answers how long to wait without taking', () => {
    const buckets = new TokenBuckets(1, 1);
    expect(buckets.waitFor('a', 1, 0)).toBe(0);
    buckets.take('a', 1, 0);
    expect(buckets.waitFor('a', 1, 0)).toBe(1_000);
    expect(buckets.waitFor('a', 1, 1_000)).toBe(0);
  });

  it('stays within its size, dropping idle buckets first', () => {
    const buckets = new TokenBuckets(1, 10, 3);
    buckets.take('busy', 10, 0);
    buckets.take('x', 1, 0);
    buckets.take('y', 1, 0);
    buckets.take('z', 1, 20_000);
    expect(buckets.size).toBeLessThanOrEqual(3);
    expect(buckets.waitFor('busy', 10, 20_000)).toBe(0);
  });
});
