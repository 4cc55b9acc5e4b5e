import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batched webhook deliveries (docs/webhooks.md, "Batches"): a subscription whose receiver accepts several
 * events per POST says how many (1: one event per POST, every subscription so far). A constant default:
 * no row is rewritten; the check reads the few subscription rows once.
 */
export class WebhookBatches1765590100000 implements MigrationInterface {
  name = 'WebhookBatches1765590100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE webhooks ADD COLUMN IF NOT EXISTS batch_size smallint NOT NULL DEFAULT 1
        CONSTRAINT webhooks_batch_size CHECK (batch_size BETWEEN 1 AND 100)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhooks DROP COLUMN IF EXISTS batch_size`);
  }
}
