import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { poolsOfAccount } from '@smsfleet/persistence';
import { PoolRouter } from '@smsfleet/queueing';
import { ApiError } from '../common/api-error';
import { describeItemErrors, ItemError } from '../common/item-errors';
import { NewMessage, RoutedMessage } from './message-intake.service';

/**
 * Gives each message sent to a pool a device of that pool (ADR 2221 §2-§3): one router call per pool of a
 * request. A pool must be the caller's and have a device that can send the message's SIM slot; otherwise
 * the request is refused, naming the pool, and nothing is stored.
 */
@Injectable()
export class MessageRouting {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly router: PoolRouter,
  ) {}

  /** Refuses a pool that is not the caller's or has no devices (before work done only for a sendable request). */
  async assertOwnPool(account: Account, poolId: number): Promise<void> {
    const [pool] = await poolsOfAccount(this.db, account.id, [poolId]);
    const refusal = refusalOf(poolId, pool, pool?.members ?? 0);
    if (refusal) throw ApiError.validation(refusal);
  }

  /** `bulk`: refusals name the items (addalotofsms); else the first refusal is the answer. */
  async route(account: Account, messages: NewMessage[], bulk: boolean): Promise<RoutedMessage[]> {
    const byPool = new Map<number, number[]>();
    messages.forEach((message, index) => {
      if (message.poolId === undefined) return;
      const indexes = byPool.get(message.poolId);
      if (indexes) indexes.push(index);
      else byPool.set(message.poolId, [index]);
    });
    if (byPool.size === 0) return messages as RoutedMessage[];

    const pools = new Map(
      (await poolsOfAccount(this.db, account.id, [...byPool.keys()])).map((pool) => [pool.id, pool]),
    );
    const devices: Array<number | null> = messages.map((message) => message.deviceId ?? null);
    const refusals: ItemError[] = [];
    // Settled, not all: a failed pool must not leave another pool's held choice unreleased.
    const outcomes = await Promise.allSettled(
      [...byPool].map(async ([poolId, indexes]) => {
        const pool = pools.get(poolId);
        const state = pool && pool.members > 0 ? await this.router.readState(poolId) : [];
        const refusal = refusalOf(poolId, pool, state.length);
        if (refusal) {
          for (const index of indexes) refusals.push({ index, field: 'pool_id', message: refusal });
          return;
        }
        const chosen = await this.router.route(
          poolId,
          indexes.map((index) => ({ sim: messages[index].sim, urgent: messages[index].urgent })),
          { state, hold: true },
        );
        indexes.forEach((index, n) => {
          devices[index] = chosen[n];
          if (chosen[n] === null)
            refusals.push({
              index,
              field: 'sim',
              message: `no device of pool_id ${poolId} (${pool!.name}) can send sim ${messages[index].sim}`,
            });
        });
      }),
    );
    const failed = outcomes.find(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
    );
    if (failed || refusals.length > 0)
      this.release(messages.map((message, index) => ({ poolId: message.poolId, deviceId: devices[index] })));
    if (failed) throw failed.reason;
    if (refusals.length > 0) {
      refusals.sort((a, b) => a.index - b.index);
      if (bulk) throw new ApiError('validation', describeItemErrors(refusals), refusals);
      throw ApiError.validation(refusals[0].message);
    }
    return messages.map((message, index) => ({ ...message, deviceId: devices[index] as number }));
  }

  /**
   * The routed messages' jobs are added (or left to the sweep): the router counts queue lengths again.
   * Every routed message must come back here once, whatever became of the request.
   */
  release(messages: ReadonlyArray<{ poolId?: number; deviceId: number | null }>): void {
    this.router.release(
      messages.flatMap((message) =>
        message.poolId !== undefined && message.deviceId !== null ? [message.deviceId] : [],
      ),
    );
  }
}

/** Why a pool cannot take messages (another account's pool reads as none: its existence is not told). */
function refusalOf(poolId: number, pool: { name: string } | undefined, members: number): string | undefined {
  if (!pool) return `pool_id ${poolId} not found among your pools`;
  if (members === 0)
    return `pool_id ${poolId} (${pool.name}) has no devices; add some with POST /v1/pools/${poolId}/devices`;
  return undefined;
}
