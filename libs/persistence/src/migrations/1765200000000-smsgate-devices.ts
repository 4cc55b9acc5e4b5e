import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Phones running the SMSGate Android app beside those speaking our socket protocol: each device has a
 * kind and the SIM slots it can send from (the app sends SMS only: slots 0 and 1). An SMSGate device's
 * bearer token is stored as its SHA-256 in `secret_hash` (looked up by it, hence the index); its webhook
 * signing key is kept as is, since we verify HMACs with it. Each account has one registration token
 * (the app's "Private Token"), derived like the API token and stored as its SHA-256.
 */
export class SmsgateDevices1765200000000 implements MigrationInterface {
  name = 'SmsgateDevices1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE devices
        ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'socket' CHECK (kind IN ('socket', 'smsgate')),
        ADD COLUMN send_slots smallint[] NOT NULL DEFAULT '{0,1,2,3,4,5}',
        ADD COLUMN push_token varchar(512),
        ADD COLUMN webhook_signing_key varchar(64)`);
    await db.query(
      `CREATE UNIQUE INDEX devices_smsgate_token ON devices (secret_hash) WHERE kind = 'smsgate'`,
    );
    await db.query(`
      CREATE TABLE phone_registration_tokens (
        user_id int PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        version int NOT NULL,
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE phone_registration_tokens`);
    await db.query(`DROP INDEX devices_smsgate_token`);
    await db.query(
      `ALTER TABLE devices DROP COLUMN kind, DROP COLUMN send_slots, DROP COLUMN push_token, DROP COLUMN webhook_signing_key`,
    );
  }
}
