import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages sent to a pool (issue 22, ADR 2221 §2): `pool_id` is set once at intake (null: pinned to its
 * device, as every message before). A deleted pool's messages stay on the phone they are on (SET NULL).
 * The column has no default, so adding it changes only the catalogue; the foreign key is added NOT VALID
 * and validated apart, which scans the table without blocking intake's writes. The partial index holds only
 * waiting pool messages: the pool mover's and the pool cancel's scan. Built concurrently: intake keeps
 * writing (hence no transaction; each step is idempotent, so a failed run can be repeated).
 * `messages_pool` serves the foreign key's SET NULL when a pool is deleted: without it that statement
 * reads every message of every account; partial, so pinned messages (most) cost nothing more to insert.
 */
export class MessagesOfPools1765570000000 implements MigrationInterface {
  name = 'MessagesOfPools1765570000000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE messages ADD COLUMN IF NOT EXISTS pool_id int`);
    const [fk] = (await db.query(
      `SELECT 1 FROM pg_constraint WHERE conname = 'messages_pool' AND conrelid = 'messages'::regclass`,
    )) as unknown[];
    if (!fk)
      await db.query(
        `ALTER TABLE messages ADD CONSTRAINT messages_pool FOREIGN KEY (pool_id) REFERENCES pools (id)
           ON DELETE SET NULL NOT VALID`,
      );
    await db.query(`ALTER TABLE messages VALIDATE CONSTRAINT messages_pool`);
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_pool_waiting ON messages (pool_id, device_id, id)
        WHERE pool_id IS NOT NULL AND status IN (1, 3)`,
    );
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_pool ON messages (pool_id) WHERE pool_id IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_pool`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_pool_waiting`);
    await db.query(`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_pool`);
    await db.query(`ALTER TABLE messages DROP COLUMN IF EXISTS pool_id`);
  }
}
