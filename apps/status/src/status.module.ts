import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { APP_CONFIG, AppConfig, ConfigModule } from '@smsfleet/config';
import { StatusQueue } from '@smsfleet/contracts';
import { HealthModule, LoggingModule } from '@smsfleet/observability';
import { PersistenceModule } from '@smsfleet/persistence';
import { QueueingModule, RedisConnections } from '@smsfleet/queueing';
import { StatusProcessor } from './status.processor';
import { StatusWriter } from './status-writer.service';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forApp('status'),
    PersistenceModule,
    QueueingModule,
    HealthModule,
    BullModule.forRootAsync({
      imports: [QueueingModule],
      inject: [RedisConnections, APP_CONFIG],
      useFactory: (redis: RedisConnections, config: AppConfig) => ({
        connection: redis.shared,
        prefix: config.redisPrefix,
        skipVersionCheck: true,
      }),
    }),
    BullModule.registerQueue({ name: StatusQueue.name }),
  ],
  providers: [StatusWriter, StatusProcessor],
})
export class StatusModule {}
