import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BackendFactory, getDefaultBackendFactory, Queue, RedisQueueBackend, Worker } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueue, SendSmsJob } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** Lock on a job handed to a phone; longer than the ack timeout, so no lock renewal is needed. */
export const DEVICE_JOB_LOCK_MS = 30_000;

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
  private readonly queues = new Map<number, Queue<SendSmsJob>>();

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  queue(deviceId: number): Queue<SendSmsJob> {
    let queue = this.queues.get(deviceId);
    if (!queue) {
      queue = new Queue<SendSmsJob>(DeviceQueue.name(deviceId), {
        connection: this.redis.shared,
        prefix: this.config.redisPrefix,
        skipVersionCheck: true,
      });
      this.queues.set(deviceId, queue);
    }
    return queue;
  }

  /** A worker that only fetches when asked (`getNextJob(token, { block: false })`). */
  createManualWorker(deviceId: number): Worker<SendSmsJob> {
    return new Worker<SendSmsJob>(
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

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
