import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { MessageStatus, WAITING_STATUSES } from '@smsfleet/contracts';
import { statusIn, statusIsNot } from '@smsfleet/persistence';

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
   * Messages created in each of these hours (their starts), by status, received SMS aside. Hour by hour:
   * each is an index-only range scan of messages_user_created_status grouped by status alone, cheaper than
   * grouping every row by date_trunc (1,000,000 rows: 455 against 640 ms on a loaded 2-core host).
   */
  async byHourAndStatus(account: Account, hours: Date[]): Promise<HourStatusCount[]> {
    if (hours.length === 0) return [];
    return this.db.query(
      `SELECT h.hour, c.status, c.count
         FROM unnest($2::timestamptz[]) AS h(hour)
        CROSS JOIN LATERAL (
          SELECT status, count(*)::int AS count FROM messages
           WHERE user_id = $1 AND created_at >= h.hour AND created_at < h.hour + interval '1 hour' AND ${statusIsNot(MessageStatus.Income)}
           GROUP BY status) AS c`,
      [account.id, hours],
    );
  }

  /** The waiting message (New or Queued) that has been due the longest, if any. */
  async oldestWaiting(account: Account): Promise<OldestWaitingRow | undefined> {
    const rows: OldestWaitingRow[] = await this.db.query(
      `SELECT id, device_id, created_at, time_to_send FROM messages
        WHERE user_id = $1 AND ${statusIn(WAITING_STATUSES)} AND time_to_send <= now()
        ORDER BY time_to_send, id LIMIT 1`,
      [account.id],
    );
    return rows[0];
  }
}
