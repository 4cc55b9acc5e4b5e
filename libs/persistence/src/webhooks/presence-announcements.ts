import type { Queryable } from '../queryable';

/** A device of an account subscribed to device events, with what was last announced of it. */
export interface PresenceCandidate {
  id: number;
  user_id: number;
  title: string;
  last_seen_at: Date | null;
  /** Null: never announced. */
  webhook_online: boolean | null;
  webhook_offline_since: Date | null;
}

/** Devices (not removed) of accounts with a subscription to device events, after `afterId`, in id order. */
export async function presenceCandidates(
  db: Queryable,
  afterId: number,
  limit: number,
): Promise<PresenceCandidate[]> {
  return (await db.query(
    `SELECT d.id, d.user_id, d.title, d.last_seen_at, d.webhook_online, d.webhook_offline_since
       FROM devices d
      WHERE d.id > $1 AND d.removed_at IS NULL
        AND EXISTS (SELECT 1 FROM webhooks w WHERE w.user_id = d.user_id
                                                AND w.events && ARRAY['device.online', 'device.offline']::text[])
      ORDER BY d.id LIMIT $2`,
    [afterId, limit],
  )) as PresenceCandidate[];
}

/** A new announced state of a device, applied only if what was announced is still `from` (another sweep may have run). */
export interface PresenceTransition {
  id: number;
  from: { online: boolean | null; offlineSince: Date | null };
  to: { online: boolean | null; offlineSince: Date | null };
}

/** Applies the transitions whose device is unchanged since it was read; answers their ids. In the caller's transaction. */
export async function applyPresenceTransitions(
  tx: Queryable,
  transitions: readonly PresenceTransition[],
): Promise<Set<number>> {
  if (transitions.length === 0) return new Set();
  const rows = (await tx.query(
    // In a CTE: TypeORM answers a bare UPDATE … RETURNING as [rows, count].
    `WITH applied AS (
     UPDATE devices d SET webhook_online = v.online, webhook_offline_since = v.offline_since
       FROM unnest($1::int[], $2::boolean[], $3::timestamptz[], $4::boolean[], $5::timestamptz[])
            AS v(id, was_online, was_offline_since, online, offline_since)
      WHERE d.id = v.id
        AND d.webhook_online IS NOT DISTINCT FROM v.was_online
        AND d.webhook_offline_since IS NOT DISTINCT FROM v.was_offline_since
      RETURNING d.id)
     SELECT id FROM applied`,
    [
      transitions.map((t) => t.id),
      transitions.map((t) => t.from.online),
      transitions.map((t) => t.from.offlineSince),
      transitions.map((t) => t.to.online),
      transitions.map((t) => t.to.offlineSince),
    ],
  )) as Array<{ id: number }>;
  return new Set(rows.map((row) => row.id));
}
