import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { purgeExpiredIdempotencyKeys } from '@smsfleet/persistence';
import { PURGE_BATCH, RetentionPurge } from './retention-purge';

/**
 * Idempotency keys are kept for IDEMPOTENCY_KEY_RETENTION_SECONDS (a client retries within minutes, not
 * days); older ones are deleted in batches, on the expiry sweep's interval, so the table stays small.
 */
@Injectable()
export class IdempotencyKeyRetentionService extends RetentionPurge {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(config, new Logger(IdempotencyKeyRetentionService.name), 'idempotency key purge');
  }

  /** Deletes one batch of keys past their retention; returns how many. */
  async purgeOnce(): Promise<number> {
    const purged = await purgeExpiredIdempotencyKeys(
      this.db,
      this.config.scheduler.idempotencyKeyRetentionSeconds,
      PURGE_BATCH,
    );
    if (purged > 0) this.logger.log({ count: purged }, 'idempotency keys past their retention deleted');
    return purged;
  }
}
