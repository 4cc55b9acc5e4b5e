import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { QueueDashboard } from './queue-dashboard';

/** The operators' queue dashboard (bull-board) at /admin/queues. */
@Module({
  imports: [ConfigModule, PersistenceModule, QueueingModule],
  providers: [QueueDashboard],
})
export class QueueDashboardModule {}
