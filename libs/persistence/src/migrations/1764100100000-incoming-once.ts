import { MigrationInterface, QueryRunner } from 'typeorm';

/** A phone repeats an `incoming` report until it is acknowledged: the same SMS is stored once. */
export class IncomingOnce1764100100000 implements MigrationInterface {
  name = 'IncomingOnce1764100100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE UNIQUE INDEX messages_incoming_once ON messages (device_id, time_to_send, phone, md5(body)) WHERE status = 5`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_incoming_once`);
  }
}
