import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { isFinalStatus, StatusReportJob } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { aggregateReports, DeviceStatusReport } from './status-aggregation';

interface Waiting {
  reports: DeviceStatusReport[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes status reports in batches: jobs that arrive together share one transaction (one INSERT into the
 * history, one UPDATE of the messages). Idempotent: each (message, status) is recorded once, a message only
 * moves forward, and a report for a message of another device changes nothing.
 */
@Injectable()
export class StatusWriter {
  private readonly logger = new Logger(StatusWriter.name);
  private waiting: Waiting[] = [];
  private waitingReports = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Resolves once the job's reports are committed. */
  submit(job: StatusReportJob): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        reports: job.reports.map((report) => ({ ...report, deviceId: job.deviceId })),
        resolve,
        reject,
      });
      this.waitingReports += job.reports.length;
      if (this.waitingReports >= this.config.status.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.config.status.batchWaitMs);
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

  async write(reports: DeviceStatusReport[]): Promise<void> {
    const changes = aggregateReports(reports);
    const recorded = await this.db.transaction(async (tx) => {
      const inserted: Array<{ status: number }> = await tx.query(
        `INSERT INTO message_events (message_id, status, at, error)
         SELECT r.message_id, r.status, r.at, r.error
           FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::timestamptz[], $5::text[])
                AS r(message_id, device_id, status, at, error)
           JOIN messages m ON m.id = r.message_id AND m.device_id = r.device_id
         ON CONFLICT (message_id, status) DO NOTHING
         RETURNING status`,
        [
          reports.map((r) => r.messageId),
          reports.map((r) => r.deviceId),
          reports.map((r) => r.status),
          reports.map((r) => r.at),
          reports.map((r) => r.error ?? null),
        ],
      );
      await tx.query(
        `UPDATE messages m SET
            status = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.status ELSE m.status END,
            status_error = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.error ELSE m.status_error END,
            taken_at = COALESCE(m.taken_at, v.taken_at),
            sent_at = COALESCE(m.sent_at, v.sent_at),
            delivered_at = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.delivered_at ELSE m.delivered_at END,
            failed_at = CASE WHEN message_status_rank(v.status) > message_status_rank(m.status) THEN v.failed_at ELSE m.failed_at END,
            updated_at = now()
          FROM unnest($1::bigint[], $2::int[], $3::smallint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])
               AS v(id, device_id, status, error, taken_at, sent_at, delivered_at, failed_at)
         WHERE m.id = v.id AND m.device_id = v.device_id`,
        [
          changes.map((c) => c.messageId),
          changes.map((c) => c.deviceId),
          changes.map((c) => c.status),
          changes.map((c) => c.error),
          changes.map((c) => c.takenAt),
          changes.map((c) => c.sentAt),
          changes.map((c) => c.deliveredAt),
          changes.map((c) => c.failedAt),
        ],
      );
      return inserted;
    });
    this.metrics.statusBatchSize.observe(reports.length);
    // Each (message, final status) pair is recorded once, so this counts messages reaching a final status.
    for (const { status } of recorded)
      if (isFinalStatus(status)) this.metrics.messagesFinal.inc({ status: String(status) });
  }
}
