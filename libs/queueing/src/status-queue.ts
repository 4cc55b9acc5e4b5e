import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { StatusQueue, StatusReportJob } from '@smsfleet/contracts';
import { RedisConnections } from './redis-connections';

/** Producer side of the `status` queue (the dispatcher puts reports here; the status app writes them). */
@Injectable()
export class StatusQueueProducer implements OnApplicationShutdown {
  private readonly queue: Queue<StatusReportJob>;

  constructor(redis: RedisConnections, @Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue<StatusReportJob>(StatusQueue.name, {
      connection: redis.shared,
      prefix: config.redisPrefix,
      skipVersionCheck: true,
      defaultJobOptions: {
        // Retried while PostgreSQL is away; the writes are idempotent.
        attempts: 1_000,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: false,
      },
    });
  }

  async add(job: StatusReportJob): Promise<void> {
    await this.queue.add('report', job);
  }

  /** Many jobs in one round trip. */
  async addMany(jobs: StatusReportJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs.map((data) => ({ name: 'report', data })));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
