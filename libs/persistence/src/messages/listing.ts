import { MessageStatus, WAITING_STATUSES } from '@smsfleet/contracts';
import { Queryable } from '../queryable';
import { statusIn, statusIsNot } from './status-sql';

/** Reads of one account's messages: getallsms, /v1/messages, the overview, device and newsletter counts. */

/** What a listing narrows by; every predicate is a bound parameter. */
export interface MessageListFilter {
  deviceId?: number;
  /** Messages sent to this pool (/v1/messages only). */
  poolId?: number;
  status?: number;
  /** created_at >= from */
  from?: Date;
  /** created_at < until */
  until?: Date;
  sim?: number;
  customerId?: number;
  /** Search forms of the number. */
  phones?: string[];
  descending: boolean;
}

/** A listed message (getallsms), as read from PostgreSQL. */
export interface MessageListRow {
  id: number;
  sendto: string;
  body: string;
  customer_id: number | null;
  status: number;
  device_id: number;
  sim: number;
  urgent: boolean;
  created_at: Date;
  sent_at: Date | null;
  time_to_send: Date;
  newsletter_id: number | null;
  newsletter_title: string | null;
  newsletter_body: string | null;
}

/** A message as /v1/messages shows it. */
export interface BrowsedMessageRow {
  id: number;
  sendto: string;
  body: string;
  customer_id: number | null;
  status: number;
  status_error: string | null;
  device_id: number;
  /** The pool it was sent to (null: sent to its device). */
  pool_id: number | null;
  sim: number;
  urgent: boolean;
  created_at: Date;
  time_to_send: Date;
  taken_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  newsletter_id: number | null;
}

export interface MessageEventRow {
  status: number;
  at: Date;
  recorded_at: Date;
  error: string | null;
}

export interface HourStatusCount {
  hour: Date;
  status: number;
  count: number;
}

export interface OldestWaitingRow {
  id: number;
  device_id: number;
  created_at: Date;
  time_to_send: Date;
}

/** Every predicate starts with the tenant; the rest are bound parameters. */
export function whereClause(userId: number, filter: MessageListFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [userId];
  const predicates = ['m.user_id = $1'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    predicates.push(sql(`$${params.length}`));
  };
  if (filter.deviceId !== undefined) add((p) => `m.device_id = ${p}`, filter.deviceId);
  if (filter.poolId !== undefined) add((p) => `m.pool_id = ${p}`, filter.poolId);
  if (filter.status !== undefined) add((p) => `m.status = ${p}`, filter.status);
  if (filter.from !== undefined) add((p) => `m.created_at >= ${p}`, filter.from);
  if (filter.until !== undefined) add((p) => `m.created_at < ${p}`, filter.until);
  if (filter.sim !== undefined) add((p) => `m.sim = ${p}`, filter.sim);
  if (filter.customerId !== undefined) add((p) => `m.customer_id = ${p}`, filter.customerId);
  if (filter.phones !== undefined) add((p) => `m.phone = ANY(${p}::text[])`, filter.phones);
  return { where: predicates.join(' AND '), params };
}

/** The status of one of the account's messages; undefined when it has no such message. */
export async function messageStatusOf(
  db: Queryable,
  userId: number,
  id: number,
): Promise<number | undefined> {
  const rows = (await db.query(`SELECT status FROM messages WHERE id = $1 AND user_id = $2`, [
    id,
    userId,
  ])) as Array<{
    status: number;
  }>;
  return rows[0]?.status;
}

/** Matches, counted up to `depth`: a page's cost does not grow with the account's whole history. */
export async function countMatching(
  db: Queryable,
  userId: number,
  filter: MessageListFilter,
  depth: number,
): Promise<number> {
  const { where, params } = whereClause(userId, filter);
  params.push(depth);
  const [{ count }] = (await db.query(
    `SELECT count(*)::bigint AS count FROM (SELECT 1 FROM messages m WHERE ${where} LIMIT $${params.length}) AS matches`,
    params,
  )) as Array<{ count: number }>;
  return count;
}

/** getallsms: one page by offset, in id order, with each message's newsletter. */
export async function listPage(
  db: Queryable,
  userId: number,
  filter: MessageListFilter,
  limit: number,
  offset: number,
): Promise<MessageListRow[]> {
  const { where, params } = whereClause(userId, filter);
  params.push(limit, offset);
  return (await db.query(
    `SELECT m.id, m.sendto, m.body, m.customer_id, m.status, m.device_id, m.sim, m.urgent, m.created_at,
              m.sent_at, m.time_to_send, m.newsletter_id, n.title AS newsletter_title, n.body AS newsletter_body
         FROM messages m
         LEFT JOIN newsletters n ON n.id = m.newsletter_id
        WHERE ${where}
        ORDER BY m.id ${filter.descending ? 'DESC' : 'ASC'}
        LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  )) as MessageListRow[];
}

const BROWSED_COLUMNS = `m.id, m.sendto, m.body, m.customer_id, m.status, m.status_error, m.device_id, m.pool_id, m.sim, m.urgent,
  m.created_at, m.time_to_send, m.taken_at, m.sent_at, m.delivered_at, m.failed_at, m.newsletter_id`;

/** /v1/messages by keyset (id): up to `limit` + 1 rows after the cursor, the extra one only says a next page exists. */
export async function browsePage(
  db: Queryable,
  userId: number,
  filter: MessageListFilter,
  after: number | undefined,
  limit: number,
): Promise<BrowsedMessageRow[]> {
  const { where, params } = whereClause(userId, filter);
  const direction = filter.descending ? 'DESC' : 'ASC';
  let keyset = '';
  if (after !== undefined) {
    params.push(after);
    keyset = ` AND m.id ${filter.descending ? '<' : '>'} $${params.length}`;
  }
  params.push(limit + 1);
  return (await db.query(
    `SELECT ${BROWSED_COLUMNS} FROM messages m WHERE ${where}${keyset} ORDER BY m.id ${direction} LIMIT $${params.length}`,
    params,
  )) as BrowsedMessageRow[];
}

export async function browseOne(
  db: Queryable,
  userId: number,
  id: number,
): Promise<BrowsedMessageRow | undefined> {
  const rows = (await db.query(
    `SELECT ${BROWSED_COLUMNS} FROM messages m WHERE m.user_id = $1 AND m.id = $2`,
    [userId, id],
  )) as BrowsedMessageRow[];
  return rows[0];
}

/** The message's history; the caller has already found the message among the account's. */
export async function messageEvents(db: Queryable, messageId: number): Promise<MessageEventRow[]> {
  return (await db.query(
    `SELECT status, at, recorded_at, error FROM message_events WHERE message_id = $1 ORDER BY at, id`,
    [messageId],
  )) as MessageEventRow[];
}

/**
 * Messages created in each of these hours (their starts), by status, received SMS aside. Hour by hour:
 * each is an index-only range scan of messages_user_created_status grouped by status alone, cheaper than
 * grouping every row by date_trunc (1,000,000 rows: 455 against 640 ms on a loaded 2-core host).
 */
export async function hourlyStatusCounts(
  db: Queryable,
  userId: number,
  hours: Date[],
): Promise<HourStatusCount[]> {
  if (hours.length === 0) return [];
  return (await db.query(
    `SELECT h.hour, c.status, c.count
         FROM unnest($2::timestamptz[]) AS h(hour)
        CROSS JOIN LATERAL (
          SELECT status, count(*)::int AS count FROM messages
           WHERE user_id = $1 AND created_at >= h.hour AND created_at < h.hour + interval '1 hour' AND ${statusIsNot(MessageStatus.Income)}
           GROUP BY status) AS c`,
    [userId, hours],
  )) as HourStatusCount[];
}

/**
 * The account's waiting message (New or Queued) that has been due the longest, if any: one entry of
 * messages_user_waiting_due (migration 1765530000000), whatever the backlog.
 */
export async function oldestWaitingOf(db: Queryable, userId: number): Promise<OldestWaitingRow | undefined> {
  const rows = (await db.query(
    `SELECT id, device_id, created_at, time_to_send FROM messages
        WHERE user_id = $1 AND ${statusIn(WAITING_STATUSES)} AND time_to_send <= now()
        ORDER BY time_to_send, id LIMIT 1`,
    [userId],
  )) as OldestWaitingRow[];
  return rows[0];
}

export interface DeviceMessageCounts {
  waiting: number;
  sentToday: number;
}

/** How a day's sends are looked for: messages created this long before the day began, or later. */
const SENT_LOOKBACK_DAYS = 7;

/** Per device of an account (or one device of it): messages waiting (New, Queued) and sent since `dayStart`. */
export async function deviceMessageCounts(
  db: Queryable,
  userId: number,
  dayStart: Date,
  deviceId?: number,
): Promise<Map<number, DeviceMessageCounts>> {
  const params: unknown[] = [userId, dayStart, SENT_LOOKBACK_DAYS];
  const device = deviceId === undefined ? '' : ` AND device_id = $${params.push(deviceId)}`;
  // Two index range scans (by status, by creation): a sent message was created before it was sent, and
  // one scheduled more than a week before its day is the rare case this does not count.
  const rows = (await db.query(
    `SELECT device_id, sum(waiting)::int AS waiting, sum(sent)::int AS sent_today FROM (
         SELECT device_id, count(*) AS waiting, 0 AS sent FROM messages
          WHERE user_id = $1 AND ${statusIn(WAITING_STATUSES)}${device} GROUP BY device_id
         UNION ALL
         SELECT device_id, 0, count(*) FROM messages
          WHERE user_id = $1 AND created_at >= $2::timestamptz - make_interval(days => $3)
            AND sent_at >= $2${device} GROUP BY device_id
       ) AS counts GROUP BY device_id`,
    params,
  )) as Array<{ device_id: number; waiting: number; sent_today: number }>;
  return new Map(rows.map((row) => [row.device_id, { waiting: row.waiting, sentToday: row.sent_today }]));
}

/** Messages of these newsletters (the account's) by status. */
export async function newsletterProgress(
  db: Queryable,
  userId: number,
  ids: number[],
): Promise<Array<{ newsletter_id: number; status: number; count: number }>> {
  if (ids.length === 0) return [];
  return (await db.query(
    `SELECT newsletter_id, status, count(*)::int AS count FROM messages
        WHERE user_id = $1 AND newsletter_id = ANY($2::int[]) GROUP BY 1, 2`,
    [userId, ids],
  )) as Array<{ newsletter_id: number; status: number; count: number }>;
}
