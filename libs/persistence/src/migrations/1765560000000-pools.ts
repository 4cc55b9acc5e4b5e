import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Phone pools (issue 22, ADR 2221): an account's named groups of its devices. A device is in at most one
 * pool (`pool_devices` keyed by the device), so a pool's routing and rebalancing never compete with
 * another pool's for one phone. The account is carried into `pool_devices` and both foreign keys include
 * it: PostgreSQL itself refuses a device of another account in a pool, whatever the code above does.
 * New tables only: nothing changes for existing rows.
 */
export class Pools1765560000000 implements MigrationInterface {
  name = 'Pools1765560000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE IF NOT EXISTS pools (
        id serial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pools_id_user_id UNIQUE (id, user_id)
      )`);
    // Names are unique per account regardless of case: a script finds its pool by name.
    await db.query(`CREATE UNIQUE INDEX IF NOT EXISTS pools_user_name ON pools (user_id, lower(name))`);
    await db.query(`
      CREATE TABLE IF NOT EXISTS pool_devices (
        device_id int PRIMARY KEY,
        pool_id int NOT NULL,
        user_id int NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pool_devices_pool_of_account FOREIGN KEY (pool_id, user_id)
          REFERENCES pools (id, user_id) ON DELETE CASCADE,
        CONSTRAINT pool_devices_device_of_account FOREIGN KEY (device_id, user_id)
          REFERENCES devices (id, user_id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX IF NOT EXISTS pool_devices_pool ON pool_devices (pool_id, device_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE IF EXISTS pool_devices`);
    await db.query(`DROP TABLE IF EXISTS pools`);
  }
}
