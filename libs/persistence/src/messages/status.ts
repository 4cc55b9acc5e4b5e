import {
  AT_PHONE_STATUSES,
  MessageStatus,
  NO_REPORT_SENT_ERROR,
  NO_REPORT_TAKEN_ERROR,
  StatusReport,
  WAITING_STATUSES,
} from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import {
  MessageStepRow,
  recordMessageStepEvents,
  stepColumnsSql,
  stepReturningSql,
} from '../webhooks/message-step-events';
import { statusIn, statusIs } from './status-sql';

/** Where a message's status moves: phone reports, expiry, a removed device; each move also writes its history. */

/** One row of the batched UPDATE: the furthest status a batch reports for a message, and the stage times. */
export interface MessageStatusChange {
  messageId: number;
  deviceId: number;
  status: number;
  error: string | null;
  takenAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
}

/**
 * One statement: the UPDATE moves the messages of the reporting devices forward and returns them, and
 * only those get history rows. `m.id = ANY($1)` keeps the plan on the primary key: joined to unnest()
 * alone, PostgreSQL hashes the whole messages table for every batch. A message only moves forward, a
 * report for a message of another device or for a received SMS changes nothing. Each new history row of
 * an account with webhooks becomes an event, recorded by a second statement only when there is one: run
 * it inside a transaction, so the events commit with the change. Answers the statuses newly recorded in
 * the history.
 */
export async function recordStatusChanges(
  db: Queryable,
  changes: readonly MessageStatusChange[],
  reports: ReadonlyArray<StatusReport & { deviceId: number }>,
): Promise<number[]> {
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
       RETURNING m.id, ${stepReturningSql('m')}
     ),
     -- A repeat within the batch: the first one counts, as in aggregateReports (so the event and the
     -- message's stage time agree).
     history AS (
       INSERT INTO message_events (message_id, status, at, error)
       SELECT DISTINCT ON (r.message_id, r.status) r.message_id, r.status, r.at, r.error
         FROM unnest($9::bigint[], $10::int[], $11::smallint[], $12::timestamptz[], $13::text[])
              WITH ORDINALITY AS r(message_id, device_id, status, at, error, n)
         JOIN owned o ON o.id = r.message_id AND o.device_id = r.device_id
        ORDER BY r.message_id, r.status, r.n
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING message_id, status, at, error
     )
     SELECT h.message_id, h.status, h.at, h.error, ${stepColumnsSql('o')}
       FROM history h JOIN owned o ON o.id = h.message_id
       LEFT JOIN newsletters n ON o.hooked AND n.id = o.newsletter_id`,
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
  )) as MessageStepRow[];
  await recordMessageStepEvents(db, recorded);
  return recorded.map((row) => row.status);
}

/** A message the expiry made final. */
export interface FinalisedMessage {
  id: string;
  device_id: number;
  enqueued: boolean;
  error: string;
  final: number;
}

/**
 * Makes one batch of overdue messages final, with their history: waiting past their validity (plus
 * `graceSeconds`) becomes Expired with `expiredError`, at the phone with no report within `reportTimeoutSeconds` NoReport.
 * Rows another transaction holds are skipped (the next round takes them). Run inside a transaction.
 */
export async function finaliseOverdueMessages(
  tx: Queryable,
  graceSeconds: number,
  reportTimeoutSeconds: number,
  expiredError: string,
  limit: number,
): Promise<FinalisedMessage[]> {
  const finalised = (await tx.query(
    `WITH due AS (
       SELECT id, CASE WHEN ${statusIn(WAITING_STATUSES)} THEN ${MessageStatus.Expired} ELSE ${MessageStatus.NoReport} END AS final,
              CASE WHEN ${statusIn(WAITING_STATUSES)} THEN $3 WHEN ${statusIs(MessageStatus.SentByPhone)} THEN $5 ELSE $4 END AS error
         FROM messages
        WHERE (${statusIn(WAITING_STATUSES)} AND valid_until < now() - make_interval(secs => $1))
           OR (${statusIn(AT_PHONE_STATUSES)} AND COALESCE(sent_at, taken_at) < now() - make_interval(secs => $2))
        LIMIT $6
        FOR UPDATE SKIP LOCKED
     )
     , finalised AS (
       UPDATE messages m SET status = due.final, status_error = due.error, failed_at = now(), updated_at = now()
         FROM due WHERE m.id = due.id
       RETURNING m.id, m.device_id AS queue_device_id, m.enqueued_at IS NOT NULL AS enqueued, due.error, due.final,
                 ${stepReturningSql('m')}
     )
     , history AS (
       INSERT INTO message_events (message_id, status, at, error)
       SELECT id, final, now(), error FROM finalised
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING message_id, status, at, error
     )
     SELECT f.id, f.enqueued, f.error, f.final, f.queue_device_id, h.message_id IS NOT NULL AS recorded, h.message_id, h.status,
            h.at, ${stepColumnsSql('f')}
       FROM finalised f
       LEFT JOIN history h ON h.message_id = f.id
       LEFT JOIN newsletters n ON f.hooked AND n.id = f.newsletter_id`,
    [graceSeconds, reportTimeoutSeconds, expiredError, NO_REPORT_TAKEN_ERROR, NO_REPORT_SENT_ERROR, limit],
  )) as Array<
    MessageStepRow & Omit<FinalisedMessage, 'device_id'> & { queue_device_id: number; recorded: boolean }
  >;
  await recordMessageStepEvents(
    tx,
    finalised.filter((row) => row.recorded),
  );
  return finalised.map((row) => ({
    id: row.id,
    device_id: row.queue_device_id,
    enqueued: row.enqueued,
    error: row.error,
    final: row.final,
  }));
}

/**
 * Ends the waiting messages that `match` selects (an SQL condition on `m` over parameter $1) with a final
 * `status` and `error`, with their history and webhook events; answers their ids. Run inside a transaction.
 */
export async function finaliseWaitingMessages(
  tx: Queryable,
  match: string,
  matchParam: unknown,
  status: MessageStatus,
  error: string,
  moreParams: readonly unknown[] = [],
): Promise<number[]> {
  const finalised = (await tx.query(
    `WITH finalised AS (
       UPDATE messages m SET status = ${status}, status_error = $2, failed_at = now(), updated_at = now()
        WHERE ${match} AND ${statusIn(WAITING_STATUSES)}
        RETURNING m.id, ${stepReturningSql('m')}
     ),
     history AS (
       INSERT INTO message_events (message_id, status, at, error)
       SELECT id, ${status}, now(), $2 FROM finalised
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING message_id, status, at, error
     )
     SELECT f.id, h.message_id IS NOT NULL AS recorded, h.message_id, h.status, h.at, h.error, ${stepColumnsSql('f')}
       FROM finalised f
       LEFT JOIN history h ON h.message_id = f.id
       LEFT JOIN newsletters n ON f.hooked AND n.id = f.newsletter_id`,
    [matchParam, error, ...moreParams],
  )) as Array<MessageStepRow & { id: string; recorded: boolean }>;
  await recordMessageStepEvents(
    tx,
    finalised.filter((row) => row.recorded),
  );
  return finalised.map((row) => Number(row.id));
}

/**
 * Makes the device's waiting messages Expired with `error`, with their history, but those of `except`;
 * answers how many. Run inside a transaction.
 */
export async function expireWaitingOfDevice(
  tx: Queryable,
  deviceId: number,
  error: string,
  except: readonly number[] = [],
): Promise<number> {
  return (
    await finaliseWaitingMessages(
      tx,
      'device_id = $1 AND NOT (m.id = ANY($3::bigint[]))',
      deviceId,
      MessageStatus.Expired,
      error,
      [except],
    )
  ).length;
}
