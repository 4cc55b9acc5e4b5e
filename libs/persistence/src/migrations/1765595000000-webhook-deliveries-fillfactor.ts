import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room in each page of webhook_deliveries for its rows' lease writes: a claim, a renewal and a give-back
 * change only lease_until and lease_token, which no index holds, so with room on the row's page they are
 * HOT updates — no new entry in the five indexes, and no dead one for the next claim to step over
 * (docs/benchmarks.md, webhooks). Inserted pages were filled to the brim, which made every claim of a
 * fresh delivery a full update. Applies to pages filled from now on; taking only a SHARE UPDATE
 * EXCLUSIVE lock, it waits for no insert or update.
 */
export class WebhookDeliveriesFillfactor1765595000000 implements MigrationInterface {
  name = 'WebhookDeliveriesFillfactor1765595000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_deliveries SET (fillfactor = 60)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_deliveries RESET (fillfactor)`);
  }
}
