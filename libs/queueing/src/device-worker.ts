import { JobJson, Worker } from 'bullmq';
import { DeviceJobName } from '@smsfleet/contracts';
import { DeviceJob, DeviceJobData } from './device-jobs';

/** What BullMQ's moveToFinished answers when asked to fetch the next job: [data, id, rate limit, next delayed]. */
type NextJobReply = [JobJson | undefined, string | undefined, number, number];

/**
 * A device queue's manual worker (never blocks; the dispatcher decides when to fetch), with the two calls
 * that save round trips: fetching several jobs at once, and completing a job and fetching the next in one
 * script call (as BullMQ's own processing loop does).
 */
export class DeviceWorker extends Worker<DeviceJobData, unknown, DeviceJobName> {
  /**
   * Up to `count` jobs, highest priority first (FIFO within one). The calls are pipelined on the worker's
   * connection, so Redis runs them in order and the answers keep that order.
   */
  async fetch(token: string, count: number): Promise<DeviceJob[]> {
    const jobs = await Promise.all(
      Array.from({ length: count }, () => this.getNextJob(token, { block: false })),
    );
    return jobs.filter((job): job is DeviceJob => job !== undefined);
  }

  /** Completes `job` and takes the next one in the same script call; undefined when none is ready. */
  async completeAndFetch(job: DeviceJob, token: string): Promise<DeviceJob | undefined> {
    const reply = await job.moveToCompleted(undefined, token, true);
    if (!Array.isArray(reply)) return undefined;
    const [data, id, rateLimitDelay, delayUntil] = reply as NextJobReply;
    // The same bookkeeping as BullMQ's worker after such a call (it keeps `nextDelayedAt` current).
    (this as unknown as { updateDelays(limit: number, until: number): void }).updateDelays(
      rateLimitDelay,
      delayUntil,
    );
    return (await this.nextJobFromJobData(data, id, token)) ?? undefined;
  }

  /**
   * When the next delayed job of the queue is due (epoch ms), as the last fetch reported it; 0 when none.
   * BullMQ keeps this in a private field that only its blocking loop reads; a manual worker reads it to
   * wake exactly when a scheduled message is due (test/pipeline/dispatch-schedule.e2e-spec.ts proves the timing).
   */
  get nextDelayedAt(): number {
    const value = (this as unknown as { blockUntil?: unknown }).blockUntil;
    return typeof value === 'number' && value > 0 ? value : 0;
  }
}
