import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { purgeEndedWebhookEvents } from '@smsfleet/persistence';
import { PURGE_BATCH, RetentionPurge } from './retention-purge';

/**
 * Webhook events and their deliveries are history once every delivery ended; they are kept
 * WEBHOOK_RETENTION_SECONDS (7 days: the deliveries view and a redelivery still reach them) and then
 * deleted in batches on the expiry sweep's interval, so the outbox does not grow with every status change
 * for ever. Undelivered ones are kept until they end (docs/webhooks.md, "Retention").
 */
@Injectable()
export class WebhookRetentionService extends RetentionPurge {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(config, new Logger(WebhookRetentionService.name), 'webhook event purge');
  }

  /** Deletes one batch of ended events past their retention; returns how many. */
  async purgeOnce(): Promise<number> {
    const purged = await purgeEndedWebhookEvents(this.db, this.config.webhooks.retentionSeconds, PURGE_BATCH);
    if (purged > 0) this.logger.log({ count: purged }, 'webhook events past their retention deleted');
    return purged;
  }
}
