import { Logger } from '@nestjs/common';
import { DeviceStatusReport } from './status-aggregation';

interface Waiting {
  reports: DeviceStatusReport[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface LaneOptions {
  /** Reports that start a write at once. */
  batchSize: number;
  /** How long fewer reports wait for company. */
  batchWaitMs: number;
}

/**
 * One write at a time over the reports submitted to it: what arrives together (up to a batch) is written
 * by one call, and each submitter is answered once its reports are committed (or rejected, to be retried).
 */
export class StatusWriteLane {
  private readonly logger = new Logger(StatusWriteLane.name);
  private waiting: Waiting[] = [];
  private waitingReports = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: LaneOptions,
    private readonly write: (reports: DeviceStatusReport[]) => Promise<void>,
  ) {}

  submit(reports: DeviceStatusReport[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ reports, resolve, reject });
      this.waitingReports += reports.length;
      if (this.waitingReports >= this.options.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.batchWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingReports = 0;
    if (batch.length === 0) return;
    this.writing = this.writing.then(async () => {
      try {
        await this.write(batch.flatMap((entry) => entry.reports));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        this.logger.warn(
          { err: error, jobs: batch.length },
          'status batch not written; its jobs will be retried',
        );
        for (const entry of batch) entry.reject(error);
      }
    });
  }
}
