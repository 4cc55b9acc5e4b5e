import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The hours a phone may send in, in its own time zone, per weekday (`SendHours` of libs/contracts:
 * `{zone, days, urgent}`). Null: any hour, as before (SIMs that send at night get blocked; issue 22).
 */
export class SendHours1765520100000 implements MigrationInterface {
  name = 'SendHours1765520100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices ADD COLUMN send_hours jsonb`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices DROP COLUMN send_hours`);
  }
}
