import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const FLUSH_EVERY_MS = 50;
const FLUSH_AT = 5_000;

/**
 * Records `enqueued_at` for messages the API has just put in their queues, many requests in one UPDATE,
 * after the answer, never waiting for a row another statement holds. Losing a flush (a crash within
 * ~50 ms) costs nothing but a second `add` by the outbox sweep: same job id, so a no-op while the job
 * exists, and rows already taken (status > 1) are skipped.
 */
@Injectable()
export class EnqueuedMarker implements OnApplicationShutdown {
  private readonly logger = new Logger(EnqueuedMarker.name);
  private pending: number[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  mark(ids: number[]): void {
    this.pending.push(...ids);
    if (this.pending.length >= FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = this.pending;
    this.pending = [];
    if (ids.length === 0) return;
    this.flushing = this.flushing.then(() =>
      this.db
        .query(
          // SKIP LOCKED: a row another statement is updating (the status writer moving it on, many rows at
          // once in its own order) is left unmarked rather than waited for. Waiting deadlocked with those
          // writers a few times a soak; an unmarked row costs only a no-op add by the outbox sweep, and a
          // rebuild bounded by the heartbeat checks it (ADR 0605). The status writer fills in enqueued_at
          // of a row it moves on, so a skipped mark does not outlive the phone's first report.
          `UPDATE messages SET enqueued_at = now()
            WHERE id IN (SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND enqueued_at IS NULL
                           FOR UPDATE SKIP LOCKED)`,
          [ids],
        )
        .then(() => undefined)
        .catch((error: Error) =>
          // The rows stay in the outbox; the sweep enqueues them again (a no-op for jobs still queued).
          this.logger.warn(
            { err: error, count: ids.length },
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
