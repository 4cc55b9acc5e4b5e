import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every stored upload (an image sent with addsms), by account: counted against the account's quota and
 * deleted with its file after the retention (UploadRetentionService).
 */
export class Uploads1765000200000 implements MigrationInterface {
  name = 'Uploads1765000200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE uploads (
        id bigserial PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key varchar(64) NOT NULL UNIQUE,
        bytes int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX uploads_user_id ON uploads (user_id)`);
    await db.query(`CREATE INDEX uploads_created_at ON uploads (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE uploads`);
  }
}
