import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { DatabaseTarget, postgresConnection } from './postgres-connection';

/** The database a target names, and a client of the server's maintenance database `postgres` beside it. */
function maintenanceClient(database: DatabaseTarget): { name: string; admin: Client } {
  const { connectionString, ssl } = postgresConnection(database);
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  return {
    name,
    admin: new Client({ connectionString: url.toString(), ...(ssl === undefined ? {} : { ssl }) }),
  };
}

/** Creates the database named in the URL if it does not exist yet (local installs and tests). */
export async function ensureDatabase(database: DatabaseTarget): Promise<void> {
  const { name, admin } = maintenanceClient(database);
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new Error(`database name "${name}" must be letters, digits, _ or -`);
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(database: DatabaseTarget): Promise<void> {
  const { name, admin } = maintenanceClient(database);
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Applies every pending migration; returns the names of those it ran. */
export async function runMigrations(database: DatabaseTarget): Promise<string[]> {
  await ensureDatabase(database);
  const dataSource = new DataSource(dataSourceOptions(database, 'migrate'));
  await dataSource.initialize();
  try {
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
