import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-SIM quotas of a phone (`SimQuotas` of libs/contracts; null: none, as before) and the index that
 * rebuilds their counters from what phones took in a period after Redis lost them (issue 22). Partial:
 * only messages a phone took. Built concurrently: intake and the status app keep writing.
 */
export class SimQuotas1765520200000 implements MigrationInterface {
  name = 'SimQuotas1765520200000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE devices ADD COLUMN IF NOT EXISTS sim_quotas jsonb`);
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_device_sim_taken ON messages (device_id, sim, taken_at)
        WHERE taken_at IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_device_sim_taken`);
    await db.query(`ALTER TABLE devices DROP COLUMN IF EXISTS sim_quotas`);
  }
}
