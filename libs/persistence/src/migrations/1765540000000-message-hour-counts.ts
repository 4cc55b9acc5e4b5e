import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Counts of an account's closed hours, by status, stored by the scheduler's hour roll-up so that the
 * overview's 7-day chart reads a few hundred rows instead of a week of index entries (a million for a
 * busy account), also on a fresh api or a new replica. `message_hours_closed` says which hours are
 * stored (an hour without messages has no count rows, yet must not be counted again);
 * `message_hour_counts` holds their counts. Rows of an hour are written once, in one statement, and never
 * change: an hour is stored only when it can no longer change (docs/dashboard.md).
 */
export class MessageHourCounts1765540000000 implements MigrationInterface {
  name = 'MessageHourCounts1765540000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE message_hours_closed (
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hour timestamptz NOT NULL,
        PRIMARY KEY (user_id, hour)
      )`);
    await db.query(`
      CREATE TABLE message_hour_counts (
        user_id int NOT NULL,
        hour timestamptz NOT NULL,
        status smallint NOT NULL,
        count int NOT NULL,
        PRIMARY KEY (user_id, hour, status),
        FOREIGN KEY (user_id, hour) REFERENCES message_hours_closed (user_id, hour) ON DELETE CASCADE
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE message_hour_counts`);
    await db.query(`DROP TABLE message_hours_closed`);
  }
}
