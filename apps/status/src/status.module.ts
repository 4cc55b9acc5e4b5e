import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { StatusInboxDrain } from './status-inbox-drain';
import { StatusWriter } from './status-writer';
import { WebhookDeliveryModule } from './webhooks/webhook-delivery.module';

/** Applies the status inbox to the messages (ADR 1801) and delivers webhooks; PostgreSQL only. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('status'),
    PersistenceModule,
    HealthModule,
    WebhookDeliveryModule,
  ],
  providers: [StatusWriter, StatusInboxDrain],
})
export class StatusModule {}
