import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The overview's "waiting the longest" (oldestWaitingOf: an account's New or Queued message due first)
 * had no index of its own: it read every waiting message of the account through
 * messages_unfinished_valid_until (2,881 heap pages for 5,716 waiting messages of an account with a
 * million; 189 ms when they were not cached) and sorted them, more with every message of a backlog. With
 * this partial index it reads one entry (3 pages). Only waiting messages are in it, so it stays as small
 * as the backlog. Built concurrently: intake keeps writing.
 */
export class WaitingMessagesByDueTime1765530000000 implements MigrationInterface {
  name = 'WaitingMessagesByDueTime1765530000000';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_user_waiting_due ON messages (user_id, time_to_send, id) WHERE status IN (1, 3)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS messages_user_waiting_due`);
  }
}
