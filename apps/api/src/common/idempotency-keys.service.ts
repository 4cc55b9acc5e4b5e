import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError } from './api-error';
import { IdempotencyClaim } from './idempotency-key';

/** What a write answered, and whether this call only replayed an earlier answer. */
export interface Outcome {
  ids: number[];
  replayed: boolean;
}

/**
 * Runs a write at most once per (account, Idempotency-Key). The key row is inserted first, in the
 * write's transaction: a concurrent duplicate waits on its unique index until the first commits (then
 * replays its ids) or rolls back (then writes itself). A key exists exactly when its rows do.
 */
@Injectable()
export class IdempotencyKeysService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async once(
    userId: number,
    claim: IdempotencyClaim | undefined,
    write: (db: EntityManager) => Promise<number[]>,
  ): Promise<Outcome> {
    if (claim === undefined) return { ids: await write(this.db.manager), replayed: false };
    return this.db.transaction(async (tx) => {
      const claimed: unknown[] = await tx.query(
        `INSERT INTO idempotency_keys (user_id, key, endpoint, fingerprint) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`,
        [userId, claim.key, claim.endpoint, claim.fingerprint],
      );
      if (claimed.length === 0) return { ids: await this.replay(tx, userId, claim), replayed: true };
      const ids = await write(tx);
      await tx.query(`UPDATE idempotency_keys SET result_ids = $3 WHERE user_id = $1 AND key = $2`, [
        userId,
        claim.key,
        ids,
      ]);
      return { ids, replayed: false };
    });
  }

  private async replay(tx: EntityManager, userId: number, claim: IdempotencyClaim): Promise<number[]> {
    const [stored]: Array<{ endpoint: string; fingerprint: string; result_ids: string[] } | undefined> =
      await tx.query(
        `SELECT endpoint, fingerprint, result_ids FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [userId, claim.key],
      );
    // Purged (past its retention) between the claim and this read: the client's retry claims it anew.
    if (stored === undefined) throw new ApiError('unavailable', 'temporarily unavailable, retry');
    if (stored.endpoint !== claim.endpoint || stored.fingerprint !== claim.fingerprint)
      throw new ApiError(
        'idempotency_conflict',
        `Idempotency-Key ${claim.key} was already used for a different request (${stored.endpoint})`,
      );
    return stored.result_ids.map(Number);
  }
}
