import { CoalescingBatcher } from './coalescing-batcher';

describe('CoalescingBatcher', () => {
  it('writes what arrives in one event-loop turn together and answers each caller its own result', async () => {
    const writes: number[][] = [];
    const batcher = new CoalescingBatcher<number, string>((items) => {
      writes.push(items);
      return Promise.resolve(items.map((item) => `r${item}`));
    }, 2);
    const answers = await Promise.all([1, 2, 3].map((item) => batcher.submit(item)));
    expect(answers).toEqual(['r1', 'r2', 'r3']);
    expect(writes).toEqual([[1, 2, 3]]);
  });

  it('keeps at most maxInFlight writes outstanding; what arrives meanwhile leaves in one later write', async () => {
    const writes: number[][] = [];
    const release: Array<() => void> = [];
    const batcher = new CoalescingBatcher<number, number>(
      (items) =>
        new Promise((resolve) => {
          writes.push(items);
          release.push(() => resolve(items.map((item) => item * 10)));
        }),
      1,
    );
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((item) => batcher.submit(item));
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[1]]);
    release[0]();
    expect(await first).toBe(10);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[1], [2, 3, 4]]);
    release[1]();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('rejects every caller of a failed write, and goes on with the next', async () => {
    let fail = true;
    const batcher = new CoalescingBatcher<number, number>((items) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('database away'));
      }
      return Promise.resolve(items);
    }, 1);
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await batcher.submit(3)).toBe(3);
  });

  it('with a window, gathers what arrives within it, and sends at once what reaches the weight', async () => {
    const writes: number[][] = [];
    const batcher = new CoalescingBatcher<number, number>(
      (items) => {
        writes.push(items);
        return Promise.resolve(items);
      },
      2,
      { waitMs: 30, maxWeight: 10, weight: (item) => item },
    );
    const first = batcher.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.submit(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([]);
    await Promise.all([first, second]);
    expect(writes).toEqual([[1, 2]]);
    // 4 + 6 weigh 10: they leave at once, without waiting out a window of a minute.
    const heavy = new CoalescingBatcher<number, number>((items) => Promise.resolve(items), 2, {
      waitMs: 60_000,
      maxWeight: 10,
      weight: (item) => item,
    });
    await expect(Promise.all([heavy.submit(4), heavy.submit(6)])).resolves.toEqual([4, 6]);
  });
});

describe('CoalescingBatcher with keys', () => {
  /** A batcher whose writes end when the test says (release[i] ends the i-th write). */
  function gated<T>(keysOf: (item: T) => Iterable<unknown>) {
    const writes: T[][] = [];
    const release: Array<() => void> = [];
    const batcher = new CoalescingBatcher<T, T>(
      (items) =>
        new Promise((resolve) => {
          writes.push(items);
          release.push(() => resolve(items));
        }),
      2,
      undefined,
      keysOf,
    );
    return { batcher, writes, release };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('holds an item whose key is in a write in flight, lets the others go, and sends it after that write', async () => {
    // "m1:sent" has the key "m1".
    const { batcher, writes, release } = gated<string>((item) => [item.split(':')[0]]);
    const sent = batcher.submit('m1:sent');
    await turn();
    const later = [batcher.submit('m1:delivered'), batcher.submit('m2:sent')];
    await turn();
    // A second write is free, but m1 has one in flight: only m2 goes.
    expect(writes).toEqual([['m1:sent'], ['m2:sent']]);
    release[1]();
    await turn();
    expect(writes).toHaveLength(2);
    release[0]();
    expect(await sent).toBe('m1:sent');
    await turn();
    expect(writes).toEqual([['m1:sent'], ['m2:sent'], ['m1:delivered']]);
    release[2]();
    expect(await Promise.all(later)).toEqual(['m1:delivered', 'm2:sent']);
  });

  it('keeps an item behind an earlier one held for the same key, even when its own keys are free', async () => {
    const { batcher, writes, release } = gated<string[]>((item) => item);
    const first = batcher.submit(['a']);
    await turn();
    // ['a', 'b'] waits for the write holding a; ['b'] came after it and must not overtake it.
    const rest = [batcher.submit(['a', 'b']), batcher.submit(['b']), batcher.submit(['c'])];
    await turn();
    expect(writes).toEqual([[['a']], [['c']]]);
    release[0]();
    await first;
    await turn();
    expect(writes).toEqual([[['a']], [['c']], [['a', 'b'], ['b']]]);
    release[1]();
    release[2]();
    expect(await Promise.all(rest)).toEqual([['a', 'b'], ['b'], ['c']]);
  });
});
