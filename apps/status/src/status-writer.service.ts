import { Injectable } from '@nestjs/common';
import { MessageStatus } from '@smsfleet/contracts';
import { Queryable } from '@smsfleet/persistence';
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
    const changes = aggregateReports(reports);
    // One statement (its own transaction, one round trip): the UPDATE moves the messages of the reporting
    // devices forward and returns them, and only those get history rows. `m.id = ANY($1)` keeps the plan on
    // the primary key: joined to unnest() alone, PostgreSQL hashes the whole messages table for every batch.
    const recorded = (await db.query(
      `WITH owned AS (
         UPDATE messages m SET
            status = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.status ELSE m.status END,
            status_error = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.error ELSE m.status_error END,
            taken_at = COALESCE(m.taken_at, v.taken_at),
            -- A report proves the message went through its queue. The API's mark of enqueued_at skips a row
            -- this statement holds (SKIP LOCKED, EnqueuedMarker), so without this a fast phone could leave
            -- a delivered message with no enqueued_at. Server times only (taken is the dispatcher's clock,
            -- the rest the phone's): a mark is never older than its add (ADR 0605).
            enqueued_at = COALESCE(m.enqueued_at, m.taken_at, v.taken_at, now()),
            sent_at = COALESCE(m.sent_at, v.sent_at),
            delivered_at = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.delivered_at ELSE m.delivered_at END,
            failed_at = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.failed_at ELSE m.failed_at END,
            updated_at = now()
          FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])
               AS v(id, device_id, status, error, taken_at, sent_at, delivered_at, failed_at)
         WHERE m.id = ANY($1::bigint[]) AND m.id = v.id AND m.device_id = v.device_id
           AND m.status <> ${MessageStatus.Income}
         RETURNING m.id, m.device_id
       )
       -- A repeat within the batch: the first one counts, as in aggregateReports (so the event and the
       -- message's stage time agree).
       INSERT INTO message_events (message_id, status, at, error)
       SELECT DISTINCT ON (r.message_id, r.status) r.message_id, r.status, r.at, r.error
         FROM unnest($9::bigint[], $10::int[], $11::smallint[], $12::timestamptz[], $13::text[])
              WITH ORDINALITY AS r(message_id, device_id, status, at, error, n)
         JOIN owned o ON o.id = r.message_id AND o.device_id = r.device_id
        ORDER BY r.message_id, r.status, r.n
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING status`,
      [
        changes.map((c) => c.messageId),
        changes.map((c) => c.deviceId),
        changes.map((c) => c.status),
        changes.map((c) => c.error),
        changes.map((c) => c.takenAt),
        changes.map((c) => c.sentAt),
        changes.map((c) => c.deliveredAt),
        changes.map((c) => c.failedAt),
        reports.map((r) => r.messageId),
        reports.map((r) => r.deviceId),
        reports.map((r) => r.status),
        reports.map((r) => r.at),
        reports.map((r) => r.error ?? null),
      ],
    )) as Array<{ status: number }>;
    return recorded.map((row) => row.status);
  }
}
