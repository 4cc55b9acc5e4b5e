import type { Queryable } from '../queryable';

/**
 * Deletes up to `limit` idempotency keys older than `retentionSeconds`; replicas share the work through
 * SKIP LOCKED. Answers how many keys were deleted.
 */
export async function purgeExpiredIdempotencyKeys(
  db: Queryable,
  retentionSeconds: number,
  limit: number,
): Promise<number> {
  const [{ purged }] = (await db.query(
    `WITH old AS (
       SELECT user_id, key FROM idempotency_keys
        WHERE created_at < now() - make_interval(secs => $1)
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), deleted AS (
       DELETE FROM idempotency_keys k USING old WHERE k.user_id = old.user_id AND k.key = old.key RETURNING 1
     )
     SELECT count(*)::int AS purged FROM deleted`,
    [retentionSeconds, limit],
  )) as Array<{ purged: number }>;
  return purged;
}
