import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AddedMessage, markEnqueuedSkippingLocked } from '@smsfleet/persistence';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT = 5_000;

/**
 * Records `enqueued_at` for messages the API has just put in their queues, many requests in one UPDATE,
 * after the answer, never waiting for a row another statement holds. Losing a flush (a crash within
 * ~50 ms) costs nothing but a second `add` by the outbox sweep: same job id, so a no-op while the job
 * exists, and rows already taken (status > 1) are skipped. Each message carries the send time its job was
 * added with: a row rescheduled meanwhile is left unmarked (markEnqueuedSkippingLocked says why).
 */
@Injectable()
export class EnqueuedMarker implements OnApplicationShutdown {
  private readonly logger = new Logger(EnqueuedMarker.name);
  private pending: AddedMessage[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  mark(added: readonly AddedMessage[]): void {
    this.pending.push(...added);
    if (this.pending.length >= FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const added = this.pending;
    this.pending = [];
    if (added.length === 0) return;
    this.flushing = this.flushing.then(() =>
      markEnqueuedSkippingLocked(this.db, added).catch((error: Error) =>
        // The rows stay in the outbox; the sweep enqueues them again (a no-op for jobs still queued).
        this.logger.warn(
          { err: error, count: added.length },
          'enqueued_at not recorded; the outbox sweep will see these rows',
        ),
      ),
    );
  }

  /** Waits for everything marked so far to be written. */
  async drain(): Promise<void> {
    this.flush();
    await this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drain();
  }
}
