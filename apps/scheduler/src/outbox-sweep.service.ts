import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { Metrics } from '@smsfleet/observability';
import { enqueueableFrom, MessageEnqueuer, PoolRouter } from '@smsfleet/queueing';
import { claimOutbox, Queryable, QueueableRow, rerouteClaimedMessages } from '@smsfleet/persistence';
import { BatchLoop } from './batch-loop';

const SWEEP_BATCH = 1_000;

/** Messages younger than this are still being enqueued by the API that accepted them. */
const API_GRACE_SECONDS = 2;

/**
 * PostgreSQL is the outbox: every accepted message without `enqueued_at` whose time is within the horizon
 * is put into its device queue — far-future schedules as they come near, and messages whose API died (or
 * whose Redis was away) between commit and enqueue. Rows are claimed with SKIP LOCKED, so replicas share
 * the work without sending anything twice.
 */
@Injectable()
export class OutboxSweepService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweepService.name);
  private readonly loop = new BatchLoop({
    name: 'outbox sweep',
    intervalMs: () => this.config.scheduler.sweepIntervalMs,
    batchSize: SWEEP_BATCH,
    runOnce: () => this.sweepOnce(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly enqueuer: MessageEnqueuer,
    private readonly router: PoolRouter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(0);
  }

  /** Enqueues one batch of due outbox rows; returns how many it took. */
  async sweepOnce(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await claimOutbox(
        tx,
        this.config.scheduler.horizonSeconds,
        API_GRACE_SECONDS,
        SWEEP_BATCH,
      );
      if (rows.length === 0) return 0;
      await this.routeAgain(tx, rows);
      await this.enqueuer.enqueue(rows.map(enqueueableFrom), tx);
      this.metrics.outboxEnqueued.inc(rows.length);
      for (const row of rows)
        this.metrics.scheduleLateness.observe(Metrics.secondsSince(row.time_to_send.getTime()));
      this.logger.log({ count: rows.length }, 'outbox rows enqueued');
      return rows.length;
    });
  }

  /** One router call per pool of the claim; the rows' `device_id` follows in the claim's transaction. */
  private async routeAgain(tx: Queryable, rows: QueueableRow[]): Promise<void> {
    const byPool = new Map<number, QueueableRow[]>();
    for (const row of rows)
      if (row.pool_id !== null && row.pool_id !== undefined)
        byPool.set(row.pool_id, [...(byPool.get(row.pool_id) ?? []), row]);
    if (byPool.size === 0) return;
    const moves: Array<{ id: number; deviceId: number }> = [];
    for (const [poolId, poolRows] of byPool) {
      const targets = await this.router.reroute(
        poolId,
        poolRows.map((row) => ({
          messageId: Number(row.id),
          deviceId: row.device_id,
          sim: row.sim,
          urgent: row.urgent ?? false,
        })),
      );
      poolRows.forEach((row, index) => {
        if (targets[index] === row.device_id) return;
        moves.push({ id: Number(row.id), deviceId: targets[index] });
        row.device_id = targets[index];
      });
    }
    await rerouteClaimedMessages(tx, moves);
    if (moves.length > 0) this.logger.log({ count: moves.length }, 'outbox pool messages routed again');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
