import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@smsfleet/config';
import { dataSourceOptions } from './data-source-options';
import { configuredDatabase } from './postgres-connection';
import { ENTITIES } from './entities';

/** The PostgreSQL connection and repositories of every entity, for any app. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(
          configuredDatabase(config),
          config.app,
          // Only the API's statements are bounded: they serve requests; the other apps' sweeps may be long.
          config.app === 'api' ? config.api.statementTimeoutMs : undefined,
        ),
        retryAttempts: 3,
        retryDelay: 1_000,
      }),
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class PersistenceModule {}
