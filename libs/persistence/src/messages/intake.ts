import { MessageStatus } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import {
  MessageStepRow,
  recordMessageStepEvents,
  stepColumnsSql,
  stepReturningSql,
} from '../webhooks/message-step-events';
import { statusIs } from './status-sql';

/** Where messages enter the table: accepted by the API, expanded from a newsletter, received by a phone. */

/** One message the API accepted. */
export interface NewMessageRow {
  userId: number;
  deviceId: number;
  sendto: string;
  phone: string;
  body: string;
  sim: number;
  urgent: boolean;
  customerId: number | null;
  timeToSend: Date;
  createdAt: Date;
  /** The pool it was sent to (`deviceId` is the member routing chose); null: pinned to `deviceId`. */
  poolId: number | null;
}

/** One INSERT for all rows; answers their ids as PostgreSQL returned them (one sequence, in row order). */
export async function insertMessages(
  db: Queryable,
  validitySeconds: number,
  rows: readonly NewMessageRow[],
): Promise<number[]> {
  const inserted = (await db.query(
    `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, valid_until, created_at, pool_id)
       SELECT m.user_id, m.device_id, m.sendto, m.phone, m.body, m.sim, m.urgent, m.customer_id, m.time_to_send,
              m.time_to_send + make_interval(secs => $1), m.created_at, m.pool_id
         FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::boolean[], $9::bigint[], $10::timestamptz[], $11::timestamptz[], $12::int[])
              WITH ORDINALITY AS m(user_id, device_id, sendto, phone, body, sim, urgent, customer_id, time_to_send, created_at, pool_id, n)
        ORDER BY m.n
       RETURNING id`,
    [
      validitySeconds,
      rows.map((m) => m.userId),
      rows.map((m) => m.deviceId),
      rows.map((m) => m.sendto),
      rows.map((m) => m.phone),
      rows.map((m) => m.body),
      rows.map((m) => m.sim),
      rows.map((m) => m.urgent),
      rows.map((m) => m.customerId),
      rows.map((m) => m.timeToSend),
      rows.map((m) => m.createdAt),
      rows.map((m) => m.poolId),
    ],
  )) as Array<{ id: number }>;
  return inserted.map((row) => Number(row.id));
}

/**
 * A newsletter's messages, one per contact carrying one of its tags (a contact once, however many tags
 * match), due now. Only what differs per contact comes back: a body copied per row would cost memory per
 * contact.
 */
export async function insertNewsletterMessages(
  db: Queryable,
  newsletterId: number,
  validitySeconds: number,
): Promise<Array<{ id: number; sendto: string }>> {
  return (await db.query(
    `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, urgent, time_to_send, valid_until, created_at, newsletter_id)
           SELECT n.user_id, n.device_id, c.sendto, c.phone, n.body, n.sim, false, now(),
                  now() + make_interval(secs => $2), now(), n.id
             FROM newsletters n
             JOIN devices d ON d.id = n.device_id AND d.removed_at IS NULL
             JOIN contacts c ON c.user_id = n.user_id
            WHERE n.id = $1
              AND EXISTS (SELECT 1 FROM contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = ANY(n.tag_ids))
            ORDER BY c.id
           ON CONFLICT (newsletter_id, phone) WHERE newsletter_id IS NOT NULL DO NOTHING
           RETURNING id, sendto`,
    [newsletterId, validitySeconds],
  )) as Array<{ id: number; sendto: string }>;
}

/** An SMS a phone received. */
export interface IncomingSms {
  deviceId: number;
  from: string;
  phone: string;
  body: string;
  sim: number;
  receivedAt: Date;
}

/**
 * One statement for the batch: new SMS inserted, repeats (of an earlier one, or within the batch) found.
 * The existing row is looked up by the snapshot before the INSERT; a repeat within the batch finds the
 * row its first copy inserted through `stored`. A new SMS of an account with webhooks becomes a
 * `message.incoming` event, recorded by a second statement: run it inside a transaction, so the event
 * commits with the SMS. Answers the id per record (null: device not found).
 */
export async function insertIncomingMessages(
  db: Queryable,
  records: readonly IncomingSms[],
): Promise<Array<number | null>> {
  const rows = (await db.query(
    `WITH v AS (
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::timestamptz[])
                WITH ORDINALITY AS v(device_id, sendto, phone, body, sim, received_at, n)),
       stored AS (
         INSERT INTO messages AS m (user_id, device_id, sendto, phone, body, sim, status, time_to_send, valid_until, sent_at, enqueued_at)
         SELECT d.user_id, d.id, v.sendto, v.phone, v.body, v.sim, $7::smallint, v.received_at, v.received_at, v.received_at, now()
           FROM v JOIN devices d ON d.id = v.device_id AND d.removed_at IS NULL
          ORDER BY v.n
         ON CONFLICT (device_id, time_to_send, phone, md5(body)) WHERE ${statusIs(MessageStatus.Income)} DO NOTHING
         RETURNING m.id, m.phone, md5(m.body) AS digest, ${stepReturningSql('m')})
       SELECT v.n, COALESCE(
                s.id,
                (SELECT m.id FROM messages m
                  WHERE m.device_id = v.device_id AND m.time_to_send = v.received_at AND m.phone = v.phone
                    AND md5(m.body) = md5(v.body) AND m.status = $7::smallint LIMIT 1)) AS id,
              s.id AS message_id, $7::smallint AS status, s.time_to_send AS at, NULL::text AS error,
              ${stepColumnsSql('s')}
         FROM v
         LEFT JOIN LATERAL (SELECT * FROM stored s
                             WHERE s.device_id = v.device_id AND s.time_to_send = v.received_at
                               AND s.phone = v.phone AND s.digest = md5(v.body) LIMIT 1) s ON true
         LEFT JOIN newsletters n ON s.hooked AND n.id = s.newsletter_id
        ORDER BY v.n`,
    [
      records.map((r) => r.deviceId),
      records.map((r) => r.from),
      records.map((r) => r.phone),
      records.map((r) => r.body),
      records.map((r) => r.sim),
      records.map((r) => r.receivedAt),
      MessageStatus.Income,
    ],
  )) as Array<MessageStepRow & { n: string; id: string | null }>;
  // A repeat within the batch finds its first copy's row: one event per SMS stored.
  const fresh = new Map(
    rows.filter((row) => row.message_id !== null).map((row) => [String(row.message_id), row]),
  );
  await recordMessageStepEvents(db, [...fresh.values()]);
  return rows.map((row) => (row.id === null ? null : Number(row.id)));
}
