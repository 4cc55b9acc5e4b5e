import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StatusReport } from '@smsfleet/contracts';

/** One status report of one device, as the status inbox keeps it. */
export interface InboxReport extends StatusReport {
  deviceId: number;
}

/** The dispatcher's side of `status_inbox` (ADR 1801): reports are inserted, the status app applies them. */
@Injectable()
export class StatusInboxRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One multi-row INSERT, its own transaction: committed when this resolves. */
  async insert(reports: InboxReport[]): Promise<void> {
    if (reports.length === 0) return;
    await this.db.query(
      `INSERT INTO status_inbox (message_id, device_id, status, at, error)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::timestamptz[], $5::text[])`,
      [
        reports.map((r) => r.messageId),
        reports.map((r) => r.deviceId),
        reports.map((r) => r.status),
        reports.map((r) => r.at),
        reports.map((r) => r.error ?? null),
      ],
    );
  }
}
