import { MigrationInterface, QueryRunner } from 'typeorm';

const rank = (finals: string) => `
  CREATE OR REPLACE FUNCTION message_status_rank(s smallint) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN s = 1 THEN 0
      WHEN s = 3 THEN 1
      WHEN s = 2 THEN 2
      WHEN s = 6 THEN 3
      WHEN s IN (${finals}) THEN 4
      ELSE 0
    END::smallint
  $$`;

/**
 * Our final status 205 (cancelled by the account) ranks with the final ones: a phone's late report of a
 * cancelled message can never move it (the status writer moves a message only to a higher rank).
 */
export class CancelledStatus1765510000000 implements MigrationInterface {
  name = 'CancelledStatus1765510000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(rank('5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202, 203, 204, 205'));
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(rank('5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202, 203, 204'));
  }
}
