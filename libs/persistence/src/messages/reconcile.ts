import { WAITING_STATUSES } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import { QUEUEABLE_COLUMNS, QueueableRow } from './dispatch';
import { statusIn } from './status-sql';

/**
 * What rebuilding the device queues from PostgreSQL reads (after Redis lost its data). The inner
 * `OFFSET 0` subqueries keep lookups on the primary key: without them PostgreSQL walks the partial indexes
 * of every pending row.
 */

/** A pending message's id (a bigint may come back as a string) and device. */
export interface PendingRef {
  id: string;
  device_id: number;
}

/** Whether any message is waiting (New or Queued). */
export async function anyMessageWaiting(db: Queryable): Promise<boolean> {
  const [{ pending }] = (await db.query(
    `SELECT EXISTS (SELECT 1 FROM messages WHERE ${statusIn(WAITING_STATUSES)}) AS pending`,
  )) as Array<{ pending: boolean }>;
  return pending;
}

/** Waiting messages marked enqueued but due beyond the horizon go back to the outbox; answers how many. */
export async function returnBeyondHorizonToOutbox(db: Queryable, horizonSeconds: number): Promise<number> {
  const returned = (await db.query(
    `WITH returned AS (
         UPDATE messages SET enqueued_at = NULL
          WHERE ${statusIn(WAITING_STATUSES)} AND enqueued_at IS NOT NULL
            AND time_to_send > now() + make_interval(secs => $1)
         RETURNING id)
       SELECT id FROM returned`,
    [horizonSeconds],
  )) as unknown[];
  return returned.length;
}

/** The lowest and highest id of the waiting messages (null: none). */
export async function waitingIdRange(db: Queryable): Promise<{ first: number | null; last: number | null }> {
  const [range] = (await db.query(
    `SELECT min(id) AS first, max(id) AS last FROM messages WHERE ${statusIn(WAITING_STATUSES)}`,
  )) as Array<{ first: number | null; last: number | null }>;
  return range;
}

/**
 * Waiting, valid messages due within the horizon with ids in (`from`, `to`]; with `since`, only those
 * enqueued since then or never marked. A window of ids is a primary-key range scan.
 */
export async function waitingRefsInWindow(
  db: Queryable,
  from: number,
  to: number,
  horizonSeconds: number,
  since: Date | null,
): Promise<PendingRef[]> {
  return (await db.query(
    `SELECT id, device_id
           FROM (SELECT id, device_id, status, valid_until, time_to_send, enqueued_at
                   FROM messages WHERE id > $1 AND id <= $2 OFFSET 0) AS m
          WHERE ${statusIn(WAITING_STATUSES)} AND valid_until > now()
            AND time_to_send <= now() + make_interval(secs => $3)
            AND ($4::timestamptz IS NULL OR enqueued_at IS NULL OR enqueued_at >= $4)`,
    [from, to, horizonSeconds, since],
  )) as PendingRef[];
}

/** Of these ids, the messages still waiting, valid and due within the horizon, in id order. */
export async function waitingRowsByIds(
  db: Queryable,
  ids: readonly string[],
  horizonSeconds: number,
): Promise<QueueableRow[]> {
  return (await db.query(
    `SELECT ${QUEUEABLE_COLUMNS}
         FROM (SELECT * FROM messages WHERE id = ANY($1::bigint[]) OFFSET 0) AS m
        WHERE ${statusIn(WAITING_STATUSES)} AND valid_until > now()
          AND time_to_send <= now() + make_interval(secs => $2)
        ORDER BY id`,
    [ids, horizonSeconds],
  )) as QueueableRow[];
}

/** Marks these messages enqueued again, now (the clock, not the transaction start: never older than the add). */
export async function markEnqueuedAgain(db: Queryable, ids: readonly number[]): Promise<void> {
  await db.query(`UPDATE messages SET enqueued_at = clock_timestamp() WHERE id = ANY($1::bigint[])`, [ids]);
}

/** Of these ids, those of messages waiting for this device. */
export async function waitingIdsOfDevice(
  db: Queryable,
  ids: readonly number[],
  deviceId: number,
): Promise<Array<{ id: string }>> {
  return (await db.query(
    `SELECT id FROM (SELECT id, device_id, status FROM messages WHERE id = ANY($1::bigint[]) OFFSET 0) AS m
          WHERE device_id = $2 AND ${statusIn(WAITING_STATUSES)}`,
    [ids, deviceId],
  )) as Array<{ id: string }>;
}
