import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API tokens become random and are kept sealed (AES-GCM under TOKEN_SECRET, which never enters the
 * database) beside their hash, so gettoken can answer them again. Tokens derived from the old database
 * secret stay valid; the apps seal them on use (or `cli token:reseal` all at once, which then deletes that
 * secret). An installation without tokens yet has nothing derived from it: its secret goes now.
 */
export class SealedApiTokens1765000000000 implements MigrationInterface {
  name = 'SealedApiTokens1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_tokens ADD COLUMN sealed text`);
    await db.query(
      `DELETE FROM instance_secrets WHERE name = 'api_token' AND NOT EXISTS (SELECT 1 FROM api_tokens)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_tokens DROP COLUMN sealed`);
  }
}
