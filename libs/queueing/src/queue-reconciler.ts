import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueue } from '@smsfleet/contracts';
import { DeviceQueues } from './device-queues';
import { EmissionMark } from './emission-mark';
import { enqueueableFrom, MessageEnqueuer } from './message-enqueuer';
import { RedisConnections } from './redis-connections';
import {
  markEnqueuedAgain,
  PendingRef,
  returnBeyondHorizonToOutbox,
  waitingIdRange,
  waitingIdsOfDevice,
  waitingRefsInWindow,
  waitingRowsByIds,
} from '@smsfleet/persistence';

const RECONCILE_BATCH = 1_000;
/** Ids per step of the rebuild's walk over pending messages (at most this many rows checked at once). */
const RECONCILE_WINDOW = 20_000;
/** Devices whose queues are scanned for orphan jobs at once. */
const ORPHAN_SCANS_IN_FLIGHT = 8;

export interface ReconcileResult {
  /** Messages (re-)added to their device queues; messages whose job is still there healthy are not counted. */
  enqueued: number;
  /** Far-future messages handed back to the scheduler's outbox (they were in Redis as delayed jobs). */
  returnedToOutbox: number;
  /** Half-lost jobs removed first (a hash without data, or in no list), so their messages could be added. */
  brokenJobsRemoved: number;
  /** Waiting jobs of messages that are final, taken by a phone, or do not exist (L6, docs/reliability.md). */
  orphanJobsRemoved: number;
  /** Pending messages whose jobs were checked. */
  checked: number;
  /** Only messages queued since this moment were checked (ISO-8601); null: all of them. */
  since: string | null;
}

/** A pending row whose job was not found waiting, and whether its job hash still has its data. */
interface Unqueued {
  row: PendingRef;
  hasData: boolean;
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
    private readonly emissions: EmissionMark,
  ) {}

  /**
   * `since`: Redis still holds every job added before this moment (it restarted from a file that holds the
   * scheduler's heartbeat of that time), so only messages queued since, or not marked queued at all, are
   * checked; and no orphan scan, since a completion the file lost only means a repeat the phone ignores.
   */
  async reconcile(since?: Date): Promise<ReconcileResult> {
    const started = Date.now();
    const horizon = this.config.scheduler.horizonSeconds;
    const returnedToOutbox = await returnBeyondHorizonToOutbox(this.db, horizon);
    let enqueued = 0;
    let brokenJobsRemoved = 0;
    let checked = 0;
    // Messages accepted after the start are enqueued by their own request or the outbox sweep; without
    // this bound, a reconcile under live load chases the newest rows and never ends.
    const { first, last } = await waitingIdRange(this.db);
    // Windows of ids, not `ORDER BY id LIMIT n` after the last one: with a large backlog PostgreSQL
    // answers that by reading every pending row above the cursor and sorting them, once per batch
    // (quadratic in the backlog; ADR 0606).
    for (let from = (first ?? 1) - 1; last !== null && from < last; from += RECONCILE_WINDOW) {
      // Only ids first: after an AOF restart nearly every job is intact, and the bodies of those are not
      // needed. OFFSET 0 keeps the window a primary-key range scan: the partial indexes on pending rows
      // would make every step read all of them again.
      const refs = await waitingRefsInWindow(
        this.db,
        from,
        Math.min(from + RECONCILE_WINDOW, last),
        horizon,
        since ?? null,
      );
      if (refs.length === 0) continue;
      checked += refs.length;
      const { missing, broken } = await this.withoutHealthyJobs(refs);
      brokenJobsRemoved += broken;
      enqueued += await this.enqueueAgain(missing, horizon);
    }
    const walked = Date.now();
    const orphanJobsRemoved = since ? 0 : await this.removeOrphanJobs();
    const result = {
      enqueued,
      returnedToOutbox,
      brokenJobsRemoved,
      orphanJobsRemoved,
      checked,
      since: since?.toISOString() ?? null,
    };
    this.logger.log(
      { ...result, walkMs: walked - started, orphanScanMs: Date.now() - walked },
      'device queues reconciled from PostgreSQL',
    );
    return result;
  }

  /** Adds the given messages again, those still waiting by the time they are read; returns how many. */
  private async enqueueAgain(refs: PendingRef[], horizon: number): Promise<number> {
    if (refs.length === 0) return 0;
    const rows = await waitingRowsByIds(
      this.db,
      refs.map((ref) => ref.id),
      horizon,
    );
    // Ascending ids per device keep first-in-first-out among equal priorities.
    const messages = rows.map(enqueueableFrom);
    await this.enqueuer.enqueue(messages);
    // A pool message's job lost its emission mark with Redis: any phone of the pool may have been sent it
    // before the loss, so it stays with the phone its row names, never moved (ADR 2221 §5). The pool mover
    // does not run until this rebuild is over (the epoch marker), so none moves between the add and this.
    await this.emissions.markAll(
      messages
        .filter((message) => message.poolId !== undefined)
        .map((message) => ({ deviceId: message.deviceId, messageId: message.id })),
    );
    // When they were added, for a later rebuild bounded by a heartbeat (the enqueuer only marks rows never
    // marked). The clock, not the transaction start: it must not be older than the add.
    await markEnqueuedAgain(
      this.db,
      messages.map((message) => message.id),
    );
    return rows.length;
  }

  /**
   * No queue residue: a waiting, prioritized or delayed job whose message is no longer waiting in
   * PostgreSQL (final, already taken by its phone, gone, or of another device) is removed. Active jobs are
   * left to the dispatcher holding them.
   */
  private async removeOrphanJobs(): Promise<number> {
    const devices: Array<{ id: number }> = await this.db.query(`SELECT id FROM devices ORDER BY id`);
    let removed = 0;
    let next = 0;
    // A few devices at a time: one after another, 1,000 phones' round trips add up to minutes under load.
    const worker = async () => {
      while (next < devices.length) {
        // Not `removed += await …`: that reads `removed` before the wait and loses the other workers' counts.
        const count = await this.removeOrphanJobsOf(devices[next++].id);
        removed += count;
      }
    };
    await Promise.all(Array.from({ length: ORPHAN_SCANS_IN_FLIGHT }, worker));
    return removed;
  }

  private async removeOrphanJobsOf(deviceId: number): Promise<number> {
    const queue = this.queues.queue(deviceId);
    const [waiting, prioritized, delayed] = await Promise.all([
      this.redis.shared.lrange(queue.toKey('wait'), 0, -1),
      this.redis.shared.zrange(queue.toKey('prioritized'), 0, -1),
      this.redis.shared.zrange(queue.toKey('delayed'), 0, -1),
    ]);
    const jobIds = [...waiting, ...prioritized, ...delayed].filter((jobId) => /^m\d+$/.test(jobId));
    let removed = 0;
    for (let start = 0; start < jobIds.length; start += RECONCILE_BATCH) {
      const chunk = jobIds.slice(start, start + RECONCILE_BATCH);
      // Id lookups, not a walk over the partial index of every pending row (PostgreSQL chose that with stale
      // statistics after a bulk insert: 31 ms for a device's 200 ids).
      const pending = await waitingIdsOfDevice(
        this.db,
        chunk.map((jobId) => DeviceQueue.messageIdOf(jobId)),
        deviceId,
      );
      const keep = new Set(pending.map((row) => DeviceQueue.jobId(Number(row.id))));
      for (const jobId of chunk.filter((candidate) => !keep.has(candidate)))
        removed += (await queue.remove(jobId)) === 1 ? 1 : 0;
    }
    return removed;
  }

  /**
   * The rows whose job is not in Redis as a healthy job, to be added again. A healthy job (waiting,
   * delayed, active under a live lock, or finished moments ago) is left alone: adding it would be a no-op,
   * and after an AOF restart that is nearly all of them. Keys deleted while jobs moved leave half-jobs
   * behind: a hash with a field or two but no data, or a whole hash in no list. Either would make the add a
   * no-op for ever, so they are removed first.
   *
   * A waiting job sits in its queue's delayed or prioritized set (every job has a delay or a priority), so
   * one pipeline answers for nearly every row: a ZMSCORE per device and set, a HEXISTS per row. Only the
   * rest (active, finished, broken or missing) get BullMQ's full state check, a script call of about 35 µs
   * of Redis CPU per row, too slow for every row of a large backlog (ADR 0606).
   */
  private async withoutHealthyJobs(rows: PendingRef[]): Promise<{ missing: PendingRef[]; broken: number }> {
    const byDevice = new Map<number, PendingRef[]>();
    for (const row of rows) {
      const list = byDevice.get(row.device_id);
      if (list) list.push(row);
      else byDevice.set(row.device_id, [row]);
    }
    const pipeline = this.redis.shared.pipeline();
    for (const [deviceId, list] of byDevice) {
      const queue = this.queues.queue(deviceId);
      const jobIds = list.map((row) => DeviceQueue.jobId(Number(row.id)));
      pipeline.zmscore(queue.toKey('delayed'), ...jobIds).zmscore(queue.toKey('prioritized'), ...jobIds);
      for (const jobId of jobIds) pipeline.hexists(queue.toKey(jobId), 'data');
    }
    const replies = (await pipeline.exec()) ?? [];
    const unqueued: Unqueued[] = [];
    let reply = 0;
    for (const list of byDevice.values()) {
      const delayed = scores(replies[reply++]);
      const prioritized = scores(replies[reply++]);
      list.forEach((row, index) => {
        const hasData = replies[reply++]?.[1] === 1;
        if (!hasData || (delayed[index] == null && prioritized[index] == null))
          unqueued.push({ row, hasData });
      });
    }
    const outcomes = await this.checkEach(unqueued);
    return {
      missing: unqueued.filter((_, index) => outcomes[index] !== 'healthy').map(({ row }) => row),
      broken: outcomes.filter((outcome) => outcome === 'broken').length,
    };
  }

  /**
   * BullMQ's own state check, for the rows not found waiting; a half-job is removed. A hash without its
   * data is asked whether it exists at all (missing, or a half-job to remove).
   */
  private async checkEach(rows: Unqueued[]): Promise<Array<'missing' | 'healthy' | 'broken'>> {
    const withoutData = rows.filter(({ hasData }) => !hasData);
    const pipeline = this.redis.shared.pipeline();
    for (const { row } of withoutData)
      pipeline.exists(this.queues.queue(row.device_id).toKey(DeviceQueue.jobId(Number(row.id))));
    const replies = withoutData.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const exists = new Map(withoutData.map(({ row }, index) => [row, replies[index]?.[1] === 1]));
    return Promise.all(
      rows.map(async ({ row, hasData }): Promise<'missing' | 'healthy' | 'broken'> => {
        if (!hasData && !exists.get(row)) return 'missing';
        const queue = this.queues.queue(row.device_id);
        const jobId = DeviceQueue.jobId(Number(row.id));
        if (hasData && (await queue.getJobState(jobId)) !== 'unknown') return 'healthy';
        return (await queue.remove(jobId)) === 1 ? 'broken' : 'missing';
      }),
    );
  }
}

/** The scores of a pipelined ZMSCORE (null where the member is absent; nothing if the command failed). */
function scores(reply: [Error | null, unknown] | undefined): Array<string | null> {
  return reply && !reply[0] && Array.isArray(reply[1]) ? (reply[1] as Array<string | null>) : [];
}
