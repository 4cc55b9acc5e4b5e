import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { isFinalStatus } from '@smsfleet/contracts';
import { Metrics, Readiness } from '@smsfleet/observability';
import { statusReportLetter, writeDeadLettering } from '@smsfleet/persistence';
import { DeviceStatusReport } from './status-aggregation';
import { StatusWriter } from './status-writer';

/**
 * Transactions applying the inbox at once. One spent most of its time waiting on round trips while
 * PostgreSQL had room for another statement (ADR 0407); each claims the next rows nobody holds, in
 * message-id order, so two lanes meet on a message only at their batches' edge, and both lock in id
 * order there (ADR 0607): they may wait on each other, never deadlock.
 */
export const STATUS_WRITE_LANES = 2;
/** Pause after a failed transaction (PostgreSQL away), doubling up to the maximum. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 5_000;
/** An empty inbox is looked at less and less often, down to once per this many STATUS_BATCH_WAIT_MS. */
const IDLE_BACKOFF = 8;

interface InboxRow {
  message_id: string;
  device_id: number;
  status: number;
  at: Date;
  error: string | null;
  received_at: Date;
}

/**
 * Drains `status_inbox` (ADR 1801): each transaction claims up to STATUS_BATCH_SIZE reports nobody else
 * holds (FOR UPDATE SKIP LOCKED, in message-id order), applies them to the messages in one statement,
 * and deletes them, all or nothing: a kill -9 mid-batch leaves the rows for the next claim, and applying
 * twice changes nothing. A report PostgreSQL refuses is split out and dead-lettered (ADR 1601) in the
 * same transaction; a transient error rolls the whole batch back to be claimed again.
 */
@Injectable()
export class StatusInboxDrain implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StatusInboxDrain.name);
  private stopped = false;
  private readonly sleeping = new Set<() => void>();
  private lanes: Promise<void>[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly writer: StatusWriter,
    private readonly metrics: Metrics,
    readiness: Readiness,
  ) {
    readiness.withoutRedis();
  }

  onApplicationBootstrap(): void {
    this.lanes = Array.from({ length: STATUS_WRITE_LANES }, () => this.run());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleeping) wake();
    await Promise.all(this.lanes);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let idle = 0;
    const wait = Math.max(this.config.status.batchWaitMs, 1);
    while (!this.stopped) {
      try {
        const claimed = await this.drainOnce();
        failures = 0;
        // A quiet system costs a few statements a second, not a hundred; the first report after a quiet
        // spell waits at most IDLE_BACKOFF × STATUS_BATCH_WAIT_MS (160 ms by default).
        idle = claimed === 0 ? Math.min(idle === 0 ? 1 : idle * 2, IDLE_BACKOFF) : 0;
        if (claimed < this.config.status.batchSize) await this.sleep(wait * Math.max(idle, 1));
      } catch (error) {
        failures++;
        this.logger.warn({ err: error }, 'status inbox batch not applied; it will be claimed again');
        await this.sleep(Math.min(RETRY_MS * 2 ** (failures - 1), RETRY_MAX_MS));
      }
    }
  }

  /** One transaction: claim, apply, delete. Answers how many reports it claimed. */
  async drainOnce(): Promise<number> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        // A message's reports are applied in the order they came: a report whose message has an
        // earlier one held by the other lane (its batch's edge, or the earlier one being applied) waits
        // for the next claim. Otherwise its step could commit first, and its webhook event go out before
        // the earlier step's (a delivered before its sent, docs/webhooks.md). A claimed report goes
        // ahead when every earlier report of its message is claimed too: as many as its rank among the
        // claimed ones says. Counted on the key, once per claimed row; a lookup of each earlier row in
        // the claimed set instead grew with the square of the batch (20 ms for 500 rows, 1.6 s for 5000).
        const rows = (await runner.query(
          `WITH claimed AS (
             SELECT message_id, id, row_number() OVER (PARTITION BY message_id ORDER BY id) AS n
               FROM (SELECT message_id, id FROM status_inbox
                      ORDER BY message_id, id
                      LIMIT $1 FOR UPDATE SKIP LOCKED) locked)
           DELETE FROM status_inbox s USING claimed c
            WHERE s.message_id = c.message_id AND s.id = c.id
              AND (SELECT count(*) FROM status_inbox p
                    WHERE p.message_id = c.message_id AND p.id < c.id) = c.n - 1
           RETURNING s.message_id, s.device_id, s.status, s.at, s.error, s.received_at`,
          [this.config.status.batchSize],
        )) as [InboxRow[], number] | InboxRow[];
        const claimed = claimedRows(rows);
        if (claimed.length === 0) {
          await runner.commitTransaction();
          return 0;
        }
        const recorded = await this.apply(runner, claimed);
        await runner.commitTransaction();
        this.metrics.statusBatchSize.observe(claimed.length);
        for (const row of claimed)
          this.metrics.statusLag.observe((Date.now() - row.received_at.getTime()) / 1_000);
        // Each (message, final status) pair is recorded once, so this counts messages reaching a final status.
        for (const status of recorded)
          if (isFinalStatus(status)) this.metrics.messagesFinal.inc({ status: String(status) });
        return claimed.length;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  /** Applies the reports, splitting out any PostgreSQL refuses (each try behind its own savepoint). */
  private async apply(runner: QueryRunner, rows: InboxRow[]): Promise<number[]> {
    const reports: DeviceStatusReport[] = rows.map((row) => ({
      messageId: Number(row.message_id),
      deviceId: row.device_id,
      status: row.status,
      at: row.at.toISOString(),
      ...(row.error !== null ? { error: row.error } : {}),
    }));
    const recorded: number[] = [];
    await writeDeadLettering(
      runner,
      'status',
      reports,
      async (part) => {
        await runner.query('SAVEPOINT apply');
        try {
          recorded.push(...(await this.writer.write(runner, part)));
        } catch (error) {
          await runner.query('ROLLBACK TO SAVEPOINT apply');
          throw error;
        }
        return part;
      },
      statusReportLetter,
      { metrics: this.metrics, logger: this.logger },
    );
    return recorded;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }
}

/** TypeORM answers a DELETE … RETURNING as [rows, count] on PostgreSQL. */
function claimedRows(result: [InboxRow[], number] | InboxRow[]): InboxRow[] {
  return Array.isArray(result[0]) ? (result[0] as InboxRow[]) : (result as InboxRow[]);
}
