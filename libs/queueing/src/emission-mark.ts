import { Injectable } from '@nestjs/common';
import { DeviceQueue, SendSmsJob } from '@smsfleet/contracts';
import { DeviceQueues } from './device-queues';
import { RedisConnections } from './redis-connections';

/**
 * Field of a pool job's hash naming the device it was emitted to (ADR 2221 §6). A job with it may be on
 * that phone, so it never moves to another one; the pool mover's script reads it, the Redis-loss
 * reconcile writes it on every pool job it adds back.
 */
export const EMITTED_BY_FIELD = 'em';

/**
 * KEYS: 1 the job's hash. ARGV: 1 device id, 2 new job data as JSON ('' for none).
 * The job must exist with its data (as BullMQ's updateData requires it to exist): writing to a removed job
 * would leave a hash no list holds, and an add of its id would then be a no-op for ever; a tombstone (a
 * cancel's or a move's, no data) is left as it is.
 */
const MARK_EMITTED = `
if redis.call("HEXISTS", KEYS[1], "data") == 0 then return -1 end
if ARGV[2] ~= "" then
  redis.call("HSET", KEYS[1], "${EMITTED_BY_FIELD}", ARGV[1], "data", ARGV[2])
else
  redis.call("HSET", KEYS[1], "${EMITTED_BY_FIELD}", ARGV[1])
end
return 0
`;

/**
 * KEYS: the jobs' hashes. ARGV: 1 device id. Marks each job that exists with its data, as MARK_EMITTED;
 * answers how many did not.
 */
const MARK_EMITTED_MANY = `
local missing = 0
for _, key in ipairs(KEYS) do
  if redis.call("HEXISTS", key, "data") == 0 then missing = missing + 1
  else redis.call("HSET", key, "${EMITTED_BY_FIELD}", ARGV[1]) end
end
return missing
`;

/** Marks a pool job as emitted to a device before the phone can have it (ADR 2221 §6). */
@Injectable()
export class EmissionMark {
  constructor(
    private readonly redis: RedisConnections,
    private readonly queues: DeviceQueues,
  ) {}

  /** `data`: the job's new data written in the same call (its quota counters, ADR 2201). */
  async mark(deviceId: number, messageId: number, data?: SendSmsJob): Promise<void> {
    const key = this.queues.queue(deviceId).toKey(DeviceQueue.jobId(messageId));
    const result = await this.redis.shared.eval(
      MARK_EMITTED,
      1,
      key,
      deviceId,
      data ? JSON.stringify(data) : '',
    );
    if (result !== 0) throw new Error(`job ${DeviceQueue.jobId(messageId)} of device ${deviceId} is gone`);
  }

  /**
   * Marks jobs of one device fetched together, in one call: one round trip per fetch instead of one per
   * emission (ADR 2221 §6). Throws, as `mark`, when one is gone (the others are marked).
   */
  async markMany(deviceId: number, messageIds: readonly number[]): Promise<void> {
    if (messageIds.length === 0) return;
    const queue = this.queues.queue(deviceId);
    const keys = messageIds.map((messageId) => queue.toKey(DeviceQueue.jobId(messageId)));
    const missing = await this.redis.shared.eval(MARK_EMITTED_MANY, keys.length, ...keys, deviceId);
    if (missing !== 0) throw new Error(`${String(missing)} pool jobs of device ${deviceId} are gone`);
  }

  /**
   * Marks jobs just added again from PostgreSQL as emitted to the device their row names (ADR 2221 §5): a
   * lost Redis took the marks with it, so any of them may be on that phone. One pipeline; a job gone
   * meanwhile (fetched and finished) is skipped. Answers how many were marked.
   */
  async markAll(jobs: ReadonlyArray<{ deviceId: number; messageId: number }>): Promise<number> {
    if (jobs.length === 0) return 0;
    const pipeline = this.redis.shared.pipeline();
    for (const { deviceId, messageId } of jobs)
      pipeline.eval(
        MARK_EMITTED,
        1,
        this.queues.queue(deviceId).toKey(DeviceQueue.jobId(messageId)),
        deviceId,
        '',
      );
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0] as Error;
    return replies.filter(([, result]) => result === 0).length;
  }
}
