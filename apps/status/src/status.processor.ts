import { Inject, OnModuleInit } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { LegacyStatusReportJob, StatusQueue, StatusReportJob } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { StatusWriter } from './status-writer.service';

/**
 * Consumes the `status` queue; many jobs run at once so that the writer can batch them. BullMQ renews the
 * locks of running jobs, so a short lock is safe; after a kill -9 another (or the restarted) status app
 * takes the dead one's jobs back within about lockDuration + stalledInterval (≤ 15 s, not 45 s).
 */
@Processor(StatusQueue.name, {
  concurrency: 200,
  maxStalledCount: 1_000,
  lockDuration: 10_000,
  stalledInterval: 5_000,
})
export class StatusProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    private readonly writer: StatusWriter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = Math.max(this.config.status.batchSize, 1);
  }

  async process(job: Job<StatusReportJob | LegacyStatusReportJob>): Promise<void> {
    await this.writer.submit(job.data);
    this.metrics.statusLag.observe(Metrics.secondsSince(job.timestamp));
  }
}
