/**
 * Anything that runs a query and answers its rows: a DataSource, an EntityManager or a QueryRunner (inside
 * a transaction, the statement belongs to it). TypeORM's `query`, not pg's (which answers a QueryResult).
 */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** TypeORM answers [rows, count] for UPDATE … RETURNING, rows otherwise; pg a result holding rows. */
export function rowsOf<T>(result: T[] | [T[], number] | { rows: T[] }): T[] {
  if (!Array.isArray(result)) return result.rows;
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return result as T[];
}
