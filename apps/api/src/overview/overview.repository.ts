import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import {
  HourStatusCount,
  hourlyStatusCounts,
  oldestWaitingOf,
  OldestWaitingRow,
  storedHourCounts,
} from '@smsfleet/persistence';

/** The overview's figures, each one statement over the account's rows (libs/persistence/src/messages/listing.ts). */
@Injectable()
export class OverviewRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Messages created in each of these hours (their starts), by status, received SMS aside. */
  byHourAndStatus(account: Account, hours: Date[]): Promise<HourStatusCount[]> {
    return hourlyStatusCounts(this.db, account.id, hours);
  }

  /** Of these hours, those the scheduler stored as closed (docs/dashboard.md), with their counts. */
  storedHours(account: Account, hours: Date[]): Promise<{ hours: Date[]; counts: HourStatusCount[] }> {
    return storedHourCounts(this.db, account.id, hours);
  }

  /** The waiting message (New or Queued) that has been due the longest, if any. */
  oldestWaiting(account: Account): Promise<OldestWaitingRow | undefined> {
    return oldestWaitingOf(this.db, account.id);
  }
}
