import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { redisEpochKey, redisRunIdOf, redisSeenKey } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { QueueReconciler, RedisConnections } from '@smsfleet/queueing';
import { BatchLoop } from './batch-loop';
import { anyMessageWaiting } from '@smsfleet/persistence';

/** Any fixed number: the PostgreSQL advisory lock that lets one scheduler replica rebuild at a time. */
const RECONCILE_LOCK_ID = 0x736d_7306;
/**
 * Taken off the heartbeat before a bounded rebuild. The heartbeat is PostgreSQL's clock and so is every
 * `enqueued_at`, so no skew between hosts is involved; this only covers a step of that one clock.
 */
const HEARTBEAT_MARGIN_MS = 2_000;
/** SET KEYS[1] ARGV[2], only on the server whose run_id is ARGV[1]. */
const SET_IF_SAME_SERVER = `
  if string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') ~= ARGV[1] then return 0 end
  redis.call('SET', KEYS[1], ARGV[2])
  return 1`;

/**
 * Rebuilds the device queues from PostgreSQL by itself when Redis lost its data (F6, docs/reliability.md): a
 * restart without persistence, an AOF that lost its last second, or our keys deleted. The sign is the epoch
 * marker `<prefix>:redis-epoch`, which holds the Redis run_id seen at the last rebuild: missing (keys gone)
 * or holding another run_id (Redis restarted, maybe from an older file) means jobs may be missing. The marker
 * is written only after a rebuild, so a scheduler that dies half-way rebuilds again at its next start.
 *
 * While the marker holds, each look also writes a heartbeat (`<prefix>:redis-seen`): PostgreSQL's time,
 * read before the write. Redis restarted from its AOF (or from an older file) keeps that key as it was at
 * the last write the file holds, and every job added before it. A message's `enqueued_at` is recorded
 * after its add, so the jobs the file can lack are those of messages marked since the heartbeat it holds,
 * or never marked: the rebuild checks those alone (a full walk over a backlog of hundreds of thousands
 * takes minutes under load; a bounded one checks a few seconds' worth, ADR 0605). No heartbeat (keys deleted, an
 * empty Redis, or one written before this existed): every pending message is checked.
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
    const first = await this.currentMarker();
    if (first.intact) {
      // A missed heartbeat (PostgreSQL away) only makes a later bounded rebuild check a few seconds more.
      await this.writeHeartbeat(first.runId).catch((error: Error) =>
        this.logger.debug({ err: error }, 'Redis heartbeat not written'),
      );
      return false;
    }
    // The transaction holds the lock; the rebuild itself runs on other connections.
    return this.db.transaction(async (tx) => {
      const [{ locked }]: Array<{ locked: boolean }> = await tx.query(
        `SELECT pg_try_advisory_xact_lock($1) AS locked`,
        [RECONCILE_LOCK_ID],
      );
      if (!locked) return false;
      // Another replica may have rebuilt between the first look and the lock.
      const { intact, runId, marker, seenAt } = await this.currentMarker();
      if (intact) return false;
      const pending = await anyMessageWaiting(tx);
      // A fresh installation (or one with nothing waiting) has nothing to rebuild: no warning, no count.
      if (pending) {
        // Bounded only when the file kept our keys: without the marker, keys were deleted (maybe not all).
        const since = marker !== null && seenAt !== null ? new Date(seenAt - HEARTBEAT_MARGIN_MS) : undefined;
        const result = await this.reconciler.reconcile(since);
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

  /**
   * Whether the queues hold what PostgreSQL says they do: the marker names this Redis. False while Redis
   * lost data and no rebuild has finished (the pool mover waits: a pool job added back is marked only by
   * the rebuild, ADR 2221 §5).
   */
  async queuesIntact(): Promise<boolean> {
    return (await this.currentMarker()).intact;
  }

  /**
   * PostgreSQL's time, read before it is written: every add marked after it came after the write. Written
   * only into the Redis whose run_id was just found intact, checked inside Redis: a plain SET sent as
   * Redis restarts would land in the restarted one and vouch for jobs it lost.
   */
  private async writeHeartbeat(runId: string): Promise<void> {
    const [{ now }]: Array<{ now: string }> = await this.db.query(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`,
    );
    await this.redis.shared.eval(SET_IF_SAME_SERVER, 1, redisSeenKey(this.config.redisPrefix), runId, now);
  }

  private async currentMarker(): Promise<{
    intact: boolean;
    runId: string;
    marker: string | null;
    seenAt: number | null;
  }> {
    const [info, marker, seen] = await Promise.all([
      this.redis.shared.info('server'),
      this.redis.shared.get(this.markerKey),
      this.redis.shared.get(redisSeenKey(this.config.redisPrefix)),
    ]);
    const runId = redisRunIdOf(info);
    if (!runId) throw new Error('Redis INFO server has no run_id');
    const seenAt = seen !== null && /^\d+$/.test(seen) ? Number(seen) : null;
    return { intact: marker === runId, runId, marker, seenAt };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
