import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A message's and a newsletter's device belongs to the same account, checked by PostgreSQL too, not only
 * by every path of the application (security review I2): the foreign key is on (device_id, user_id).
 * It replaces the key on device_id alone, so a stored row still costs one index probe of devices. Added
 * NOT VALID and then validated, so existing rows are checked without blocking writes meanwhile.
 */
export class DeviceOfTheSameAccount1765000300000 implements MigrationInterface {
  name = 'DeviceOfTheSameAccount1765000300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices ADD CONSTRAINT devices_id_user_id UNIQUE (id, user_id)`);
    for (const table of ['messages', 'newsletters']) {
      await db.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_device_of_account FOREIGN KEY (device_id, user_id)
           REFERENCES devices (id, user_id) ON DELETE CASCADE NOT VALID`,
      );
      await db.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${table}_device_of_account`);
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_device_id_fkey`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['messages', 'newsletters']) {
      await db.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE`,
      );
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_device_of_account`);
    }
    await db.query(`ALTER TABLE devices DROP CONSTRAINT devices_id_user_id`);
  }
}
