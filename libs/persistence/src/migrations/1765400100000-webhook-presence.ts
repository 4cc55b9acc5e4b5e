import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What `device.online`/`device.offline` last announced of a device, and since when it has been seen
 * offline without being announced so: presence itself lives in Redis (it expires with a dead node), so
 * the scheduler compares the two and records each announcement with its event in one transaction
 * (docs/webhooks.md). Null: never announced.
 */
export class WebhookPresence1765400100000 implements MigrationInterface {
  name = 'WebhookPresence1765400100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE devices ADD COLUMN webhook_online boolean, ADD COLUMN webhook_offline_since timestamptz`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices DROP COLUMN webhook_online, DROP COLUMN webhook_offline_since`);
  }
}
