import { FAILURE_STATUSES, MessageStatus } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import { HourStatusCount } from './listing';
import { statusIn, statusIsNot } from './status-sql';

/**
 * Counts of closed hours (migration 1765540000000). An hour's counts never change once it has ended and
 * every message created in it has a final status: a message is created at the current time, a final
 * status is never replaced (docs/api.md), and after MESSAGE_VALIDITY_SECONDS +
 * MESSAGE_REPORT_TIMEOUT_SECONDS every message is final (the expiry sweep). The api applies the same rule
 * to the hours it keeps in memory (apps/api/src/overview/hourly-counts.ts).
 */

const HOUR_MS = 3_600_000;
/**
 * An hour is closed once it ended this long ago: no transaction that gave a message a creation time in it
 * is still uncommitted (statements end within API_STATEMENT_TIMEOUT_MS), whatever the clocks' skew.
 */
export const HOUR_CLOSING_MARGIN_MS = 10 * 60_000;
/** Long enough for the 7-day chart (169 hours); older stored hours are deleted. */
export const CLOSED_HOURS_KEPT_MS = 8 * 24 * HOUR_MS;

/** Final statuses of outgoing messages, as `isFinalStatus` has them (received SMS are never counted). */
const FINAL_OUTGOING = [MessageStatus.Delivered, ...FAILURE_STATUSES];

/** The start of the hour `at` is in, on the epoch's hours (the session's time zone plays no part). */
const hourOf = (at: string) => `to_timestamp(floor(extract(epoch FROM ${at}) / 3600) * 3600)`;

/**
 * Stores the counts of the account's hours that are closed and not stored yet, from CLOSED_HOURS_KEPT_MS
 * ago to the last closed one, in one statement (PostgreSQL's clock): each hour is one index-only range
 * scan of messages_user_created_status, as the overview's own count. An hour is stored when it ended
 * HOUR_CLOSING_MARGIN_MS ago and holds no message without a final status; the others are looked at
 * again next time. Two schedulers storing the same hour at once: the second's marker conflicts, and
 * only the hours whose marker a statement wrote get its counts. Answers how many hours it stored.
 */
export async function storeClosedHours(db: Queryable, userId: number): Promise<number> {
  const [{ stored }] = (await db.query(
    `WITH hours AS (
       SELECT h.hour
         FROM generate_series(${hourOf('now() - make_interval(secs => $2)')},
                              ${hourOf('now() - make_interval(secs => $3)')} - interval '1 hour',
                              interval '1 hour') AS h(hour)
        WHERE NOT EXISTS (SELECT 1 FROM message_hours_closed c WHERE c.user_id = $1 AND c.hour = h.hour)
     ), counts AS (
       SELECT h.hour, c.status, c.count
         FROM hours h
        CROSS JOIN LATERAL (
          SELECT status, count(*)::int AS count FROM messages
           WHERE user_id = $1 AND created_at >= h.hour AND created_at < h.hour + interval '1 hour'
             AND ${statusIsNot(MessageStatus.Income)}
           GROUP BY status) AS c
     ), closed AS (
       INSERT INTO message_hours_closed (user_id, hour)
       SELECT $1, h.hour FROM hours h
        WHERE NOT EXISTS (SELECT 1 FROM counts c WHERE c.hour = h.hour AND NOT ${statusIn(FINAL_OUTGOING, 'c.status')})
       ON CONFLICT DO NOTHING
       RETURNING hour
     ), written AS (
       INSERT INTO message_hour_counts (user_id, hour, status, count)
       SELECT $1, c.hour, c.status, c.count FROM counts c JOIN closed USING (hour)
     )
     SELECT count(*)::int AS stored FROM closed`,
    [userId, CLOSED_HOURS_KEPT_MS / 1_000, HOUR_CLOSING_MARGIN_MS / 1_000],
  )) as Array<{ stored: number }>;
  return stored;
}

/** Up to `limit` account ids after `afterId`, in order: the hour roll-up's walk over the accounts. */
export async function accountIdsAfter(db: Queryable, afterId: number, limit: number): Promise<number[]> {
  const rows = (await db.query(`SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2`, [
    afterId,
    limit,
  ])) as Array<{ id: number }>;
  return rows.map((row) => row.id);
}

/**
 * Deletes up to `limit` stored hours before the roll-up's window (CLOSED_HOURS_KEPT_MS, from the start of
 * its first hour, so that no hour is deleted and stored again); their counts go with them.
 */
export async function deleteOldStoredHours(db: Queryable, limit: number): Promise<number> {
  const [{ deleted }] = (await db.query(
    `WITH old AS (
       SELECT user_id, hour FROM message_hours_closed
        WHERE hour < ${hourOf('now() - make_interval(secs => $1)')}
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM message_hours_closed c USING old WHERE c.user_id = old.user_id AND c.hour = old.hour RETURNING 1
     )
     SELECT count(*)::int AS deleted FROM gone`,
    [CLOSED_HOURS_KEPT_MS / 1_000, limit],
  )) as Array<{ deleted: number }>;
  return deleted;
}

/** Of these hours (their starts), those stored for the account and their counts (an empty hour has none). */
export async function storedHourCounts(
  db: Queryable,
  userId: number,
  hours: Date[],
): Promise<{ hours: Date[]; counts: HourStatusCount[] }> {
  if (hours.length === 0) return { hours: [], counts: [] };
  const rows = (await db.query(
    `SELECT c.hour, n.status, n.count
       FROM message_hours_closed c
       LEFT JOIN message_hour_counts n ON n.user_id = c.user_id AND n.hour = c.hour
      WHERE c.user_id = $1 AND c.hour = ANY($2::timestamptz[])`,
    [userId, hours],
  )) as Array<{ hour: Date; status: number | null; count: number | null }>;
  const stored = new Map<number, Date>();
  const counts: HourStatusCount[] = [];
  for (const row of rows) {
    const hour = new Date(row.hour);
    stored.set(hour.getTime(), hour);
    if (row.status !== null && row.count !== null)
      counts.push({ hour, status: row.status, count: row.count });
  }
  return { hours: [...stored.values()], counts };
}
