import { WAITING_STATUSES } from '@smsfleet/contracts';
import { QUEUEABLE_COLUMNS, QueueableRow } from '../messages/dispatch';
import { statusIn } from '../messages/status-sql';
import { Queryable } from '../queryable';

/**
 * The pool mover's statements (ADR 2221 §4). Every one reads waiting pool messages through the partial
 * index `messages_pool_waiting (pool_id, device_id, id) WHERE pool_id IS NOT NULL AND status IN (1, 3)`.
 */

const WAITING = statusIn(WAITING_STATUSES);

/** Per pool, the devices whose queues hold (or will hold) its waiting messages. */
export async function poolDevicesWithWaitingMessages(db: Queryable): Promise<Map<number, number[]>> {
  const rows = (await db.query(
    `SELECT pool_id, device_id FROM messages
      WHERE pool_id IS NOT NULL AND ${WAITING}
      GROUP BY pool_id, device_id
      ORDER BY pool_id, device_id`,
  )) as Array<{ pool_id: number; device_id: number }>;
  const byPool = new Map<number, number[]>();
  for (const row of rows) {
    const devices = byPool.get(row.pool_id) ?? [];
    devices.push(row.device_id);
    byPool.set(row.pool_id, devices);
  }
  return byPool;
}

/**
 * Claims a pool's moves for this transaction: one scheduler moves a pool at a time, another one skips it.
 * NO KEY UPDATE, not UPDATE: intake's foreign-key check of a new message (KEY SHARE) must not wait for a
 * move; the pool routes' joins (NO KEY UPDATE) still serialise with it. False: another one holds it.
 */
export async function claimPoolForMoves(tx: Queryable, poolId: number): Promise<boolean> {
  const rows = (await tx.query(`SELECT id FROM pools WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED`, [
    poolId,
  ])) as unknown[];
  return rows.length > 0;
}

/** A waiting pool message, locked for a move, with what its job needs. */
export interface MovableRow extends QueueableRow {
  pool_id: number;
}

/**
 * Waiting messages of a pool that name `deviceId`, of `slots` only when given, after `afterId`, locked in
 * id order (a row the cancel, the sweep or the status writer holds is skipped this round).
 */
export async function lockMovableMessages(
  tx: Queryable,
  poolId: number,
  deviceId: number,
  slots: readonly number[] | null,
  afterId: number,
  limit: number,
): Promise<MovableRow[]> {
  return (await tx.query(
    `SELECT ${QUEUEABLE_COLUMNS}
       FROM messages
      WHERE pool_id = $1 AND device_id = $2 AND ${WAITING} AND id > $3
        AND ($5::int[] IS NULL OR sim = ANY($5::int[]))
      ORDER BY id
      LIMIT $4
      FOR UPDATE SKIP LOCKED`,
    [poolId, deviceId, afterId, limit, slots],
  )) as MovableRow[];
}

/**
 * Points locked messages at their new phones. Marked enqueued in the same statement: the mover adds the
 * jobs itself right after its commit, and a row with `enqueued_at` NULL would let the outbox sweep route
 * and add it meanwhile, perhaps to a third phone (two jobs, two sends). A crash before the add is found
 * again through the pool-moving hash (`returnToOutbox`).
 */
export async function moveLockedMessages(
  tx: Queryable,
  moves: ReadonlyArray<{ id: number; deviceId: number }>,
): Promise<void> {
  if (moves.length === 0) return;
  await tx.query(
    `UPDATE messages AS m SET device_id = v.device_id, enqueued_at = clock_timestamp()
       FROM unnest($1::bigint[], $2::int[]) AS v(id, device_id)
      WHERE m.id = v.id`,
    [moves.map((move) => move.id), moves.map((move) => move.deviceId)],
  );
}

/** A message of an unfinished move, locked: where its row points and whether it still waits. */
export interface MovingRow {
  id: number;
  device_id: number;
  waiting: boolean;
}

/** Locks the rows of these unfinished moves (skipping those another statement holds). */
export async function lockMovingMessages(tx: Queryable, ids: readonly number[]): Promise<MovingRow[]> {
  const rows = (await tx.query(
    `SELECT id, device_id, ${WAITING} AS waiting FROM messages
      WHERE id = ANY($1::bigint[])
      ORDER BY id
      FOR UPDATE SKIP LOCKED`,
    [ids],
  )) as Array<{ id: string; device_id: number; waiting: boolean }>;
  return rows.map((row) => ({ id: Number(row.id), device_id: row.device_id, waiting: row.waiting }));
}

/** Which of these messages still exist (a move's row is gone once its account was deleted). */
export async function existingMessageIds(db: Queryable, ids: readonly number[]): Promise<Set<number>> {
  const [{ present }] = (await db.query(
    `SELECT coalesce(array_agg(id), '{}') AS present FROM messages WHERE id = ANY($1::bigint[])`,
    [ids],
  )) as Array<{ present: string[] }>;
  return new Set(present.map(Number));
}

/** Hands waiting messages whose job is in no queue back to the outbox sweep, which routes and adds them. */
export async function returnToOutbox(tx: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`UPDATE messages SET enqueued_at = NULL WHERE id = ANY($1::bigint[])`, [ids]);
}

/**
 * The device's waiting pool messages, locked in id order (waiting for a row another statement holds):
 * a removal decides which of them a phone was sent before it lets them move (ADR 2221 §4, "left").
 */
export async function lockWaitingPoolMessagesOfDevice(tx: Queryable, deviceId: number): Promise<number[]> {
  const rows = (await tx.query(
    `SELECT id FROM messages WHERE device_id = $1 AND pool_id IS NOT NULL AND ${WAITING} ORDER BY id FOR UPDATE`,
    [deviceId],
  )) as Array<{ id: string }>;
  return rows.map((row) => Number(row.id));
}
