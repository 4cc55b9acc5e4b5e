import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { DevicePresence } from './device-presence';
import { DeviceQueues } from './device-queues';
import { MessageEnqueuer } from './message-enqueuer';
import { RedisConnections } from './redis-connections';
import { StatusQueueProducer } from './status-queue';
import { WorkSignal } from './work-signal';

@Module({
  imports: [PersistenceModule],
  providers: [
    RedisConnections,
    DevicePresence,
    DeviceQueues,
    WorkSignal,
    MessageEnqueuer,
    StatusQueueProducer,
  ],
  exports: [RedisConnections, DevicePresence, DeviceQueues, WorkSignal, MessageEnqueuer, StatusQueueProducer],
})
export class QueueingModule {}
