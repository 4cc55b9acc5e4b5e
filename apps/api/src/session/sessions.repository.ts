import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';

/** Dashboard sessions in PostgreSQL, found by the hash of their secret. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async create(secretHash: string, userId: number, expiresAt: Date): Promise<void> {
    // The account's expired sessions go with each sign-in: the table holds live sessions and few others.
    await this.db.query(`DELETE FROM dashboard_sessions WHERE user_id = $1 AND expires_at < now()`, [userId]);
    await this.db.query(
      `INSERT INTO dashboard_sessions (secret_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
      [secretHash, userId, expiresAt],
    );
  }

  async accountOf(secretHash: string): Promise<Account | undefined> {
    const rows: Account[] = await this.db.query(
      `SELECT u.id, u.email, u.timezone FROM dashboard_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.secret_hash = $1 AND s.expires_at > now()`,
      [secretHash],
    );
    return rows[0];
  }

  async remove(secretHash: string): Promise<void> {
    await this.db.query(`DELETE FROM dashboard_sessions WHERE secret_hash = $1`, [secretHash]);
  }
}
