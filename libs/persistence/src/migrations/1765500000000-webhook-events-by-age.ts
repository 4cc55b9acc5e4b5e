import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook retention (WEBHOOK_RETENTION_SECONDS): the scheduler deletes ended events oldest first, a batch
 * at a time; this index finds them without reading the table. Built concurrently: events keep coming.
 */
export class WebhookEventsByAge1765500000000 implements MigrationInterface {
  name = 'WebhookEventsByAge1765500000000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_by_age ON webhook_events (created_at, id)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS webhook_events_by_age`);
  }
}
