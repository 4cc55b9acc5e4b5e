import { types } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { DatabaseTarget, postgresConnection } from './postgres-connection';

// int8 (ids, counts) as JS numbers: ids stay far below 2^53, and the API must answer numbers, not strings.
types.setTypeParser(types.builtins.INT8, (value: string) => Number(value));

/**
 * Server settings for each of our sessions. A backend whose client died keeps its transaction, and with it
 * the rows it claimed (FOR UPDATE SKIP LOCKED), until it next touches the socket; a backend waiting on a
 * lock or running a long statement does not touch it. F3 caught a killed scheduler's newsletter claim held
 * for as long as a lock wait lasted. The check polls the socket every 2 s during a statement, so a killed
 * app's claims unlock within 2 s; the keepalives do the same within about a minute for a client that
 * vanished from the network without closing its socket. All are per session (PostgreSQL 14 or newer).
 */
const SESSION_OPTIONS = [
  'client_connection_check_interval=2000',
  'tcp_keepalives_idle=30',
  'tcp_keepalives_interval=10',
  'tcp_keepalives_count=3',
]
  .map((setting) => `-c ${setting}`)
  .join(' ');

/**
 * `statementTimeoutMs`: PostgreSQL cancels any statement of these sessions that runs longer (SQLSTATE
 * 57014), so that one expensive request cannot hold a pooled connection for long (the API's).
 */
export function dataSourceOptions(
  database: DatabaseTarget,
  appName: string,
  statementTimeoutMs?: number,
): DataSourceOptions {
  const options =
    statementTimeoutMs === undefined
      ? SESSION_OPTIONS
      : `${SESSION_OPTIONS} -c statement_timeout=${statementTimeoutMs}`;
  const { connectionString, ssl } = postgresConnection(database);
  return {
    type: 'postgres',
    url: connectionString,
    ...(ssl === undefined ? {} : { ssl }),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    applicationName: `smsfleet-${appName}`,
    extra: { max: 20, connectionTimeoutMillis: 5_000, options },
  };
}
