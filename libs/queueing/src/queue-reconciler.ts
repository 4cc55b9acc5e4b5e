import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueue, SimSlot } from '@smsfleet/contracts';
import { DeviceQueues } from './device-queues';
import { MessageEnqueuer } from './message-enqueuer';
import { RedisConnections } from './redis-connections';

const RECONCILE_BATCH = 1_000;

export interface ReconcileResult {
  /** Messages (re-)added to their device queues; jobs still present were left as they were. */
  enqueued: number;
  /** Far-future messages handed back to the scheduler's outbox (they were in Redis as delayed jobs). */
  returnedToOutbox: number;
  /** Half-lost jobs removed first (a hash without data, or in no list), so their messages could be added. */
  brokenJobsRemoved: number;
  /** Waiting jobs of messages that are final, taken by a phone, or do not exist (RELIABILITY L6). */
  orphanJobsRemoved: number;
}

interface PendingRow {
  id: string;
  device_id: number;
  sendto: string;
  body: string;
  sim: number;
  urgent: boolean;
  time_to_send: Date;
  valid_until: Date;
}

/**
 * Rebuilds every device queue from PostgreSQL (after Redis lost its data): each message not yet taken by a
 * phone, still valid and due within the horizon, goes back into its queue. The row state decides, never
 * the job id alone: a job id is free again once its job was removed, so "not in Redis" means nothing.
 * Adding a message whose job still exists is a no-op, so running this on a healthy system is harmless.
 */
@Injectable()
export class QueueReconciler {
  private readonly logger = new Logger(QueueReconciler.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly enqueuer: MessageEnqueuer,
    private readonly queues: DeviceQueues,
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async reconcile(): Promise<ReconcileResult> {
    const horizon = this.config.scheduler.horizonSeconds;
    const returned: unknown[] = await this.db.query(
      `WITH returned AS (
         UPDATE messages SET enqueued_at = NULL
          WHERE status IN (1, 3) AND enqueued_at IS NOT NULL
            AND time_to_send > now() + make_interval(secs => $1)
         RETURNING id)
       SELECT id FROM returned`,
      [horizon],
    );
    let enqueued = 0;
    let brokenJobsRemoved = 0;
    let after = '0';
    // Messages accepted after the start are enqueued by their own request or the outbox sweep; without
    // this bound, a reconcile under live load chases the newest rows and never ends (the soak found it).
    const [{ last }]: Array<{ last: string | null }> = await this.db.query(
      `SELECT max(id)::text AS last FROM messages`,
    );
    for (;;) {
      const rows: PendingRow[] = await this.db.query(
        `SELECT id, device_id, sendto, body, sim, urgent, time_to_send, valid_until
           FROM messages
          WHERE id > $1 AND id <= $4 AND status IN (1, 3) AND valid_until > now()
            AND time_to_send <= now() + make_interval(secs => $2)
          ORDER BY id
          LIMIT $3`,
        [after, horizon, RECONCILE_BATCH, last ?? '0'],
      );
      if (rows.length === 0) break;
      brokenJobsRemoved += await this.removeBrokenJobs(rows);
      // Ascending ids per device keep first-in-first-out among equal priorities.
      await this.enqueuer.enqueue(
        rows.map((row) => ({
          id: Number(row.id),
          deviceId: row.device_id,
          sendto: row.sendto,
          body: row.body,
          sim: row.sim as SimSlot,
          urgent: row.urgent,
          timeToSend: row.time_to_send,
          validUntil: row.valid_until,
        })),
      );
      enqueued += rows.length;
      after = rows[rows.length - 1].id;
    }
    const orphanJobsRemoved = await this.removeOrphanJobs();
    const result = { enqueued, returnedToOutbox: returned.length, brokenJobsRemoved, orphanJobsRemoved };
    this.logger.log(result, 'device queues reconciled from PostgreSQL');
    return result;
  }

  /**
   * No queue residue: a waiting, prioritized or delayed job whose message is no longer waiting in
   * PostgreSQL (final, already taken by its phone, gone, or of another device) is removed. Active jobs are
   * left to the dispatcher holding them.
   */
  private async removeOrphanJobs(): Promise<number> {
    const devices: Array<{ id: number }> = await this.db.query(`SELECT id FROM devices ORDER BY id`);
    let removed = 0;
    for (const { id: deviceId } of devices) {
      const queue = this.queues.queue(deviceId);
      const [waiting, prioritized, delayed] = await Promise.all([
        this.redis.shared.lrange(queue.toKey('wait'), 0, -1),
        this.redis.shared.zrange(queue.toKey('prioritized'), 0, -1),
        this.redis.shared.zrange(queue.toKey('delayed'), 0, -1),
      ]);
      const jobIds = [...waiting, ...prioritized, ...delayed].filter((jobId) => /^m\d+$/.test(jobId));
      for (let start = 0; start < jobIds.length; start += RECONCILE_BATCH) {
        const chunk = jobIds.slice(start, start + RECONCILE_BATCH);
        const pending: Array<{ id: string }> = await this.db.query(
          `SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND device_id = $2 AND status IN (1, 3)`,
          [chunk.map((jobId) => DeviceQueue.messageIdOf(jobId)), deviceId],
        );
        const keep = new Set(pending.map((row) => DeviceQueue.jobId(Number(row.id))));
        for (const jobId of chunk.filter((candidate) => !keep.has(candidate)))
          removed += (await queue.remove(jobId)) === 1 ? 1 : 0;
      }
    }
    return removed;
  }

  /**
   * Keys deleted while jobs moved leave half-jobs behind: a hash with a field or two but no data, or a
   * whole hash in no list. Either would make the add below a no-op for ever; remove them first. A healthy
   * job (waiting, delayed, or active under a live lock) is left alone.
   */
  private async removeBrokenJobs(rows: PendingRow[]): Promise<number> {
    const pipeline = this.redis.shared.pipeline();
    for (const row of rows) {
      const key = this.queues.queue(row.device_id).toKey(DeviceQueue.jobId(Number(row.id)));
      pipeline.exists(key).hexists(key, 'data');
    }
    const replies = (await pipeline.exec()) ?? [];
    let removed = 0;
    for (const [index, row] of rows.entries()) {
      const exists = replies[index * 2]?.[1] === 1;
      if (!exists) continue;
      const queue = this.queues.queue(row.device_id);
      const jobId = DeviceQueue.jobId(Number(row.id));
      const hasData = replies[index * 2 + 1]?.[1] === 1;
      if (hasData && (await queue.getJobState(jobId)) !== 'unknown') continue;
      removed += (await queue.remove(jobId)) === 1 ? 1 : 0;
    }
    return removed;
  }
}
