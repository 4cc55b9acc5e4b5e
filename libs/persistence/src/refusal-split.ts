/**
 * SQLSTATE classes that mean "PostgreSQL refuses this data", whatever the moment: data exceptions (22),
 * integrity constraint violations (23: a CHECK, a foreign key to a row removed meanwhile, …), errors
 * raised by a trigger or function (P0) and program limits (54: a value too large to index). Everything
 * else — a lost connection (08, or no code at all), serialization failures and deadlocks (40), a statement
 * timeout or cancel (57), too few resources (53), a lock not available (55) — says nothing about the
 * items: the same batch is retried as it is.
 */
const REFUSAL_CLASSES = ['22', '23', 'P0', '54'];

/** The SQLSTATE of a PostgreSQL error (node-postgres sets `code`; TypeORM wraps it in `driverError`). */
export function sqlStateOf(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, driverError } = error as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return driverError !== undefined && driverError !== error ? sqlStateOf(driverError) : undefined;
}

/** True when PostgreSQL refused the statement for its data (split it); false for a transient error (retry). */
export function isRefusal(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && REFUSAL_CLASSES.includes(state.slice(0, 2));
}

/** An item PostgreSQL refused on its own, with the error it refused it with. */
export interface Refused<T> {
  item: T;
  error: unknown;
}

export interface SplitResult<T, R> {
  /** One entry per item, in the items' order: the write's result, or undefined where the item was refused. */
  results: Array<R | undefined>;
  refused: Refused<T>[];
  /** How many times a refused batch was halved (0 when the first write passed). */
  splits: number;
}

/**
 * Writes `items` with `write` (one statement for all of them, answering one result per item); when
 * PostgreSQL refuses that statement for its data, halves the batch and writes each half the same way,
 * until the item it refuses stands alone: its neighbours are written, and it is answered as refused for
 * the caller to dead-letter. A transient error (see `isRefusal`) is thrown as it is, for the whole batch
 * to be retried. `write` must leave nothing behind when it fails (one statement, or its own savepoint).
 */
export async function writeSplittingRefusals<T, R>(
  items: T[],
  write: (items: T[]) => Promise<R[]>,
): Promise<SplitResult<T, R>> {
  const outcome: SplitResult<T, R> = {
    results: new Array<R | undefined>(items.length),
    refused: [],
    splits: 0,
  };
  const attempt = async (start: number, end: number): Promise<void> => {
    if (start >= end) return;
    try {
      const results = await write(items.slice(start, end));
      for (let i = start; i < end; i++) outcome.results[i] = results[i - start];
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (end - start === 1) {
        outcome.refused.push({ item: items[start], error });
        return;
      }
      outcome.splits++;
      const middle = start + Math.ceil((end - start) / 2);
      await attempt(start, middle);
      await attempt(middle, end);
    }
  };
  await attempt(0, items.length);
  return outcome;
}
