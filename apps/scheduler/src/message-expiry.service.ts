import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { DeviceQueue, MessageStatus } from '@smsfleet/contracts';
import { DeviceQueues } from '@smsfleet/queueing';
import { FinalisedMessage, finaliseOverdueMessages } from '@smsfleet/persistence';
import { BatchLoop } from './batch-loop';

const EXPIRY_BATCH = 1_000;

/** A message handed to a phone just before its validity ended may still be acked: leave it that long. */
const DISPATCH_MARGIN_MS = 10_000;

export const EXPIRED_ERROR = 'validity ended before the message reached a phone';

/**
 * Nothing stays unfinished for ever: a message that did not reach a phone within its validity — never
 * enqueued, waiting for an offline phone, or stuck anywhere — ends as 202 (Expired), and one the phone took
 * but never finally reported ends as 203 (No report). Their jobs leave the queues. Replicas share the work
 * through SKIP LOCKED; the forward-only status rule makes a late phone report harmless.
 */
@Injectable()
export class MessageExpiryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MessageExpiryService.name);
  private readonly loop = new BatchLoop({
    name: 'expiry sweep',
    intervalMs: () => this.config.scheduler.expiryIntervalMs,
    batchSize: EXPIRY_BATCH,
    runOnce: () => this.expireOnce(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queues: DeviceQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(this.config.scheduler.expiryIntervalMs);
  }

  /** Finalises one batch; returns how many messages it finalised. */
  async expireOnce(): Promise<number> {
    const graceSeconds = (this.config.dispatcher.ackTimeoutMs + DISPATCH_MARGIN_MS) / 1_000;
    const rows = await this.db.transaction((tx) =>
      finaliseOverdueMessages(
        tx,
        graceSeconds,
        this.config.messages.reportTimeoutSeconds,
        EXPIRED_ERROR,
        EXPIRY_BATCH,
      ),
    );
    if (rows.length === 0) return 0;
    this.logger.log({ count: rows.length }, 'messages finalised as expired or unreported');
    await this.removeJobs(rows.filter((row) => row.enqueued && row.final === Number(MessageStatus.Expired)));
    return rows.length;
  }

  /** No queue residue for a final message; a job a dispatcher holds right now it finishes itself. */
  private async removeJobs(rows: FinalisedMessage[]): Promise<void> {
    await Promise.all(
      rows.map((row) =>
        this.queues
          .queue(row.device_id)
          .remove(DeviceQueue.jobId(Number(row.id)))
          .catch((error: Error) =>
            this.logger.warn({ err: error, messageId: row.id }, 'job of an expired message not removed'),
          ),
      ),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
