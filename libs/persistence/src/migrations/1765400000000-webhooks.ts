import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (docs/webhooks.md): the subscriptions, the events as a durable outbox, and one delivery per
 * event and matching subscription, fanned out in the transaction that writes the event (so a subscription
 * created later never receives older events, and a delivery exists as soon as its change is committed).
 *
 * `webhook_events.payload` is `json`, not `jsonb`: it keeps the envelope's text as written (the
 * documented key order), and the body signed and sent is that text, the same bytes on every attempt.
 * `webhook_deliveries.message_id` repeats the event's so that the claim can hold back a message's later
 * delivery while an earlier one to the same subscription is undelivered (its partial index serves that
 * test); `lease_until` marks a delivery being sent, so a replica killed mid-send gives it back by expiry.
 */
export class Webhooks1765400000000 implements MigrationInterface {
  name = 'Webhooks1765400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhooks (
        id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        url text NOT NULL,
        description text NOT NULL DEFAULT '',
        events text[] NOT NULL,
        device_ids int[],
        secret text NOT NULL,
        previous_secret text,
        previous_secret_expires_at timestamptz,
        paused boolean NOT NULL DEFAULT false,
        disabled_at timestamptz,
        disabled_reason text,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX webhooks_by_user ON webhooks (user_id, id)`);
    await db.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY,
        user_id int NOT NULL,
        type varchar(32) NOT NULL,
        occurred_at timestamptz NOT NULL,
        payload json NOT NULL,
        message_id bigint,
        device_id int,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_id int NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
        message_id bigint,
        status varchar(10) NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        last_status_code smallint,
        last_error text,
        last_latency_ms int,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (webhook_id, event_id)
      )`);
    // The worker's claim: due undelivered deliveries, oldest due first.
    await db.query(`
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
       WHERE status IN ('pending', 'failed')`);
    // The order test: an earlier undelivered delivery of the same message to the same subscription.
    await db.query(`
      CREATE INDEX webhook_deliveries_undelivered_by_message ON webhook_deliveries (webhook_id, message_id, id)
       WHERE status IN ('pending', 'failed') AND message_id IS NOT NULL`);
    // The deliveries view, newest first, a page at a time.
    await db.query(`CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id)`);
    await db.query(`CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_deliveries`);
    await db.query(`DROP TABLE webhook_events`);
    await db.query(`DROP TABLE webhooks`);
  }
}
