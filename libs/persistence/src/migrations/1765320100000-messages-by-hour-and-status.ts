import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dashboard's hourly chart counts an account's messages by creation hour and status: with the status
 * beside (user_id, created_at) it is an index-only scan instead of a heap visit per message. It replaces
 * messages_user_created, whose every use it serves. Built concurrently: intake keeps writing.
 */
export class MessagesByHourAndStatus1765320100000 implements MigrationInterface {
  name = 'MessagesByHourAndStatus1765320100000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_created_status ON messages (user_id, created_at) INCLUDE (status)`,
    );
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_user_created`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_created ON messages (user_id, created_at)`,
    );
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_user_created_status`);
  }
}
