import type { Queryable } from '../queryable';

/** A delivery a worker claimed, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  webhook_id: number;
  event_id: string;
  attempts: number;
  first_attempt_at: Date | null;
  /** The stored envelope's text: the exact bytes signed and sent on every attempt. */
  body: string;
  url: string;
  secret: string;
  /** The rotated-out secret while its grace period runs, else null. */
  previous_secret: string | null;
  failing_since: Date | null;
}

/** Undelivered: waiting for a first attempt (`pending`) or for a retry (`failed`). */
const UNDELIVERED = `('pending', 'failed')`;

/**
 * Claims up to `limit` due deliveries nobody holds, leasing them for `leaseSeconds` (a worker killed
 * mid-send leaves them to be claimed again once the lease ends: at least once, with the same event id).
 * Rows are locked with SKIP LOCKED while leased, so replicas claiming at once never take the same one.
 * A delivery is held back while an earlier undelivered delivery of the same message to the same
 * subscription exists — being sent, waiting for a retry or not yet tried — so a message's events reach
 * a subscription in order, and at most one of them is in flight. Paused and disabled subscriptions'
 * deliveries wait.
 */
export async function claimDueDeliveries(
  db: Queryable,
  limit: number,
  leaseSeconds: number,
): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const rows = (await db.query(
    `UPDATE webhook_deliveries d
        SET lease_until = now() + make_interval(secs => $2)
       FROM webhooks w, webhook_events e
      WHERE d.id IN (
              SELECT c.id
                FROM webhook_deliveries c
                JOIN webhooks cw ON cw.id = c.webhook_id
               WHERE c.status IN ${UNDELIVERED}
                 AND c.next_attempt_at <= now()
                 AND (c.lease_until IS NULL OR c.lease_until < now())
                 AND NOT cw.paused AND cw.disabled_at IS NULL
                 AND (c.message_id IS NULL OR NOT EXISTS (
                       SELECT 1 FROM webhook_deliveries p
                        WHERE p.webhook_id = c.webhook_id AND p.message_id = c.message_id
                          AND p.id < c.id AND p.status IN ${UNDELIVERED}))
               ORDER BY c.next_attempt_at, c.id
               LIMIT $1
                 FOR UPDATE OF c SKIP LOCKED)
        AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id, d.webhook_id, d.event_id, d.attempts, d.first_attempt_at, e.payload::text AS body,
              w.url, w.secret, w.failing_since,
              CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret`,
    [limit, leaseSeconds],
  )) as ClaimedDelivery[] | [ClaimedDelivery[], number];
  return rowsOf(rows);
}

export interface AttemptRecord {
  deliveryId: string;
  webhookId: number;
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

/** A 2xx: the delivery is done, and the subscription is no longer failing. */
export async function recordDelivered(db: Queryable, attempt: AttemptRecord): Promise<void> {
  await db.query(
    `WITH done AS (
       UPDATE webhook_deliveries
          SET status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_attempt_at = now(),
              first_attempt_at = COALESCE(first_attempt_at, now()), last_status_code = $2,
              last_latency_ms = $3, last_error = NULL, lease_until = NULL
        WHERE id = $1
     )
     UPDATE webhooks SET failing_since = NULL WHERE id = $4 AND failing_since IS NOT NULL`,
    [attempt.deliveryId, attempt.statusCode ?? null, attempt.latencyMs, attempt.webhookId],
  );
}

/**
 * A failed attempt: retried at `retryAt`, or given up (`dead`) when that is null. The subscription is
 * marked failing from its first failure since its last success; answers since when.
 */
export async function recordFailedAttempt(
  db: Queryable,
  attempt: AttemptRecord,
  retryAt: Date | null,
): Promise<Date> {
  const rows = rowsOf(
    (await db.query(
      `WITH failed AS (
         UPDATE webhook_deliveries
            SET status = CASE WHEN $5::timestamptz IS NULL THEN 'dead' ELSE 'failed' END,
                attempts = attempts + 1, last_attempt_at = now(),
                first_attempt_at = COALESCE(first_attempt_at, now()), last_status_code = $2,
                last_latency_ms = $3, last_error = $4, next_attempt_at = COALESCE($5, next_attempt_at),
                lease_until = NULL
          WHERE id = $1
       )
       UPDATE webhooks SET failing_since = COALESCE(failing_since, now()) WHERE id = $6
       RETURNING failing_since`,
      [
        attempt.deliveryId,
        attempt.statusCode ?? null,
        attempt.latencyMs,
        attempt.error ?? null,
        retryAt,
        attempt.webhookId,
      ],
    )) as Array<{ failing_since: Date }> | [Array<{ failing_since: Date }>, number],
  );
  return rows[0]?.failing_since ?? new Date();
}

/** Disables a subscription with the reason shown to its owner; its deliveries wait until it is resumed. */
export async function disableWebhook(db: Queryable, webhookId: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE webhooks SET disabled_at = now(), disabled_reason = $2 WHERE id = $1 AND disabled_at IS NULL`,
    [webhookId, reason],
  );
}

/** Gives back leases taken and never sent (a worker stopping before it started them). */
export async function releaseDeliveries(db: Queryable, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db.query(`UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY ($1::bigint[])`, [
    deliveryIds,
  ]);
}

/** Undelivered deliveries of active subscriptions, and the age of the oldest, for the metrics. */
export async function webhookBacklog(db: Queryable): Promise<{ pending: number; oldestSeconds: number }> {
  const rows = rowsOf(
    (await db.query(
      `SELECT count(*)::bigint AS pending,
              COALESCE(EXTRACT(EPOCH FROM now() - min(d.created_at)), 0)::float8 AS oldest
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status IN ${UNDELIVERED} AND NOT w.paused AND w.disabled_at IS NULL`,
    )) as Array<{ pending: string; oldest: number }> | [Array<{ pending: string; oldest: number }>, number],
  );
  return { pending: Number(rows[0]?.pending ?? 0), oldestSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
}

/** TypeORM answers [rows, count] for UPDATE … RETURNING, rows otherwise; pg a result holding rows. */
function rowsOf<T>(result: T[] | [T[], number] | { rows: T[] }): T[] {
  if (!Array.isArray(result)) return result.rows;
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return result as T[];
}
