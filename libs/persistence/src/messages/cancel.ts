import { MessageStatus, WAITING_STATUSES } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import { QueueableRow } from './dispatch';
import { finaliseWaitingMessages } from './status';
import { statusIn, statusIsNot } from './status-sql';

/** Cancel and reschedule (POST /v1/messages/cancel, /v1/messages/:id/reschedule): rows locked, then moved. */

/** Which of an account's messages a cancel takes: listed ids, or every waiting one matching all filters. */
export type CancelSelection =
  | { ids: readonly number[] }
  | { deviceId?: number; poolId?: number; customerId?: number; newsletterId?: number };

/** A message locked for a cancel or a reschedule, with what a device queue needs to add it again. */
export interface LockedMessage extends QueueableRow {
  id: string;
  status: number;
  enqueued: boolean;
  urgent: boolean;
}

/**
 * Locks the account's selected outgoing messages with id > `afterId` (at most `limit`, in id order: the
 * order the status writer locks in too, ADR 0607), for the caller's transaction. Listed ids come back
 * whatever their status (the answer names each); a filter takes waiting messages only. FOR UPDATE, not
 * SKIP LOCKED: a row the outbox sweep or the status writer holds is waited for, then judged as they left it.
 */
export async function lockMessagesToCancel(
  tx: Queryable,
  userId: number,
  selection: CancelSelection,
  afterId: number,
  limit: number,
): Promise<LockedMessage[]> {
  const params: unknown[] = [userId, afterId, limit];
  const where: string[] = [];
  if ('ids' in selection) {
    params.push(selection.ids);
    where.push(`id = ANY($${params.length}::bigint[])`, statusIsNot(MessageStatus.Income));
  } else {
    where.push(statusIn(WAITING_STATUSES));
    if (selection.deviceId !== undefined) {
      params.push(selection.deviceId);
      where.push(`device_id = $${params.length}`);
    }
    if (selection.poolId !== undefined) {
      // Through messages_pool_waiting: only waiting pool messages are in it.
      params.push(selection.poolId);
      where.push(`pool_id = $${params.length}`);
    }
    if (selection.customerId !== undefined) {
      params.push(selection.customerId);
      where.push(`customer_id = $${params.length}`);
    }
    if (selection.newsletterId !== undefined) {
      params.push(selection.newsletterId);
      where.push(`newsletter_id = $${params.length}`);
    }
  }
  return (await tx.query(
    `SELECT id, device_id, status, enqueued_at IS NOT NULL AS enqueued, sendto, body, sim,
            COALESCE(urgent, false) AS urgent, time_to_send, valid_until, pool_id
       FROM messages
      WHERE user_id = $1 AND id > $2 AND ${where.join(' AND ')}
      ORDER BY id
      LIMIT $3
        FOR UPDATE`,
    params,
  )) as LockedMessage[];
}

/** The account's outgoing message `id`, locked for the caller's transaction; undefined if not its own. */
export async function lockMessageToReschedule(
  tx: Queryable,
  userId: number,
  id: number,
): Promise<LockedMessage | undefined> {
  const [row] = await lockMessagesToCancel(tx, userId, { ids: [id] }, 0, 1);
  return row;
}

/**
 * Those of the ids whose reports wait in the status inbox: a phone took them (the dispatcher commits the
 * report before it completes the job, ADR 1801), even if `messages` does not say so yet.
 */
export async function messagesWithPendingReports(
  tx: Queryable,
  ids: readonly number[],
): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = (await tx.query(
    `SELECT DISTINCT message_id FROM status_inbox WHERE message_id = ANY($1::bigint[])`,
    [ids],
  )) as Array<{ message_id: string }>;
  return new Set(rows.map((row) => Number(row.message_id)));
}

/**
 * Makes these locked messages Cancelled (205) with `error`, with their history and webhook events
 * (`message.failed`), in the caller's transaction; only waiting ones move. Answers the ids cancelled.
 */
export async function cancelLockedMessages(
  tx: Queryable,
  ids: readonly number[],
  error: string,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const cancelled = await finaliseWaitingMessages(
    tx,
    'id = ANY($1::bigint[])',
    ids,
    MessageStatus.Cancelled,
    error,
  );
  return cancelled.sort((a, b) => a - b);
}

/**
 * Sets a locked waiting message's send time and validity, and clears `enqueued_at`: the caller adds its
 * job again in the same transaction (which marks it), or leaves it to the outbox sweep.
 */
export async function rescheduleLockedMessage(
  tx: Queryable,
  id: number,
  timeToSend: Date,
  validUntil: Date,
): Promise<void> {
  await tx.query(
    `UPDATE messages SET time_to_send = $2, valid_until = $3, enqueued_at = NULL, updated_at = now()
      WHERE id = $1 AND ${statusIn(WAITING_STATUSES)}`,
    [id, timeToSend, validUntil],
  );
}
