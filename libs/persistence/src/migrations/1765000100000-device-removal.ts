import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A removed device keeps its row (its messages and their history stay listed) with the time it was
 * removed; every path that finds a device by id skips removed ones.
 */
export class DeviceRemoval1765000100000 implements MigrationInterface {
  name = 'DeviceRemoval1765000100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices ADD COLUMN removed_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices DROP COLUMN removed_at`);
  }
}
