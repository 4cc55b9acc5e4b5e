import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook leases carry the token of the claim that took them (docs/webhooks.md, "Workers"): the worker
 * renews, gives back and records only deliveries still holding its token, so a write made late — after its
 * lease ended and another claim took the delivery — can neither clear that claim's lease nor overwrite its
 * outcome. A nullable column without a default: no row is rewritten, and rows leased by a worker of the
 * previous release (no token) are claimed again once their lease ends, as after a crash.
 */
export class WebhookLeaseTokens1765590000000 implements MigrationInterface {
  name = 'WebhookLeaseTokens1765590000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS lease_token uuid`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS lease_token`);
  }
}
