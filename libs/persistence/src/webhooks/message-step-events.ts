import { statusRank } from '@smsfleet/contracts';
import { messageStepEvent, WebhookEvent, WebhookMessageRow } from '@smsfleet/webhooks';
import type { Queryable } from '../queryable';
import { recordWebhookEvents } from './webhook-events';

/**
 * The producers' side of the outbox: a statement that changes messages also answers, for the messages of
 * accounts with at least one subscription ("hooked", one index probe on webhooks_by_user per message), the
 * row as the change left it; the events are built from that and recorded in the same transaction. An
 * account without webhooks costs that probe and nothing else: no columns come back, no event is built.
 */

/** `EXISTS` whether the account of message alias `m` has any subscription. */
export function hookedSql(alias: string): string {
  return `EXISTS (SELECT 1 FROM webhooks w WHERE w.user_id = ${alias}.user_id)`;
}

const MESSAGE_COLUMNS = [
  'user_id',
  'sendto',
  'body',
  'customer_id',
  'device_id',
  'sim',
  'urgent',
  'created_at',
  'time_to_send',
  'taken_at',
  'sent_at',
  'delivered_at',
  'failed_at',
  'newsletter_id',
] as const;

/** The columns an UPDATE/INSERT … RETURNING of messages alias `m` gives for its events (and `hooked`). */
export function stepReturningSql(alias: string): string {
  return `${hookedSql(alias)} AS hooked, ${MESSAGE_COLUMNS.map((c) => `${alias}.${c}`).join(', ')}`;
}

/**
 * The select list of a message's columns from `source` (a CTE with stepReturningSql's columns, and a
 * `hooked` column), null unless hooked, with its newsletter from alias `n` (LEFT JOIN newsletters n ON
 * <source>.hooked AND n.id = <source>.newsletter_id).
 */
export function stepColumnsSql(source: string): string {
  return [
    `${source}.hooked`,
    ...MESSAGE_COLUMNS.map((c) => `CASE WHEN ${source}.hooked THEN ${source}.${c} END AS ${c}`),
    `n.title AS newsletter_title`,
    `n.body AS newsletter_body`,
  ].join(', ');
}

/** A step of a message and the message's row, as the producers' statements answer them. */
export interface MessageStepRow {
  message_id: number | string;
  status: number;
  at: Date;
  error: string | null;
  hooked: boolean;
  user_id: number | null;
  sendto: string | null;
  body: string | null;
  customer_id: number | string | null;
  device_id: number | null;
  sim: number | null;
  urgent: boolean | null;
  created_at: Date | null;
  time_to_send: Date | null;
  taken_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  newsletter_id: number | null;
  newsletter_title: string | null;
  newsletter_body: string | null;
}

/** The events of these steps (hooked ones), each message's in the order of its lifecycle. */
export function messageStepEvents(rows: readonly MessageStepRow[]): WebhookEvent[] {
  const hooked = rows.filter((row) => row.hooked && row.user_id !== null);
  hooked.sort(
    (a, b) =>
      Number(a.message_id) - Number(b.message_id) ||
      statusRank(a.status) - statusRank(b.status) ||
      a.at.getTime() - b.at.getTime(),
  );
  const events: WebhookEvent[] = [];
  for (const row of hooked) {
    const message = { ...row, id: row.message_id, status_error: row.error } as unknown as WebhookMessageRow;
    const event = messageStepEvent(
      message,
      { status: row.status, at: row.at, error: row.error },
      row.user_id!,
    );
    if (event !== undefined) events.push(event);
  }
  return events;
}

/** Records the events of these steps in the caller's transaction; answers how many deliveries it made. */
export async function recordMessageStepEvents(
  db: Queryable,
  rows: readonly MessageStepRow[],
): Promise<number> {
  const events = messageStepEvents(rows);
  return events.length === 0 ? 0 : recordWebhookEvents(db, events);
}
