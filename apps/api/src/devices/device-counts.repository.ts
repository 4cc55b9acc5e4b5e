import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { WAITING_STATUSES } from '@smsfleet/contracts';
import { statusIn } from '@smsfleet/persistence';

export interface DeviceCounts {
  waiting: number;
  sentToday: number;
}

/** How a day's sends are looked for: messages created this long before the day began, or later. */
const SENT_LOOKBACK_DAYS = 7;

/** Per device of an account: messages waiting (New, Queued) and sent since the day began. */
@Injectable()
export class DeviceCountsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async of(account: Account, dayStart: Date, deviceId?: number): Promise<Map<number, DeviceCounts>> {
    const params: unknown[] = [account.id, dayStart, SENT_LOOKBACK_DAYS];
    const device = deviceId === undefined ? '' : ` AND device_id = $${params.push(deviceId)}`;
    // Two index range scans (by status, by creation): a sent message was created before it was sent, and
    // one scheduled more than a week before its day is the rare case this does not count.
    const rows: Array<{ device_id: number; waiting: number; sent_today: number }> = await this.db.query(
      `SELECT device_id, sum(waiting)::int AS waiting, sum(sent)::int AS sent_today FROM (
         SELECT device_id, count(*) AS waiting, 0 AS sent FROM messages
          WHERE user_id = $1 AND ${statusIn(WAITING_STATUSES)}${device} GROUP BY device_id
         UNION ALL
         SELECT device_id, 0, count(*) FROM messages
          WHERE user_id = $1 AND created_at >= $2::timestamptz - make_interval(days => $3)
            AND sent_at >= $2${device} GROUP BY device_id
       ) AS counts GROUP BY device_id`,
      params,
    );
    return new Map(rows.map((row) => [row.device_id, { waiting: row.waiting, sentToday: row.sent_today }]));
  }
}
