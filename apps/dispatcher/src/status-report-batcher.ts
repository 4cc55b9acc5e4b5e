import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceReports, StatusReport } from '@smsfleet/contracts';
import { Metrics } from '@smsfleet/observability';
import { CoalescingWriter, statusReportLetter, writeDeadLettering } from '@smsfleet/persistence';
import { InboxReport, StatusInboxRepository } from './status-inbox.repository';

/**
 * INSERTs in flight at once. Beyond, reports wait for one to finish and go out together: under load the
 * batches grow instead of the statements, and a slow PostgreSQL is not buried under ever more of them.
 */
export const MAX_FLUSHES_IN_FLIGHT = 2;

/**
 * Commits status reports to the status inbox together (ADR 1801): everything the phones of this node
 * report within a short window (STATUS_INTAKE_BATCH_WAIT_MS, or until STATUS_INTAKE_BATCH_SIZE reports)
 * goes out in one multi-row INSERT, with at most MAX_FLUSHES_IN_FLIGHT of them outstanding, never two
 * holding reports of the same message (those are committed in the order they came). Each caller
 * is answered once its reports are committed in PostgreSQL: a phone is acked, an SMSGate app answered,
 * only after that, so losing Redis loses no acknowledged report. A report PostgreSQL refuses is split
 * out of its batch and dead-lettered (ADR 1601): its neighbours are written, and it is answered too, or
 * the phone would send it for ever.
 */
@Injectable()
export class StatusReportBatcher {
  private readonly logger = new Logger(StatusReportBatcher.name);
  private readonly writer: CoalescingWriter<DeviceReports>;

  constructor(
    private readonly inbox: StatusInboxRepository,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: Metrics,
  ) {
    this.writer = new CoalescingWriter(
      (batch) => this.write(batch),
      MAX_FLUSHES_IN_FLIGHT,
      {
        waitMs: config.status.intakeBatchWaitMs,
        maxWeight: config.status.intakeBatchSize,
        weight: (entry) => entry.reports.length,
      },
      // A message's reports reach the inbox in the order they came: one whose message has a report in
      // an INSERT still in flight waits for the next. Two INSERTs may commit in either order, and the
      // status app, which applies a message's reports in inbox order, cannot wait for a row it cannot
      // see yet: a phone's delivered could be applied, and its webhook event sent, before its sent.
      (entry) => entry.reports.map((report) => report.messageId),
    );
  }

  submit(deviceId: number, reports: StatusReport[]): Promise<void> {
    return this.writer.submit({ deviceId, reports });
  }

  private async write(batch: DeviceReports[]): Promise<void> {
    const rows: InboxReport[] = batch.flatMap(({ deviceId, reports }) =>
      reports.map((report) => ({ ...report, deviceId })),
    );
    await writeDeadLettering(
      this.db,
      'status',
      rows,
      async (part) => {
        await this.inbox.insert(part);
        return part;
      },
      statusReportLetter,
      { metrics: this.metrics, logger: this.logger },
    );
  }
}
