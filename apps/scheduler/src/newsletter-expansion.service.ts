import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { insertNewsletterMessages } from '@smsfleet/persistence';
import { EnqueueableMessage, enqueueableFrom, MessageEnqueuer } from '@smsfleet/queueing';

import { BatchLoop } from './batch-loop';

/** Newsletters claimed per transaction. */
const CLAIM_BATCH = 10;
/** Jobs per addBulk when a large newsletter is enqueued. */
const ENQUEUE_CHUNK = 5_000;

/** What every message of one newsletter shares: read once, not once per contact. */
interface NewsletterRow {
  device_id: number;
  body: string;
  sim: number;
  time_to_send: Date;
  valid_until: Date;
}

/**
 * Due newsletters become messages: one per contact carrying any of the newsletter's tags, each contact
 * (and each number) once. Claimed with SKIP LOCKED so that scheduler replicas never expand one twice; the
 * messages are committed together with the "expanded" mark and enqueued after the commit — anything not
 * enqueued then is picked up by the outbox sweep.
 */
@Injectable()
export class NewsletterExpansionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NewsletterExpansionService.name);
  private readonly loop = new BatchLoop({
    name: 'newsletter expansion',
    intervalMs: () => this.config.scheduler.sweepIntervalMs,
    batchSize: CLAIM_BATCH,
    runOnce: () => this.expandDue(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly enqueuer: MessageEnqueuer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(0);
  }

  /** Expands one batch of due newsletters; returns how many it claimed. */
  async expandDue(): Promise<number> {
    const created: EnqueueableMessage[] = [];
    const claimed = await this.db.transaction(async (tx) => {
      const due: Array<{ id: number }> = await tx.query(
        `SELECT id FROM newsletters
          WHERE expanded_at IS NULL AND time_to_send <= now()
          ORDER BY time_to_send
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [CLAIM_BATCH],
      );
      for (const { id } of due) {
        // now() is the transaction's time: every message of the newsletter has the same send time and validity.
        const [newsletter]: NewsletterRow[] = await tx.query(
          `SELECT device_id, body, sim, now() AS time_to_send, now() + make_interval(secs => $2) AS valid_until
             FROM newsletters WHERE id = $1`,
          [id, this.config.messages.validitySeconds],
        );
        const rows = await insertNewsletterMessages(tx, id, this.config.messages.validitySeconds);
        await tx.query(`UPDATE newsletters SET expanded_at = now(), message_count = $2 WHERE id = $1`, [
          id,
          rows.length,
        ]);
        this.logger.log({ newsletterId: id, messages: rows.length }, 'newsletter expanded');
        for (const row of rows) created.push(enqueueableFrom({ ...newsletter, ...row }));
      }
      return due.length;
    });
    await this.enqueue(created.sort((a, b) => a.id - b.id));
    return claimed;
  }

  private async enqueue(messages: EnqueueableMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += ENQUEUE_CHUNK) {
      const chunk = messages.slice(start, start + ENQUEUE_CHUNK);
      try {
        await this.enqueuer.enqueue(chunk);
      } catch (error) {
        // Committed: the outbox sweep enqueues what has no enqueued_at.
        this.logger.warn({ err: error, count: chunk.length }, 'newsletter messages left to the outbox sweep');
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
