import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { PURGE_BATCH, RetentionPurge } from './retention-purge';

/**
 * Idempotency keys are kept for IDEMPOTENCY_KEY_RETENTION_SECONDS (a client retries within minutes, not
 * days); older ones are deleted in batches, on the expiry sweep's interval, so the table stays small.
 * Replicas share the work through SKIP LOCKED.
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
    const [{ purged }]: Array<{ purged: number }> = await this.db.query(
      `WITH old AS (
         SELECT user_id, key FROM idempotency_keys
          WHERE created_at < now() - make_interval(secs => $1)
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), deleted AS (
         DELETE FROM idempotency_keys k USING old WHERE k.user_id = old.user_id AND k.key = old.key RETURNING 1
       )
       SELECT count(*)::int AS purged FROM deleted`,
      [this.config.scheduler.idempotencyKeyRetentionSeconds, PURGE_BATCH],
    );
    if (purged > 0) this.logger.log({ count: purged }, 'idempotency keys past their retention deleted');
    return purged;
  }
}
