import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueue, poolMovingKey } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import {
  claimPoolForMoves,
  existingMessageIds,
  lockMovableMessages,
  lockMovingMessages,
  messagesWithPendingReports,
  moveLockedMessages,
  poolDevicesWithWaitingMessages,
  returnToOutbox,
} from '@smsfleet/persistence';
import {
  DeviceQueues,
  EnqueueableMessage,
  enqueueableFrom,
  MessageEnqueuer,
  PoolMemberState,
  PoolRouter,
  RedisConnections,
  WaitingJobRemover,
} from '@smsfleet/queueing';
import { BatchLoop } from './batch-loop';
import { RedisLossReconcileService } from './redis-loss-reconcile.service';

/** Messages locked, judged and moved per transaction (ADR 2221 §4). */
export const POOL_MOVE_CHUNK = 200;
/**
 * A pool-moving entry this old belongs to a mover that died between its Redis step and its commit or its
 * add: past the tombstone's 60 s, so the sweep's add of the row is no longer swallowed by it.
 */
export const STALE_MOVE_MS = 90_000;

export type DrainReason = 'offline' | 'quota' | 'left';

/** A member (or a former one) whose untaken messages go elsewhere, of `slots` only when given. */
export interface DrainingMember {
  deviceId: number;
  reason: DrainReason;
  slots: number[] | null;
}

/**
 * Which of the devices holding a pool's waiting messages drain (ADR 2221 §4): no longer a member (left or
 * removed); offline longer than the grace (or never seen); or with a SIM slot whose quota is full (only
 * that slot's messages move).
 */
export function drainingMembers(
  devicesWithMessages: readonly number[],
  state: readonly PoolMemberState[],
  now: number,
  offlineGraceMs: number,
): DrainingMember[] {
  const members = new Map(state.map((member) => [member.deviceId, member]));
  const draining: DrainingMember[] = [];
  for (const deviceId of devicesWithMessages) {
    const member = members.get(deviceId);
    if (!member) draining.push({ deviceId, reason: 'left', slots: null });
    else if (
      !member.online &&
      (member.offlineSinceMs === null || now - member.offlineSinceMs > offlineGraceMs)
    )
      draining.push({ deviceId, reason: 'offline', slots: null });
    else if (member.fullSlots.length > 0)
      draining.push({ deviceId, reason: 'quota', slots: [...member.fullSlots] });
  }
  return draining;
}

/**
 * The pool mover (ADR 2221 §4): every `POOL_MOVE_INTERVAL_MS`, the messages routed to a pool member that
 * drains, and that no phone was ever sent, move to another member of the pool that is online. One
 * scheduler moves a pool at a time (its row locked per chunk); a job some phone was emitted stays where
 * it is (`em`, §6). Nothing runs while Redis lost data and the rebuild has not finished (§5).
 */
@Injectable()
export class PoolMoverService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PoolMoverService.name);
  private readonly loop = new BatchLoop({
    name: 'pool mover',
    intervalMs: () => this.config.scheduler.poolMoveIntervalMs,
    // Each round moves every draining member's messages in chunks itself: never run again at once.
    batchSize: Number.MAX_SAFE_INTEGER,
    runOnce: () => this.moveOnce(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly router: PoolRouter,
    private readonly remover: WaitingJobRemover,
    private readonly enqueuer: MessageEnqueuer,
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    private readonly redisLoss: RedisLossReconcileService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(this.config.scheduler.poolMoveIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private get movingKey(): string {
    return poolMovingKey(this.config.redisPrefix);
  }

  /** One round: unfinished moves first, then every pool with waiting messages; answers how many moved. */
  async moveOnce(): Promise<number> {
    if (!(await this.redisLoss.queuesIntact())) return 0;
    await this.recoverStaleMoves();
    let moved = 0;
    for (const [poolId, devices] of await poolDevicesWithWaitingMessages(this.db))
      moved += await this.movePool(poolId, devices);
    return moved;
  }

  private async movePool(poolId: number, devicesWithMessages: number[]): Promise<number> {
    const state = await this.router.readState(poolId);
    const draining = drainingMembers(
      devicesWithMessages,
      state,
      Date.now(),
      this.config.scheduler.poolOfflineGraceSeconds * 1_000,
    );
    if (draining.length === 0) return 0;
    const excluded = new Set(draining.map((member) => member.deviceId));
    // Only to a member that can take them now: moving from one dead phone to another helps nobody.
    if (!state.some((member) => member.online && !excluded.has(member.deviceId))) return 0;
    let moved = 0;
    for (const member of draining) {
      let afterId = 0;
      for (;;) {
        const chunk = await this.moveChunk(poolId, member, afterId, excluded);
        if (chunk === 'claimed elsewhere') return moved;
        moved += chunk.moved;
        afterId = chunk.lastId;
        if (chunk.scanned < POOL_MOVE_CHUNK) break;
      }
    }
    return moved;
  }

  /**
   * One transaction: claim the pool, lock up to a chunk of the member's waiting messages, remove each job
   * that no phone was sent (recorded in pool-moving by the same script), point the rows at their targets,
   * commit; then add the jobs to their new queues and clear the records.
   */
  private async moveChunk(
    poolId: number,
    member: DrainingMember,
    afterId: number,
    excluded: ReadonlySet<number>,
  ): Promise<'claimed elsewhere' | { scanned: number; moved: number; lastId: number }> {
    const moving: EnqueueableMessage[] = [];
    const outcome = await this.db.transaction(async (tx) => {
      if (!(await claimPoolForMoves(tx, poolId))) return 'claimed elsewhere' as const;
      const rows = await lockMovableMessages(
        tx,
        poolId,
        member.deviceId,
        member.slots,
        afterId,
        POOL_MOVE_CHUNK,
      );
      if (rows.length === 0) return { scanned: 0, lastId: afterId };
      const lastId = Number(rows[rows.length - 1].id);
      // A report in the inbox: a phone took it, whatever `messages` says yet (ADR 1801).
      const taken = await messagesWithPendingReports(
        tx,
        rows.map((row) => Number(row.id)),
      );
      const candidates = rows.filter((row) => !taken.has(Number(row.id)));
      // Fresh state per chunk: the previous chunk's moves count as load.
      const state = await this.router.readState(poolId);
      const online = new Set(state.filter((each) => each.online).map((each) => each.deviceId));
      const targets = await this.router.route(
        poolId,
        candidates.map((row) => ({ sim: row.sim, urgent: row.urgent ?? false })),
        { excluded, state },
      );
      const routed = candidates.flatMap((row, index) => {
        const target = targets[index];
        return target !== null && online.has(target) ? [{ ...enqueueableFrom(row), deviceId: target }] : [];
      });
      // All sent at once, as the revocation does: one round trip per chunk, not per message, under the locks.
      const answers = await Promise.all(
        routed.map((message) => this.remover.removeToMove(member.deviceId, message.id)),
      );
      moving.push(...routed.filter((_, index) => answers[index] !== 'held'));
      await moveLockedMessages(
        tx,
        moving.map((message) => ({ id: message.id, deviceId: message.deviceId })),
      );
      return { scanned: rows.length, lastId };
    });
    if (outcome === 'claimed elsewhere') return outcome;
    if (moving.length > 0) await this.finish(poolId, member, moving);
    return { ...outcome, moved: moving.length };
  }

  /** After the commit: the jobs go to their new queues (waking those phones), then the records go. */
  private async finish(poolId: number, member: DrainingMember, moved: EnqueueableMessage[]): Promise<void> {
    this.metrics.poolMoves.inc({ reason: member.reason }, moved.length);
    await this.enqueuer.enqueueWithOthers(moved);
    await this.redis.shared.hdel(this.movingKey, ...moved.map((message) => String(message.id)));
    this.logger.log(
      {
        poolId,
        from: member.deviceId,
        reason: member.reason,
        count: moved.length,
        to: [...new Set(moved.map((message) => message.deviceId))],
        messageIds: moved.map((message) => message.id),
      },
      'pool messages moved to other phones',
    );
  }

  /**
   * Moves a mover began and did not finish (it died, or PostgreSQL or Redis failed it) between its Redis
   * step and its add, found by their pool-moving entries once the tombstone is gone. A row still naming
   * the old device (the commit did not happen), or naming its new one without a job there (the add did
   * not), goes back to the outbox sweep, which routes and adds it; any other is done. A row someone else
   * holds keeps its entry for the next round.
   */
  async recoverStaleMoves(now = Date.now()): Promise<number> {
    const entries = await this.redis.shared.hgetall(this.movingKey);
    const stale = Object.entries(entries)
      .map(([id, value]) => ({
        id: Number(id),
        oldDevice: Number(value.split(':')[0]),
        at: Number(value.split(':')[1]),
      }))
      .filter((entry) => Number.isSafeInteger(entry.id) && !(now - entry.at < STALE_MOVE_MS));
    if (stale.length === 0) return 0;
    const oldDevices = new Map(stale.map((entry) => [entry.id, entry.oldDevice]));
    const { settled, returned } = await this.db.transaction(async (tx) => {
      const rows = await lockMovingMessages(
        tx,
        stale.map((entry) => entry.id),
      );
      const locked = new Set(rows.map((row) => row.id));
      const inInbox = await messagesWithPendingReports(tx, [...locked]);
      const unsettled = rows.filter((row) => row.waiting && !inInbox.has(row.id));
      // Moved rows are asked whether their new queue has the job, all in one round trip.
      const moved = unsettled.filter((row) => row.device_id !== oldDevices.get(row.id));
      const added = await this.withJobs(moved);
      const back = unsettled.filter((row) => !added.has(row.id)).map((row) => row.id);
      await returnToOutbox(tx, back);
      // Rows gone (deleted with their account) are settled too; locked ones wait for the next round.
      const existing = await existingMessageIds(
        tx,
        stale.map((entry) => entry.id),
      );
      return {
        settled: stale.map((entry) => entry.id).filter((id) => locked.has(id) || !existing.has(id)),
        returned: back,
      };
    });
    if (settled.length > 0) await this.redis.shared.hdel(this.movingKey, ...settled.map(String));
    if (returned.length > 0)
      this.logger.warn(
        { messageIds: returned },
        'unfinished pool moves found; the messages go back to the outbox sweep',
      );
    return returned.length;
  }

  /** Of these rows, the ids whose job exists in the queue the row names. */
  private async withJobs(rows: ReadonlyArray<{ id: number; device_id: number }>): Promise<Set<number>> {
    if (rows.length === 0) return new Set();
    const pipeline = this.redis.shared.pipeline();
    for (const row of rows)
      pipeline.hexists(this.queues.queue(row.device_id).toKey(DeviceQueue.jobId(row.id)), 'data');
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0] as Error;
    return new Set(rows.filter((_, index) => replies[index]?.[1] === 1).map((row) => row.id));
  }
}
