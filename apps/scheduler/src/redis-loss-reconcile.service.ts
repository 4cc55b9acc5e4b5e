import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { redisEpochKey, redisRunIdOf } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { QueueReconciler, RedisConnections } from '@smsfleet/queueing';
import { BatchLoop } from './batch-loop';

/** Any fixed number: the PostgreSQL advisory lock that lets one scheduler replica rebuild at a time. */
const RECONCILE_LOCK_ID = 0x736d_7306;

/**
 * Rebuilds the device queues from PostgreSQL by itself when Redis lost its data (RELIABILITY F6): a restart
 * without persistence, an AOF that lost its last second, or our keys deleted. The sign is the epoch marker
 * `<prefix>:redis-epoch`, which holds the Redis run_id seen at the last rebuild: missing (keys gone) or
 * holding another run_id (Redis restarted, maybe from an older file) means jobs may be missing. The marker
 * is written only after a rebuild, so a scheduler that dies half-way rebuilds again at its next start.
 */
@Injectable()
export class RedisLossReconcileService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RedisLossReconcileService.name);
  private readonly loop = new BatchLoop({
    name: 'redis loss check',
    intervalMs: () => this.config.scheduler.redisLossCheckIntervalMs,
    batchSize: 1,
    runOnce: async () => {
      await this.checkOnce();
      return 0;
    },
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly reconciler: QueueReconciler,
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  private get markerKey(): string {
    return redisEpochKey(this.config.redisPrefix);
  }

  onApplicationBootstrap(): void {
    this.loop.start(0);
  }

  /** Rebuilds the queues if Redis lost data since the last look; returns whether it did. */
  async checkOnce(): Promise<boolean> {
    // Commands wait for a reconnect (maxRetriesPerRequest null): while Redis is away, skip the round rather
    // than leave one hanging that shutdown would wait for. The reconnect brings the new run_id.
    if (this.redis.shared.status !== 'ready') return false;
    if ((await this.currentMarker()).intact) return false;
    // The transaction holds the lock; the rebuild itself runs on other connections.
    return this.db.transaction(async (tx) => {
      const [{ locked }]: Array<{ locked: boolean }> = await tx.query(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [RECONCILE_LOCK_ID],
      );
      if (!locked) return false;
      // Another replica may have rebuilt between the first look and the lock.
      const { intact, runId, marker } = await this.currentMarker();
      if (intact) return false;
      const [{ pending }]: Array<{ pending: boolean }> = await tx.query(
        `SELECT EXISTS (SELECT 1 FROM messages WHERE status IN (1, 3)) AS pending`,
      );
      // A fresh installation (or one with nothing waiting) has nothing to rebuild: no warning, no count.
      if (pending) {
        const result = await this.reconciler.reconcile();
        this.metrics.redisLossReconciles.inc();
        this.metrics.redisLossReconciledMessages.inc(result.enqueued);
        this.logger.warn(
          { ...result, redisRunId: runId, previousRunId: marker ?? null },
          'Redis lost data: device queues rebuilt from PostgreSQL',
        );
      } else if (marker !== null) {
        this.logger.log(
          { redisRunId: runId, previousRunId: marker },
          'Redis restarted; nothing was waiting to rebuild',
        );
      }
      await this.redis.shared.set(this.markerKey, runId);
      return pending;
    });
  }

  private async currentMarker(): Promise<{ intact: boolean; runId: string; marker: string | null }> {
    const [info, marker] = await Promise.all([
      this.redis.shared.info('server'),
      this.redis.shared.get(this.markerKey),
    ]);
    const runId = redisRunIdOf(info);
    if (!runId) throw new Error('Redis INFO server has no run_id');
    return { intact: marker === runId, runId, marker };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
