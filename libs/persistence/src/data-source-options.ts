import { types } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

// int8 (ids, counts) as JS numbers: ids stay far below 2^53, and the API must answer numbers, not strings.
types.setTypeParser(types.builtins.INT8, (value: string) => Number(value));

export function dataSourceOptions(databaseUrl: string, appName: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    applicationName: `smsfleet-${appName}`,
    extra: { max: 20, connectionTimeoutMillis: 5_000 },
  };
}
