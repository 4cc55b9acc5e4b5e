import { Injectable } from '@nestjs/common';
import { Queryable, recordStatusChanges } from '@smsfleet/persistence';
import { aggregateReports, DeviceStatusReport } from './status-aggregation';

/**
 * Applies status reports to the messages: reports applied together share one statement (one UPDATE of
 * the messages and one INSERT into the history). Idempotent: each (message, status) is recorded once, a
 * message only moves forward, and a report for a message of another device, or for an SMS the phone
 * received (status 5, nothing to report on), changes nothing.
 */
@Injectable()
export class StatusWriter {
  /** Runs on `db` (the drain's transaction); answers the statuses newly recorded in the history. */
  async write(db: Queryable, reports: DeviceStatusReport[]): Promise<number[]> {
    return recordStatusChanges(db, aggregateReports(reports), reports);
  }
}
