import { randomUUID } from 'node:crypto';
import { Queryable, rowsOf } from '../queryable';

/** A delivery a worker claimed, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  /** The claim's token: every later write about this delivery (renewal, give-back, outcome) names it. */
  lease_token: string;
  webhook_id: number;
  event_id: string;
  attempts: number;
  first_attempt_at: Date | null;
  /** The stored envelope's text: the exact bytes signed and sent on every attempt. */
  body: string;
  url: string;
  /** The subscription's account: its sealed secrets are bound to it. */
  user_id: number;
  /** As stored: sealed (WebhookSecrets in libs/auth opens it), or in clear on a row from before sealing. */
  secret: string;
  /** The rotated-out secret while its grace period runs, else null (stored as `secret` is). */
  previous_secret: string | null;
  failing_since: Date | null;
  /** Events per POST the subscription accepts (1: each alone). */
  batch_size: number;
}

/** Undelivered: waiting for a first attempt (`pending`) or for a retry (`failed`). */
const UNDELIVERED = `('pending', 'failed')`;

/** A delivery as leased by one claim: writes about it apply only while it still holds that claim's token. */
export interface Lease {
  deliveryId: string;
  leaseToken: string;
}

/**
 * Claims up to `limit` due deliveries nobody holds, leasing them for `leaseSeconds` under a new token (a
 * worker killed mid-send leaves them to be claimed again once the lease ends: at least once, with the
 * same event id; its late writes then name a token the delivery no longer holds, and change nothing).
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
  // The chosen ids are handed to the UPDATE as an array (an init plan), so it reaches each row by its
  // primary key: joined as a set, the planner hashed the whole table for a chunk of a few hundred.
  const rows = (await db.query(
    `UPDATE webhook_deliveries d
        SET lease_until = now() + make_interval(secs => $2), lease_token = $3::uuid
       FROM webhooks w, webhook_events e
      WHERE d.id = ANY (ARRAY(
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
                 FOR UPDATE OF c SKIP LOCKED))
        AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id, d.lease_token, d.webhook_id, d.event_id, d.attempts, d.first_attempt_at, e.payload::text AS body,
              w.url, w.user_id, w.secret, w.failing_since, w.batch_size,
              CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret`,
    [limit, leaseSeconds, randomUUID()],
  )) as ClaimedDelivery[] | [ClaimedDelivery[], number];
  return rowsOf(rows);
}

/**
 * Planner settings for the claim, set in the caller's transaction before `claimDueDeliveries`: the due
 * index walked in its order, never a bitmap of every due row sorted. Right after a burst, before the
 * table is analyzed, the planner expects a few hundred due rows and chose the bitmap and the sort; at
 * 100,000 pending deliveries each claim then read and sorted them all (a quarter of a second, spilling to
 * disk) to take 128. Walking the index stops at the chunk, whatever the statistics say.
 */
export async function preferOrderedClaim(db: Queryable): Promise<void> {
  await db.query(
    `SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)`,
  );
}

export interface AttemptRecord extends Lease {
  webhookId: number;
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

/** A failed attempt, retried at `retryAt`, or given up (`dead`) when that is null. */
export interface FailedAttempt extends AttemptRecord {
  retryAt: Date | null;
}

/** A 2xx: the delivery is done, and the subscription is no longer failing. Answers false: lease lost. */
export async function recordDelivered(db: Queryable, attempt: AttemptRecord): Promise<boolean> {
  const [recorded] = await recordDeliveredMany(db, [attempt]);
  return recorded;
}

/**
 * 2xx answers, in one statement: each delivery done, and their subscriptions no longer failing. Only a
 * delivery still holding the attempt's lease token is written (answers, per attempt, whether it was):
 * one claimed again meanwhile belongs to that claim, whose own outcome is the one to keep. Rows are
 * locked in id order (deliveries, then subscriptions), the order every batched writer here keeps, so two
 * workers' batches wait for each other instead of deadlocking (ADR 0607); the token is checked on the
 * locked row, as it is now. NO KEY UPDATE, as a plain UPDATE takes: the status writer's new deliveries
 * (their foreign key's KEY SHARE) never wait for it.
 */
export async function recordDeliveredMany(
  db: Queryable,
  attempts: readonly AttemptRecord[],
): Promise<boolean[]> {
  if (attempts.length === 0) return [];
  const rows = rowsOf(
    (await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::int[], $4::int[])
                  AS v(id, lease_token, status_code, latency_ms)
       ),
       locked AS (
         SELECT d.id FROM webhook_deliveries d JOIN input i ON i.id = d.id AND i.lease_token = d.lease_token
          ORDER BY d.id FOR NO KEY UPDATE OF d
       ),
       done AS (
         UPDATE webhook_deliveries d
            SET status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_attempt_at = now(),
                first_attempt_at = COALESCE(first_attempt_at, now()), last_status_code = i.status_code,
                last_latency_ms = i.latency_ms, last_error = NULL, lease_until = NULL, lease_token = NULL
           FROM input i, locked l
          WHERE d.id = i.id AND l.id = i.id
          RETURNING d.id
       ),
       recovered AS (
         SELECT w.id FROM webhooks w
          WHERE w.id = ANY ($5::int[]) AND w.failing_since IS NOT NULL ORDER BY w.id FOR NO KEY UPDATE
       ),
       cleared AS (
         UPDATE webhooks w SET failing_since = NULL FROM recovered r WHERE w.id = r.id
       )
       SELECT id::text FROM done`,
      [
        attempts.map((a) => a.deliveryId),
        attempts.map((a) => a.leaseToken),
        attempts.map((a) => a.statusCode ?? null),
        attempts.map((a) => a.latencyMs),
        [...new Set(attempts.map((a) => a.webhookId))],
      ],
    )) as Array<{ id: string }> | [Array<{ id: string }>, number],
  );
  const written = new Set(rows.map((row) => String(row.id)));
  return attempts.map((a) => written.has(String(a.deliveryId)));
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
  const [failingSince] = await recordFailedAttempts(db, [{ ...attempt, retryAt }]);
  return failingSince;
}

/**
 * Failed attempts, in one statement (locks in id order and writes only deliveries still holding the
 * attempt's lease token, as `recordDeliveredMany`); answers, per attempt, since when its subscription is
 * failing.
 */
export async function recordFailedAttempts(
  db: Queryable,
  attempts: readonly FailedAttempt[],
): Promise<Date[]> {
  if (attempts.length === 0) return [];
  const rows = rowsOf(
    (await db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::timestamptz[], $7::uuid[])
                  AS v(id, status_code, latency_ms, error, retry_at, lease_token)
       ),
       locked AS (
         SELECT d.id FROM webhook_deliveries d JOIN input i ON i.id = d.id AND i.lease_token = d.lease_token
          ORDER BY d.id FOR NO KEY UPDATE OF d
       ),
       failed AS (
         UPDATE webhook_deliveries d
            SET status = CASE WHEN i.retry_at IS NULL THEN 'dead' ELSE 'failed' END,
                attempts = attempts + 1, last_attempt_at = now(),
                first_attempt_at = COALESCE(first_attempt_at, now()), last_status_code = i.status_code,
                last_latency_ms = i.latency_ms, last_error = i.error,
                next_attempt_at = COALESCE(i.retry_at, next_attempt_at), lease_until = NULL,
                lease_token = NULL
           FROM input i, locked l
          WHERE d.id = i.id AND l.id = i.id
       ),
       failing AS (
         SELECT w.id FROM webhooks w WHERE w.id = ANY ($6::int[]) ORDER BY w.id FOR NO KEY UPDATE
       )
       UPDATE webhooks w SET failing_since = COALESCE(w.failing_since, now())
         FROM failing f WHERE w.id = f.id
       RETURNING w.id, w.failing_since`,
      [
        attempts.map((a) => a.deliveryId),
        attempts.map((a) => a.statusCode ?? null),
        attempts.map((a) => a.latencyMs),
        attempts.map((a) => a.error ?? null),
        attempts.map((a) => a.retryAt),
        [...new Set(attempts.map((a) => a.webhookId))],
        attempts.map((a) => a.leaseToken),
      ],
    )) as Array<{ id: number; failing_since: Date }> | [Array<{ id: number; failing_since: Date }>, number],
  );
  const since = new Map(rows.map((row) => [Number(row.id), row.failing_since]));
  return attempts.map((a) => since.get(a.webhookId) ?? new Date());
}

/** Disables a subscription with the reason shown to its owner; its deliveries wait until it is resumed. */
export async function disableWebhook(db: Queryable, webhookId: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE webhooks SET disabled_at = now(), disabled_reason = $2 WHERE id = $1 AND disabled_at IS NULL`,
    [webhookId, reason],
  );
}

/**
 * Gives back leases taken and never sent (a worker stopping, or one whose lease could no longer cover a
 * send), each only while it still holds its claim's token: a give-back arriving after the lease ended and
 * another claim took the delivery must not free it while that claim sends it.
 */
export async function releaseDeliveries(db: Queryable, leases: readonly Lease[]): Promise<void> {
  if (leases.length === 0) return;
  await db.query(
    `WITH input AS (SELECT * FROM unnest($1::bigint[], $2::uuid[]) AS v(id, lease_token)),
     locked AS (
       SELECT d.id FROM webhook_deliveries d JOIN input i ON i.id = d.id AND i.lease_token = d.lease_token
        ORDER BY d.id FOR NO KEY UPDATE OF d
     )
     UPDATE webhook_deliveries d SET lease_until = NULL, lease_token = NULL FROM locked l WHERE d.id = l.id`,
    [leases.map((l) => l.deliveryId), leases.map((l) => l.leaseToken)],
  );
}

/**
 * Extends leases a worker still holds (claimed, being sent, or sent with the outcome still to write) to
 * `leaseSeconds` from now, so none ends while its worker lives: only a crash (or a worker cut off from
 * PostgreSQL for a whole lease) lets another claim take a delivery. Answers the ids renewed (as text); a lease
 * missing from them is no longer this worker's.
 */
export async function renewLeases(
  db: Queryable,
  leases: readonly Lease[],
  leaseSeconds: number,
): Promise<Set<string>> {
  if (leases.length === 0) return new Set();
  const rows = rowsOf(
    (await db.query(
      `WITH input AS (SELECT * FROM unnest($1::bigint[], $2::uuid[]) AS v(id, lease_token)),
       locked AS (
         SELECT d.id FROM webhook_deliveries d JOIN input i ON i.id = d.id AND i.lease_token = d.lease_token
          ORDER BY d.id FOR NO KEY UPDATE OF d
       )
       UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $3)
         FROM locked l WHERE d.id = l.id
       RETURNING d.id::text`,
      [leases.map((l) => l.deliveryId), leases.map((l) => l.leaseToken), leaseSeconds],
    )) as Array<{ id: string }> | [Array<{ id: string }>, number],
  );
  return new Set(rows.map((row) => String(row.id)));
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
