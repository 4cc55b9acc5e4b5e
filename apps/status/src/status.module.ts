import { Module } from '@nestjs/common';
import { ConfigModule } from '@smsfleet/config';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { StatusInboxDrain } from './status-inbox-drain';
import { StatusWriter } from './status-writer';

/** Applies the status inbox to the messages (ADR 1801); PostgreSQL only. */
@Module({
  imports: [ConfigModule, LoggingModule.forApp('status'), PersistenceModule, HealthModule],
  providers: [StatusWriter, StatusInboxDrain],
})
export class StatusModule {}
