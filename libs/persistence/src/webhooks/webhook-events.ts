import { AnyWebhookEvent, eventDeviceId, eventMessageId, WebhookEvent } from '@smsfleet/webhooks';
import type { Queryable } from '../queryable';

/**
 * Records events and fans each out to the subscriptions it matches (same account, the event's type among
 * the subscription's, and no device filter or the event's device in it), in the caller's transaction:
 * an event commits with the change it reports, or not at all. One statement per batch. Paused and
 * disabled subscriptions get their deliveries too (they wait until resumed); an event no subscription
 * matches is not stored, so accounts without webhooks cost one index probe per event.
 *
 * Events are given in the order they happened: a message's deliveries get ascending ids in that order,
 * which is the order the worker sends them in. Answers how many deliveries were created.
 */
export async function recordWebhookEvents(db: Queryable, events: readonly WebhookEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const result = (await db.query(
    `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::bigint[], $7::int[])
                WITH ORDINALITY AS v(id, user_id, type, occurred_at, payload, message_id, device_id, n)
     ),
     matched AS (
       SELECT i.*, w.id AS webhook_id
         FROM input i
         JOIN webhooks w ON w.user_id = i.user_id AND i.type = ANY (w.events)
                        AND (w.device_ids IS NULL OR i.device_id = ANY (w.device_ids))
     ),
     stored AS (
       INSERT INTO webhook_events (id, user_id, type, occurred_at, payload, message_id, device_id)
       SELECT id, user_id, type, occurred_at, payload::json, message_id, device_id
         FROM input i WHERE EXISTS (SELECT 1 FROM matched m WHERE m.n = i.n)
        ORDER BY n
     )
     INSERT INTO webhook_deliveries (webhook_id, event_id, message_id)
     SELECT webhook_id, id, message_id FROM matched ORDER BY n, webhook_id
     RETURNING 1`,
    columns(events),
  )) as unknown;
  return affectedRows(result);
}

/** One event to one subscription, whatever its filters (the on-demand `webhook.test`). */
export async function recordWebhookEventFor(
  db: Queryable,
  webhookId: number,
  event: AnyWebhookEvent,
): Promise<void> {
  await db.query(
    `WITH stored AS (
       INSERT INTO webhook_events (id, user_id, type, occurred_at, payload, message_id, device_id)
       VALUES ($1, $2, $3, $4, $5::json, $6, $7)
     )
     INSERT INTO webhook_deliveries (webhook_id, event_id, message_id) VALUES ($8, $1, $6)`,
    [...columns([event]).map((column) => column[0]), webhookId],
  );
}

function columns(events: readonly AnyWebhookEvent[]): unknown[][] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.account_id),
    events.map((e) => e.type),
    events.map((e) => e.occurred_at),
    events.map((e) => JSON.stringify(e)),
    events.map((e) => eventMessageId(e)),
    events.map((e) => eventDeviceId(e)),
  ];
}

/** Rows a RETURNING answered: TypeORM gives the rows, pg a result holding them. */
function affectedRows(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? rows.length : 0;
}
