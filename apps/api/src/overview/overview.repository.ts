import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';

export interface HourStatusCount {
  hour: Date;
  status: number;
  count: number;
}

export interface OldestWaitingRow {
  id: number;
  device_id: number;
  created_at: Date;
  time_to_send: Date;
}

/** The overview's figures, each one statement over the account's rows. */
@Injectable()
export class OverviewRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Messages created since `from`, by hour and status (received SMS aside): an index-only scan of
   * messages_user_created_status.
   */
  async byHourAndStatus(account: Account, from: Date): Promise<HourStatusCount[]> {
    return this.db.query(
      `SELECT date_trunc('hour', created_at) AS hour, status, count(*)::int AS count
         FROM messages WHERE user_id = $1 AND created_at >= $2 AND status <> 5
        GROUP BY 1, 2`,
      [account.id, from],
    );
  }

  /** The waiting message (New or Queued) that has been due the longest, if any. */
  async oldestWaiting(account: Account): Promise<OldestWaitingRow | undefined> {
    const rows: OldestWaitingRow[] = await this.db.query(
      `SELECT id, device_id, created_at, time_to_send FROM messages
        WHERE user_id = $1 AND status IN (1, 3) AND time_to_send <= now()
        ORDER BY time_to_send, id LIMIT 1`,
      [account.id],
    );
    return rows[0];
  }
}
