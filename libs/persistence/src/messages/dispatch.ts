import { MessageStatus } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import { statusIs } from './status-sql';

/** Where messages leave for their device queues: the outbox, and the marks of what was enqueued. */

/** A message as a device queue's job needs it. */
export interface QueueableRow {
  id: number | string;
  device_id: number;
  sendto: string;
  body: string;
  sim: number;
  /** Absent: not urgent (newsletters). */
  urgent?: boolean;
  time_to_send: Date;
  valid_until: Date;
  /** The pool it was sent to (null or absent: pinned to its device). */
  pool_id?: number | null;
}

/** The columns of `messages` a QueueableRow is read from: one list, so a new job field reaches every reader. */
export const QUEUEABLE_COLUMNS =
  'id, device_id, sendto, body, sim, urgent, time_to_send, valid_until, pool_id';

/**
 * The outbox: New messages never enqueued, due within `horizonSeconds`, older than `graceSeconds` (the
 * API enqueues its own meanwhile), soonest first. Locked for the caller's transaction; rows another
 * replica holds are skipped.
 */
export async function claimOutbox(
  tx: Queryable,
  horizonSeconds: number,
  graceSeconds: number,
  limit: number,
): Promise<QueueableRow[]> {
  return (await tx.query(
    `SELECT ${QUEUEABLE_COLUMNS}
           FROM messages
          WHERE enqueued_at IS NULL AND ${statusIs(MessageStatus.New)}
            AND time_to_send <= now() + make_interval(secs => $1)
            AND created_at < now() - make_interval(secs => $2)
          ORDER BY time_to_send
          LIMIT $3
          FOR UPDATE SKIP LOCKED`,
    [horizonSeconds, graceSeconds, limit],
  )) as QueueableRow[];
}

/**
 * Gives claimed pool messages the device routing chose (ADR 2221 §5), in the claim's transaction (the rows
 * are locked by it). Only rows still waiting and never enqueued: no phone was ever sent them.
 */
export async function rerouteClaimedMessages(
  tx: Queryable,
  moves: ReadonlyArray<{ id: number; deviceId: number }>,
): Promise<void> {
  if (moves.length === 0) return;
  await tx.query(
    `UPDATE messages m SET device_id = v.device_id
       FROM unnest($1::bigint[], $2::int[]) AS v(id, device_id)
      WHERE m.id = v.id AND m.enqueued_at IS NULL AND m.pool_id IS NOT NULL`,
    [moves.map((move) => move.id), moves.map((move) => move.deviceId)],
  );
}

/**
 * Marks these messages enqueued, inside the caller's transaction. The clock, not now() (the transaction's
 * start): a rebuild bounded by a heartbeat relies on a mark never older than its add.
 */
export async function markEnqueuedInTransaction(tx: Queryable, ids: readonly number[]): Promise<void> {
  await tx.query(
    `UPDATE messages SET enqueued_at = clock_timestamp() WHERE id = ANY($1::bigint[]) AND enqueued_at IS NULL`,
    [ids],
  );
}

/** A message added to its queue, with the send time its job was added with. */
export interface AddedMessage {
  id: number;
  timeToSend: Date;
}

/**
 * Marks these messages enqueued, on its own. SKIP LOCKED: a row another statement is updating (the status
 * writer moving it on, many rows at once in its own order) is left unmarked rather than waited for, since
 * waiting deadlocks with those writers. An unmarked row costs only a no-op add by the outbox sweep, and a
 * rebuild bounded by the heartbeat checks it (ADR 0605); the status writer fills in enqueued_at of a row
 * it moves on.
 *
 * Only a row still as it was when its job was added: the mark comes ~50 ms or more after the add, and a
 * reschedule may commit in between — it removed that job and cleared `enqueued_at` (beyond the horizon:
 * the outbox sweep is to add it later). Marking that row would leave it with no job and no sweep to add
 * one: never sent. A reschedule always changes `time_to_send` (beyond the horizon it is later than any
 * time an add before it carried), so a row whose time is not the added one is left alone. Within 1 ms:
 * the time came back from PostgreSQL (microseconds) into a JS Date (milliseconds) for some callers.
 */
export async function markEnqueuedSkippingLocked(
  db: Queryable,
  added: readonly AddedMessage[],
): Promise<void> {
  await db.query(
    `UPDATE messages SET enqueued_at = now()
            WHERE id IN (SELECT m.id FROM messages m
                           JOIN unnest($1::bigint[], $2::timestamptz[]) AS a(id, time_to_send) ON m.id = a.id
                          WHERE m.enqueued_at IS NULL
                            AND m.time_to_send > a.time_to_send - interval '1 millisecond'
                            AND m.time_to_send < a.time_to_send + interval '1 millisecond'
                            FOR UPDATE OF m SKIP LOCKED)`,
    [added.map((message) => message.id), added.map((message) => message.timeToSend)],
  );
}

/** Seconds the New message due the longest has waited past its time (0: none). */
export async function oldestDueNewAge(db: Queryable): Promise<number> {
  const [row] = (await db.query(
    `SELECT EXTRACT(EPOCH FROM now() - min(time_to_send))::float8 AS age
         FROM messages WHERE ${statusIs(MessageStatus.New)} AND time_to_send <= now()`,
  )) as Array<{ age: number | null }>;
  return Math.max(0, row?.age ?? 0);
}

/**
 * Messages a phone took from one SIM slot in [from, to): what a SIM quota's counter holds, rebuilt after
 * Redis lost it (index `messages_device_sim_taken`). Taken means acknowledged by the phone; a message
 * sent but not yet recorded is not counted (docs/adr/2201).
 */
export async function countTakenInPeriod(
  db: Queryable,
  deviceId: number,
  sim: number,
  from: Date,
  to: Date,
): Promise<number> {
  const rows = (await db.query(
    `SELECT count(*)::int AS n FROM messages
      WHERE device_id = $1 AND sim = $2 AND taken_at >= $3 AND taken_at < $4`,
    [deviceId, sim, from, to],
  )) as Array<{ n: number }>;
  return rows[0]?.n ?? 0;
}
