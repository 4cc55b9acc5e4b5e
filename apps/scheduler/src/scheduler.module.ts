import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule, QueueBacklogCollector } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { NewsletterExpansionService } from './newsletter-expansion.service';
import { IdempotencyKeyRetentionService } from './idempotency-key-retention.service';
import { MessageExpiryService } from './message-expiry.service';
import { OutboxSweepService } from './outbox-sweep.service';
import { PoolMoverService } from './pool-mover.service';
import { PresenceAnnouncerService } from './presence-announcer.service';
import { RedisLossReconcileService } from './redis-loss-reconcile.service';
import { WebhookRetentionService } from './webhook-retention.service';
import { HourRollupService } from './hour-rollup.service';

@Module({
  imports: [ConfigModule, LoggingModule.forApp('scheduler'), PersistenceModule, QueueingModule, HealthModule],
  // The scheduler also reports the whole system's queue backlog at /metrics.
  providers: [
    OutboxSweepService,
    NewsletterExpansionService,
    MessageExpiryService,
    IdempotencyKeyRetentionService,
    WebhookRetentionService,
    RedisLossReconcileService,
    PresenceAnnouncerService,
    QueueBacklogCollector,
    HourRollupService,
    PoolMoverService,
  ],
})
export class SchedulerModule {}
