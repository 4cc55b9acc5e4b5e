import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The account's own settings. */
@Injectable()
export class AccountRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async setTimezone(userId: number, timezone: string): Promise<void> {
    await this.db.query(`UPDATE users SET timezone = $2 WHERE id = $1`, [userId, timezone]);
  }
}
