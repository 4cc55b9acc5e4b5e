import { MigrationInterface, QueryRunner } from 'typeorm';

/** Our final status 203 (taken by the phone, no final report in time) ranks with the other final ones. */
export class NoReportStatus1764200000000 implements MigrationInterface {
  name = 'NoReportStatus1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION message_status_rank(s smallint) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN s = 1 THEN 0
          WHEN s = 3 THEN 1
          WHEN s = 2 THEN 2
          WHEN s = 6 THEN 3
          WHEN s IN (5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202, 203) THEN 4
          ELSE 0
        END::smallint
      $$`);
    // The expiry sweep looks for messages that are late to leave the server or late to be reported.
    await db.query(
      `CREATE INDEX messages_unfinished_valid_until ON messages (valid_until) WHERE status IN (1, 3)`,
    );
    await db.query(
      `CREATE INDEX messages_awaiting_report ON messages (COALESCE(sent_at, taken_at)) WHERE status IN (2, 6)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_awaiting_report`);
    await db.query(`DROP INDEX messages_unfinished_valid_until`);
    await db.query(`
      CREATE OR REPLACE FUNCTION message_status_rank(s smallint) RETURNS smallint
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN s = 1 THEN 0
          WHEN s = 3 THEN 1
          WHEN s = 2 THEN 2
          WHEN s = 6 THEN 3
          WHEN s IN (5, 7, 8, 9, 10, 11, 12, 100, 101, 201, 202) THEN 4
          ELSE 0
        END::smallint
      $$`);
  }
}
