import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceJobName, DeviceQueue, JobPriority, SendSmsJob, SimSlot } from '@smsfleet/contracts';
import { CoalescingWriter, markEnqueuedInTransaction, QueueableRow } from '@smsfleet/persistence';
import { deviceJob } from './device-jobs';
import { DeviceQueues } from './device-queues';
import { EnqueuedMarker } from './enqueued-marker';
import { WorkSignal } from './work-signal';

/**
 * A finished job stays (as BullMQ's completed/failed entry) this long, so that a late add of the same job id
 * — an API enqueue still in flight when the outbox sweep took over (issue 6, ADR 0408) — is a no-op instead
 * of a fresh job for a message already final. `count` bounds what an idle device keeps: old entries are only
 * trimmed when the next job of that queue finishes.
 */
export const FINISHED_JOB_RETENTION = { age: 60, count: 100 } as const;

/** Enqueues of concurrent requests outstanding at once; what arrives meanwhile goes out together. */
const SHARED_ENQUEUES_IN_FLIGHT = 4;

/** A stored message, as much of it as a device queue needs. */
export interface EnqueueableMessage {
  id: number;
  deviceId: number;
  sendto: string;
  body: string;
  sim: SimSlot;
  urgent: boolean;
  timeToSend: Date;
  validUntil: Date;
  /** The pool it was sent to (absent: pinned to its device); its job says so (ADR 2221 §6). */
  poolId?: number;
}

export function enqueueableFrom(row: QueueableRow): EnqueueableMessage {
  return {
    id: Number(row.id),
    deviceId: row.device_id,
    sendto: row.sendto,
    body: row.body,
    sim: row.sim as SimSlot,
    urgent: row.urgent ?? false,
    timeToSend: row.time_to_send,
    validUntil: row.valid_until,
    ...(row.pool_id !== undefined && row.pool_id !== null ? { poolId: row.pool_id } : {}),
  };
}

/**
 * Moves stored messages into their device queues (one addBulk per device) and records that they are
 * there. The job id derives from the message id, so adding a message that is still queued, or whose job
 * finished within FINISHED_JOB_RETENTION, is a no-op.
 */
@Injectable()
export class MessageEnqueuer {
  private readonly together = new CoalescingWriter<EnqueueableMessage[]>(
    (batches) => this.enqueue(batches.flat()),
    SHARED_ENQUEUES_IN_FLIGHT,
  );

  constructor(
    private readonly queues: DeviceQueues,
    private readonly signal: WorkSignal,
    private readonly marker: EnqueuedMarker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether a message due at `timeToSend` belongs in Redis now (else the scheduler promotes it later). */
  withinHorizon(timeToSend: Date, now = Date.now()): boolean {
    return timeToSend.getTime() <= now + this.config.scheduler.horizonSeconds * 1_000;
  }

  /**
   * Like `enqueue`, but the messages of requests arriving together share one `addBulk` per device (a burst
   * of single-message requests costs one Redis round trip, not one each). If any device's add fails, every
   * request of that batch sees the error; adding again is a no-op for the jobs that were added.
   */
  enqueueWithOthers(messages: EnqueueableMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.together.submit(messages);
  }

  async enqueue(messages: EnqueueableMessage[], tx?: EntityManager): Promise<void> {
    if (messages.length === 0) return;
    const now = Date.now();
    const byDevice = new Map<number, EnqueueableMessage[]>();
    for (const message of messages) {
      const list = byDevice.get(message.deviceId) ?? [];
      list.push(message);
      byDevice.set(message.deviceId, list);
    }
    await Promise.all(
      [...byDevice].map(([deviceId, list]) => {
        const jobs = list.map((message) =>
          deviceJob(DeviceJobName.sms, toJob(message), {
            jobId: DeviceQueue.jobId(message.id),
            priority: message.urgent ? JobPriority.urgent : JobPriority.normal,
            delay: Math.max(0, message.timeToSend.getTime() - now),
            removeOnComplete: FINISHED_JOB_RETENTION,
            removeOnFail: FINISHED_JOB_RETENTION,
          }),
        );
        const queue = this.queues.queue(deviceId);
        // One job: a plain add (addBulk wraps even one job in MULTI/EXEC).
        return jobs.length === 1 ? queue.add(jobs[0].name, jobs[0].data, jobs[0].opts) : queue.addBulk(jobs);
      }),
    );
    const ids = messages.map((message) => message.id);
    const urgentNow = messages.filter((message) => message.urgent && message.timeToSend.getTime() <= now);
    const signalled = this.signal.publish(
      byDevice.keys(),
      urgentNow.map((message) => message.deviceId),
    );
    if (tx) {
      // Inside a caller's transaction (the scheduler's claim): the mark belongs to that transaction.
      await markEnqueuedInTransaction(tx, ids);
    } else {
      this.marker.mark(messages.map((message) => ({ id: message.id, timeToSend: message.timeToSend })));
    }
    await signalled;
  }
}

function toJob(message: EnqueueableMessage): SendSmsJob {
  const job: SendSmsJob = {
    messageId: message.id,
    sendto: message.sendto,
    body: message.body,
    sim: message.sim,
    urgent: message.urgent,
    validUntil: message.validUntil.getTime(),
  };
  if (message.poolId !== undefined) job.poolId = message.poolId;
  return job;
}
