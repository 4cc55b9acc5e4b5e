import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dashboard sessions: the SHA-256 of each session's cookie secret (the secret itself lives only in the
 * browser's HTTP-only cookie), its account and its end.
 */
export class DashboardSessions1765320000000 implements MigrationInterface {
  name = 'DashboardSessions1765320000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE dashboard_sessions (
        secret_hash char(64) PRIMARY KEY,
        user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX dashboard_sessions_user_id ON dashboard_sessions (user_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE dashboard_sessions`);
  }
}
