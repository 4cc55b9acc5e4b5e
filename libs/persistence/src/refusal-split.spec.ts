import { isRefusal, sqlStateOf, writeSplittingRefusals } from './refusal-split';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('writeSplittingRefusals', () => {
  it('writes a batch PostgreSQL accepts in one call', async () => {
    const calls: number[][] = [];
    const outcome = await writeSplittingRefusals([1, 2, 3], async (items) => {
      calls.push(items);
      return items.map((n) => n * 10);
    });
    expect(calls).toEqual([[1, 2, 3]]);
    expect(outcome).toEqual({ results: [10, 20, 30], refused: [], splits: 0 });
  });

  it('halves a refused batch until the bad item stands alone, and writes all its neighbours', async () => {
    const calls: number[][] = [];
    const items = [1, 2, 3, 4, 5, 6, 7];
    const outcome = await writeSplittingRefusals(items, async (batch) => {
      calls.push(batch);
      if (batch.includes(5)) throw pgError('23514');
      return batch.map((n) => -n);
    });
    expect(outcome.results).toEqual([-1, -2, -3, -4, undefined, -6, -7]);
    expect(outcome.refused.map((r) => r.item)).toEqual([5]);
    expect(sqlStateOf(outcome.refused[0].error)).toBe('23514');
    // [1..7] refused → [1..4] written; [5..7] refused → [5,6] refused → [5] alone, [6]; then [7].
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4], [5, 6, 7], [5, 6], [5], [6], [7]]);
    expect(outcome.splits).toBe(3);
  });

  it('finds several bad items, each alone', async () => {
    const outcome = await writeSplittingRefusals([1, 2, 3, 4], async (batch) => {
      if (batch.includes(1) || batch.includes(4)) throw pgError('P0001');
      return batch;
    });
    expect(outcome.results).toEqual([undefined, 2, 3, undefined]);
    expect(outcome.refused.map((r) => r.item)).toEqual([1, 4]);
  });

  it('throws a transient error for the whole batch, never splitting it', async () => {
    for (const error of [
      pgError('40001'),
      pgError('40P01'),
      pgError('57014'),
      pgError('08006'),
      new Error('Connection terminated unexpectedly'),
    ]) {
      let calls = 0;
      await expect(
        writeSplittingRefusals([1, 2, 3], () => {
          calls++;
          return Promise.reject(error);
        }),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('reads the SQLSTATE through a TypeORM wrapper', () => {
    const wrapped = Object.assign(new Error('query failed'), { driverError: pgError('23503') });
    expect(isRefusal(wrapped)).toBe(true);
    expect(isRefusal(pgError('53300'))).toBe(false);
    expect(isRefusal(undefined)).toBe(false);
  });
});
