import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What PostgreSQL refused of a phone's input, alone, after its batch was split (ADR 1601): kept and
 * visible (`cli dead-letters`) instead of retried for ever, so that it never fails its neighbours. No
 * foreign keys: a device removed meanwhile is one of the reasons a row is refused.
 */
export class DeadLetters1765300100000 implements MigrationInterface {
  name = 'DeadLetters1765300100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind varchar(16) NOT NULL,
        device_id int,
        account_id int,
        payload jsonb NOT NULL,
        error text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX dead_letters_by_account ON dead_letters (account_id, id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE dead_letters`);
  }
}
