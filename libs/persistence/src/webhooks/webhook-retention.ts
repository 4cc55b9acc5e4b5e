import type { Queryable } from '../queryable';

/**
 * Deletes up to `limit` webhook events older than `retentionSeconds` whose every delivery has ended
 * (delivered, or given up), oldest first; their deliveries go with them (ON DELETE CASCADE). An event with
 * a delivery still pending or waiting for a retry is kept however old, until it ends: a paused or failing
 * subscription's events are never lost to retention. Replicas share the work through SKIP LOCKED.
 * Answers how many events were deleted.
 */
export async function purgeEndedWebhookEvents(
  db: Queryable,
  retentionSeconds: number,
  limit: number,
): Promise<number> {
  const result = (await db.query(
    `WITH old AS (
       SELECT e.id FROM webhook_events e
        WHERE e.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.event_id = e.id AND d.status IN ('pending', 'failed'))
        ORDER BY e.created_at, e.id
        LIMIT $2
          FOR UPDATE OF e SKIP LOCKED
     )
     DELETE FROM webhook_events e USING old WHERE e.id = old.id
     RETURNING 1`,
    [retentionSeconds, limit],
  )) as unknown;
  if (Array.isArray(result)) {
    // TypeORM answers [rows, count] for DELETE … RETURNING.
    if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
    return result.length;
  }
  const rows = (result as { rows?: unknown[] } | null)?.rows;
  return Array.isArray(rows) ? rows.length : 0;
}
