import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * getallsms by `sim`: without this index its count was a sequential scan of the whole table (117 ms at a
 * million rows, growing with every account's messages). Built concurrently: intake keeps writing.
 */
export class MessagesBySim1764100200000 implements MigrationInterface {
  name = 'MessagesBySim1764100200000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_sim ON messages (user_id, sim, id)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_user_sim`);
  }
}
