/**
 * Anything that runs a query and answers its rows: a DataSource, an EntityManager or a QueryRunner (inside
 * a transaction, the statement belongs to it). TypeORM's `query`, not pg's (which answers a QueryResult).
 */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}
