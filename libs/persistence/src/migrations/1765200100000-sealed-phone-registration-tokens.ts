import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Phone registration tokens become random and sealed like API tokens (ADR 0903): `sealed` beside the
 * hash. Tokens derived before stay valid; the CLI seals them on use (`phone:token`, `token:reseal`).
 * An SMSGate device whose token was rotated awaits its app's next registration, which takes it over.
 */
export class SealedPhoneRegistrationTokens1765200100000 implements MigrationInterface {
  name = 'SealedPhoneRegistrationTokens1765200100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE phone_registration_tokens ADD COLUMN sealed text`);
    await db.query(`ALTER TABLE devices ADD COLUMN awaiting_registration boolean NOT NULL DEFAULT false`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices DROP COLUMN awaiting_registration`);
    await db.query(`ALTER TABLE phone_registration_tokens DROP COLUMN sealed`);
  }
}
