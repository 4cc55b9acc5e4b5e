import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { MessageExpiryService } from './message-expiry.service';
import { OutboxSweepService } from './outbox-sweep.service';

@Module({
  imports: [ConfigModule, LoggingModule.forApp('scheduler'), PersistenceModule, QueueingModule, HealthModule],
  providers: [OutboxSweepService, MessageExpiryService],
})
export class SchedulerModule {}
