import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status reports as the dispatcher received them, committed before the phone is acknowledged (ADR 1801).
 * The status app claims them in message-id order (ADR 0607), applies them to `messages` and deletes them
 * in the same transaction. No foreign key: a report for an id that is not ours is ignored when applied,
 * not refused here. The key leads with the message id, the order they are claimed in.
 */
export class StatusInbox1765300000000 implements MigrationInterface {
  name = 'StatusInbox1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE status_inbox (
        message_id bigint NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        device_id int NOT NULL,
        status smallint NOT NULL,
        at timestamptz NOT NULL,
        error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (message_id, id)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE status_inbox`);
  }
}
