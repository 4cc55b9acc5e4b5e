import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { accountIdsAfter, deleteOldStoredHours, storeClosedHours } from '@smsfleet/persistence';
import { BatchLoop } from './batch-loop';

const ACCOUNTS_PER_BATCH = 50;
const PURGE_BATCH = 1_000;

/**
 * Stores the counts of each account's closed hours (libs/persistence/src/messages/hour-counts.ts), so
 * that the overview's 7-day chart reads stored hours instead of a week of messages, also on a fresh api.
 * A round walks the accounts in batches; an account's first round reads its week once, later rounds only
 * the hours not stored yet (those that may still change, and the hour that just closed). Hours past the
 * 8 days the chart needs are deleted after a full walk. Two schedulers store each hour once (markers).
 */
@Injectable()
export class HourRollupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HourRollupService.name);
  private afterId = 0;
  private readonly loop = new BatchLoop({
    name: 'hour roll-up',
    intervalMs: () => this.config.scheduler.hourRollupIntervalMs,
    batchSize: ACCOUNTS_PER_BATCH,
    runOnce: () => this.rollUpOnce(),
    logger: this.logger,
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(this.config.scheduler.hourRollupIntervalMs);
  }

  /** Stores the closed hours of the next batch of accounts; answers how many accounts it looked at. */
  async rollUpOnce(): Promise<number> {
    const accounts = await accountIdsAfter(this.db, this.afterId, ACCOUNTS_PER_BATCH);
    let stored = 0;
    for (const id of accounts) stored += await storeClosedHours(this.db, id);
    this.afterId = accounts.length === ACCOUNTS_PER_BATCH ? accounts[accounts.length - 1] : 0;
    if (this.afterId === 0) while ((await deleteOldStoredHours(this.db, PURGE_BATCH)) === PURGE_BATCH);
    if (stored > 0) this.logger.log({ accounts: accounts.length, hours: stored }, 'closed hours stored');
    return accounts.length;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
