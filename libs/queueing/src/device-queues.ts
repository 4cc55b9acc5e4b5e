import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BackendFactory, getDefaultBackendFactory, Queue, RedisQueueBackend } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceJobName, DeviceQueue } from '@smsfleet/contracts';
import { DeviceJobData, DeviceJobQueue } from './device-jobs';
import { DeviceWorker } from './device-worker';
import { RedisConnections } from './redis-connections';

/** Lock on a job handed to a phone; longer than the ack timeout, so no lock renewal is needed. */
export const DEVICE_JOB_LOCK_MS = 30_000;

/**
 * Events kept in each device queue's BullMQ event stream (approximately: Redis trims whole stream nodes).
 * Nothing in smsfleet reads these streams (no QueueEvents), and BullMQ's default of 10,000 is about 0.49 MB
 * of Redis per queue once a phone has sent 2,500 messages, about 1 GB for a fleet of 2,000 phones
 * (`node scripts/event-stream-memory.js`). A short tail stays for an operator's XRANGE.
 */
export const DEVICE_QUEUE_EVENTS_MAX_LEN = 100;

/** Options of every producer of a device queue: BullMQ writes them into the queue's meta, the last one wins. */
export const DEVICE_QUEUE_OPTIONS = {
  skipVersionCheck: true,
  streams: { events: { maxLen: DEVICE_QUEUE_EVENTS_MAX_LEN } },
} as const;

/**
 * Workers that never block: they all share one Redis connection, and the dispatcher decides when to
 * fetch (window and pace), so a node's Redis connections do not grow with its phones.
 */
const nonBlockingBackend: BackendFactory<RedisQueueBackend> = (name, opts, options) =>
  getDefaultBackendFactory<RedisQueueBackend>()(name, opts, {
    ...options,
    blocking: false,
    withBlockingConnection: false,
  });

/** The per-device BullMQ queues: producers (api, scheduler) and the dispatcher's manual workers. */
@Injectable()
export class DeviceQueues implements OnApplicationShutdown {
  private readonly queues = new Map<number, DeviceJobQueue>();

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The key prefix of every queue (and of the keys that go with them, such as pool-moving). */
  get redisPrefix(): string {
    return this.config.redisPrefix;
  }

  queue(deviceId: number): DeviceJobQueue {
    let queue = this.queues.get(deviceId);
    if (!queue) {
      queue = new Queue<DeviceJobData, unknown, DeviceJobName>(DeviceQueue.name(deviceId), {
        ...DEVICE_QUEUE_OPTIONS,
        connection: this.redis.shared,
        prefix: this.config.redisPrefix,
      });
      this.queues.set(deviceId, queue);
    }
    return queue;
  }

  /** A worker that only fetches when asked. */
  createManualWorker(deviceId: number): DeviceWorker {
    return new DeviceWorker(
      DeviceQueue.name(deviceId),
      null,
      {
        connection: this.redis.shared,
        prefix: this.config.redisPrefix,
        autorun: false,
        skipVersionCheck: true,
        lockDuration: DEVICE_JOB_LOCK_MS,
        stalledInterval: 15_000,
        // A stalled job (its dispatcher died) goes back to wait however often it happens: never "failed".
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      },
      nonBlockingBackend,
    );
  }

  /**
   * Puts every active job of a device queue back at the front of its queue, whoever locked it. Only the
   * holder of the device's lease calls this, before it fetches anything: any active job then belongs to a
   * previous owner (a dead node, or a connection that lost the lease), and waiting for its lock to expire
   * would stall the phone for `lockDuration` + `stalledInterval`.
   */
  async reclaimActive(deviceId: number): Promise<number> {
    const active = await this.queue(deviceId).getActive(0, -1);
    // Token "0" skips BullMQ's lock check; a job finished meanwhile is simply not found (-1).
    const results = await Promise.all(
      active.map((job) =>
        job.moveToWait('0').then(
          () => 1,
          () => 0,
        ),
      ),
    );
    return results.reduce<number>((sum, moved) => sum + moved, 0);
  }

  /**
   * Makes due again the jobs a session held back because the phone could not send them then (outside its
   * send hours: `SendSmsJob.held`), after the device's rules changed: the session judges them again under
   * the new rules (held again if still outside). Scheduled jobs stay delayed. Reads every delayed job of
   * the queue: a settings change is rare, and one phone's queue holds what it sends in hours.
   */
  async releaseHeld(deviceId: number): Promise<number> {
    const delayed = await this.queue(deviceId).getDelayed(0, -1);
    const held = delayed.filter((job) => (job.data as { held?: unknown } | undefined)?.held !== undefined);
    // A job that left the delayed set meanwhile (promoted by its time, removed) is no longer ours to move.
    const results = await Promise.all(
      held.map((job) =>
        job.promote().then(
          () => 1,
          () => 0,
        ),
      ),
    );
    return results.reduce<number>((sum, moved) => sum + moved, 0);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
