import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The upper end of a random pace (seconds): each gap between two messages of the phone is drawn between
 * `delay_between_sms` and this. Null: a fixed pace, as before (carriers spot fixed intervals; issue 22).
 */
export class RandomPace1765520000000 implements MigrationInterface {
  name = 'RandomPace1765520000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices ADD COLUMN delay_max_between_sms int`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices DROP COLUMN delay_max_between_sms`);
  }
}
