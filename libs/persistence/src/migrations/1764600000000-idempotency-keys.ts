import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per (account, Idempotency-Key): written in the same transaction as the request's rows, so a
 * key exists exactly when its messages do. `result_ids` are the ids the first request answered.
 */
export class IdempotencyKeys1764600000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE idempotency_keys (
        user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key text NOT NULL,
        endpoint text NOT NULL,
        fingerprint text NOT NULL,
        result_ids bigint[],
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )`);
    await db.query(`CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
  }
}
