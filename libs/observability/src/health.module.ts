import { Module } from '@nestjs/common';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule } from '@smsfleet/queueing';
import { HealthController } from './health.controller';

@Module({ imports: [PersistenceModule, QueueingModule], controllers: [HealthController] })
export class HealthModule {}
