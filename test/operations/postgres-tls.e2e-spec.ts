import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, dropDatabase, postgresConnection, runMigrations } from '@smsfleet/persistence';
import { PostgresCluster } from '../harness/postgres-cluster';
import { makeTestCertificates, TestCertificates } from '../helpers/test-certificates';

/**
 * TLS to PostgreSQL as a managed service asks for it (docs/operations.md): a private cluster with ssl=on and
 * a certificate for "localhost" signed by a CA of the test's own. The sslmode of DATABASE_URL and
 * DATABASE_SSL_CA_FILE must be honoured by raw pg clients and by TypeORM (the migrations run through it).
 */
describe('PostgreSQL over TLS: sslmode and DATABASE_SSL_CA_FILE', () => {
  let cluster: PostgresCluster;
  let certificates: TestCertificates;

  beforeAll(async () => {
    certificates = makeTestCertificates('smsfleet-pg-tls-');
    cluster = await PostgresCluster.start({
      tls: { certFile: certificates.serverCertFile, keyFile: certificates.serverKeyFile },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    certificates?.remove();
  });

  const url = (host: string, mode: string) =>
    `postgres://postgres@${host}:${cluster.port}/postgres?sslmode=${mode}`;

  /** Connects as the product does and answers whether the session is encrypted, or the connection error. */
  async function connect(databaseUrl: string, caFile?: string): Promise<boolean | string> {
    const { connectionString, ssl } = postgresConnection({ url: databaseUrl, tls: caFile ? { caFile } : {} });
    const client = new Client({
      connectionString,
      ...(ssl === undefined ? {} : { ssl }),
      connectionTimeoutMillis: 5_000,
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ ssl: boolean }>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return rows[0].ssl;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it('verify-full with the right CA and name connects encrypted; a wrong CA or a wrong name is refused', async () => {
    expect(await connect(url('localhost', 'verify-full'), certificates.caFile)).toBe(true);
    expect(await connect(url('localhost', 'verify-full'), certificates.otherCaFile)).toMatch(
      /self[- ]signed certificate|unable to (get|verify)/,
    );
    expect(await connect(url('127.0.0.1', 'verify-full'), certificates.caFile)).toMatch(
      /Hostname\/IP does not match certificate's altnames/,
    );
    // Without a CA file only the public CAs are trusted: ours is not one.
    expect(await connect(url('localhost', 'verify-full'))).toMatch(/self[- ]signed certificate|unable to/);
  });

  it('verify-ca checks the chain, not the name; require encrypts without checking; no sslmode stays plain', async () => {
    expect(await connect(url('127.0.0.1', 'verify-ca'), certificates.caFile)).toBe(true);
    expect(await connect(url('127.0.0.1', 'verify-ca'), certificates.otherCaFile)).toMatch(
      /self[- ]signed certificate|unable to (get|verify)/,
    );
    expect(await connect(url('127.0.0.1', 'require'))).toBe(true);
    expect(await connect(url('127.0.0.1', 'disable'))).toBe(false);
    expect(await connect(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`)).toBe(false);
  });

  it('TypeORM (the migrations) and the database admin clients run over verify-full', async () => {
    const target = {
      url: `postgres://postgres@localhost:${cluster.port}/smsfleet_tls?sslmode=verify-full`,
      tls: { caFile: certificates.caFile },
    };
    const ran = await runMigrations(target);
    expect(ran.length).toBeGreaterThan(10);
    // The server also takes plain connections: TypeORM's own session (every app's) must be the encrypted one.
    const dataSource = new DataSource(dataSourceOptions(target, 'tls-test'));
    await dataSource.initialize();
    try {
      const rows = (await dataSource.query(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      )) as Array<{
        ssl: boolean;
      }>;
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await dataSource.destroy();
    }
    // The same with a CA that did not sign the server's certificate: refused before any SQL.
    await expect(runMigrations({ ...target, tls: { caFile: certificates.otherCaFile } })).rejects.toThrow(
      /self[- ]signed certificate|unable to (get|verify)/,
    );
    await dropDatabase(target);
  }, 120_000);
});
