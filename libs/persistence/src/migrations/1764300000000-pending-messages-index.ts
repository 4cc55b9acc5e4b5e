import { MigrationInterface, QueryRunner } from 'typeorm';

/** The oldest due message not yet taken by a phone is read at every metrics scrape: make it one index probe. */
export class PendingMessagesIndex1764300000000 implements MigrationInterface {
  name = 'PendingMessagesIndex1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX messages_pending_due ON messages (time_to_send) WHERE status = 1`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_pending_due`);
  }
}
