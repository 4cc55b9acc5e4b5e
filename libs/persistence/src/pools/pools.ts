import { Queryable } from '../queryable';

/**
 * Phone pools (issue 22, ADR 2221): an account's named groups of its devices, a device in at most one.
 * Every statement is bounded by the account (`user_id`): another account's pool or device finds nothing.
 * Removed devices (`removed_at`) leave their pool in the removal's transaction (`leavePool`); the reads
 * skip them too, so a removal racing a join never shows a removed phone.
 */

export interface PoolRow {
  id: number;
  name: string;
  created_at: Date;
  updated_at: Date;
  /** Its live devices, by id. */
  members: Array<{ id: number; title: string }>;
}

/** A device asked to join a pool it cannot join, and why. */
export interface RefusedMember {
  device_id: number;
  reason: 'not_yours' | 'in_another_pool';
  /** The pool it is in, for `in_another_pool`. */
  pool_id: number | null;
}

const POOL_COLUMNS = `p.id, p.name, p.created_at, p.updated_at,
  COALESCE((SELECT json_agg(json_build_object('id', d.id, 'title', d.title) ORDER BY d.id)
              FROM pool_devices m JOIN devices d ON d.id = m.device_id AND d.removed_at IS NULL
             WHERE m.pool_id = p.id), '[]') AS members`;

/** Locks the account's row, so concurrent creations count one after the other; answers its pool count. */
export async function lockAndCountPools(tx: Queryable, userId: number): Promise<number> {
  await tx.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [userId]);
  const [{ count }] = (await tx.query(`SELECT count(*)::int AS count FROM pools WHERE user_id = $1`, [
    userId,
  ])) as Array<{ count: number }>;
  return count;
}

/** A new pool; undefined when the account already has one of that name (any case). */
export async function insertPool(tx: Queryable, userId: number, name: string): Promise<number | undefined> {
  const rows = (await tx.query(
    `INSERT INTO pools (user_id, name) VALUES ($1, $2) ON CONFLICT (user_id, lower(name)) DO NOTHING RETURNING id`,
    [userId, name],
  )) as Array<{ id: number }>;
  return rows[0]?.id;
}

export async function listPools(db: Queryable, userId: number): Promise<PoolRow[]> {
  return (await db.query(`SELECT ${POOL_COLUMNS} FROM pools p WHERE p.user_id = $1 ORDER BY p.id`, [
    userId,
  ])) as PoolRow[];
}

export async function findPool(db: Queryable, userId: number, poolId: number): Promise<PoolRow | undefined> {
  const rows = (await db.query(`SELECT ${POOL_COLUMNS} FROM pools p WHERE p.id = $1 AND p.user_id = $2`, [
    poolId,
    userId,
  ])) as PoolRow[];
  return rows[0];
}

/** Locks the pool for a change of its members (joins to one pool run one after the other); false: none. */
export async function lockPool(tx: Queryable, userId: number, poolId: number): Promise<boolean> {
  const rows = (await tx.query(`SELECT id FROM pools WHERE id = $1 AND user_id = $2 FOR UPDATE`, [
    poolId,
    userId,
  ])) as unknown[];
  return rows.length > 0;
}

/** Renames; 'absent' when the pool is not the account's, 'taken' when another pool has that name. */
export async function renamePool(
  tx: Queryable,
  userId: number,
  poolId: number,
  name: string,
): Promise<'renamed' | 'absent' | 'taken'> {
  const clash = (await tx.query(
    `SELECT id FROM pools WHERE user_id = $1 AND lower(name) = lower($2) AND id <> $3`,
    [userId, name, poolId],
  )) as unknown[];
  if (clash.length > 0) return 'taken';
  const rows = (await tx.query(
    `WITH renamed AS (
       UPDATE pools SET name = $3, updated_at = now() WHERE id = $1 AND user_id = $2 RETURNING id)
     SELECT id FROM renamed`,
    [poolId, userId, name],
  )) as unknown[];
  return rows.length > 0 ? 'renamed' : 'absent';
}

/** Deletes a pool; its devices leave it (and stay the account's). False: not the account's. */
export async function deletePool(db: Queryable, userId: number, poolId: number): Promise<boolean> {
  const rows = (await db.query(
    `WITH gone AS (DELETE FROM pools WHERE id = $1 AND user_id = $2 RETURNING id) SELECT id FROM gone`,
    [poolId, userId],
  )) as unknown[];
  return rows.length > 0;
}

/**
 * Which of `deviceIds` cannot join pool `poolId`: not a live device of the account, or already in another
 * pool. Run in the transaction that adds them, after `lockPool`. It locks the devices (`FOR NO KEY UPDATE`:
 * message inserts, which only take key-share locks, go on): a removal or a join of the same device to
 * another pool waits for this transaction, then sees its outcome; a removed device never joins.
 */
export async function refusedMembers(
  tx: Queryable,
  userId: number,
  poolId: number,
  deviceIds: readonly number[],
): Promise<RefusedMember[]> {
  // Locked in a statement of its own: the check below then reads with a snapshot taken after any join or
  // removal it waited for had committed (READ COMMITTED takes one per statement).
  await tx.query(
    `SELECT id FROM devices WHERE id = ANY($2::int[]) AND user_id = $1 ORDER BY id FOR NO KEY UPDATE`,
    [userId, deviceIds],
  );
  return (await tx.query(
    `SELECT v.id AS device_id,
            CASE WHEN d.id IS NULL THEN 'not_yours' ELSE 'in_another_pool' END AS reason,
            CASE WHEN d.id IS NULL THEN NULL ELSE m.pool_id END AS pool_id
       FROM unnest($2::int[]) AS v(id)
       LEFT JOIN devices d ON d.id = v.id AND d.user_id = $1 AND d.removed_at IS NULL
       LEFT JOIN pool_devices m ON m.device_id = v.id AND m.user_id = $1
      WHERE d.id IS NULL OR (m.pool_id IS NOT NULL AND m.pool_id <> $3)
      ORDER BY v.id`,
    [userId, deviceIds, poolId],
  )) as RefusedMember[];
}

/**
 * Adds devices to the pool (those already in it stay). The caller checked them with `refusedMembers` in
 * this transaction, which locked them: a conflict here can only be a device already in this pool.
 * Answers how many joined.
 */
export async function addPoolMembers(
  tx: Queryable,
  userId: number,
  poolId: number,
  deviceIds: readonly number[],
): Promise<number> {
  const rows = (await tx.query(
    `WITH added AS (
       INSERT INTO pool_devices (device_id, pool_id, user_id)
       SELECT id, $2, $1 FROM unnest($3::int[]) AS v(id)
       ON CONFLICT (device_id) DO NOTHING
       RETURNING device_id)
     SELECT device_id FROM added`,
    [userId, poolId, deviceIds],
  )) as unknown[];
  await touchPool(tx, poolId);
  return rows.length;
}

/** Removes devices from the pool; answers the ids that were in it. */
export async function removePoolMembers(
  tx: Queryable,
  userId: number,
  poolId: number,
  deviceIds: readonly number[],
): Promise<number[]> {
  const rows = (await tx.query(
    `WITH gone AS (
       DELETE FROM pool_devices WHERE pool_id = $2 AND user_id = $1 AND device_id = ANY($3::int[])
       RETURNING device_id)
     SELECT device_id FROM gone ORDER BY device_id`,
    [userId, poolId, deviceIds],
  )) as Array<{ device_id: number }>;
  if (rows.length > 0) await touchPool(tx, poolId);
  return rows.map((row) => row.device_id);
}

/** A removed device leaves its pool, in the removal's transaction. */
export async function leavePool(tx: Queryable, deviceId: number): Promise<void> {
  await tx.query(`DELETE FROM pool_devices WHERE device_id = $1`, [deviceId]);
}

/** The pool ids of each of the account's devices that is in one (a device is in at most one). */
export async function poolsOfDevices(db: Queryable, userId: number): Promise<Map<number, number>> {
  const rows = (await db.query(`SELECT device_id, pool_id FROM pool_devices WHERE user_id = $1`, [
    userId,
  ])) as Array<{ device_id: number; pool_id: number }>;
  return new Map(rows.map((row) => [row.device_id, row.pool_id]));
}

async function touchPool(tx: Queryable, poolId: number): Promise<void> {
  await tx.query(`UPDATE pools SET updated_at = now() WHERE id = $1`, [poolId]);
}

/** A live member of a pool with the rules routing judges it by (ADR 2221 §3). */
export interface PoolMemberRulesRow {
  device_id: number;
  send_slots: number[];
  send_hours: unknown;
  sim_quotas: unknown;
  /** Its last sign of life PostgreSQL knows (the dispatcher writes it now and then), for a member Redis forgot. */
  last_seen_at: Date | null;
}

/**
 * The live members of a pool and their rules, by device id. Not bounded by account: the pool id was
 * checked against the caller before (intake), or comes from a message row (sweep, mover).
 */
export async function poolMemberRules(db: Queryable, poolId: number): Promise<PoolMemberRulesRow[]> {
  return (await db.query(
    `SELECT d.id AS device_id, d.send_slots, d.send_hours, d.sim_quotas, d.last_seen_at
       FROM pool_devices m JOIN devices d ON d.id = m.device_id AND d.removed_at IS NULL
      WHERE m.pool_id = $1
      ORDER BY d.id`,
    [poolId],
  )) as PoolMemberRulesRow[];
}

/** Those of `poolIds` that are the account's pools, with their names and live member counts. */
export async function poolsOfAccount(
  db: Queryable,
  userId: number,
  poolIds: readonly number[],
): Promise<Array<{ id: number; name: string; members: number }>> {
  return (await db.query(
    `SELECT p.id, p.name,
            (SELECT count(*)::int FROM pool_devices m JOIN devices d ON d.id = m.device_id AND d.removed_at IS NULL
              WHERE m.pool_id = p.id) AS members
       FROM pools p WHERE p.user_id = $1 AND p.id = ANY($2::int[])`,
    [userId, poolIds],
  )) as Array<{ id: number; name: string; members: number }>;
}
