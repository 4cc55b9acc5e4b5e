import { readFileSync } from 'node:fs';
import { AppConfig, DatabaseTlsFiles, databaseSslMode, readCertificateFiles } from '@smsfleet/config';

/** A PostgreSQL database: its URL (with `sslmode`, as libpq has it) and the certificate files TLS needs. */
export type DatabaseTarget = string | { url: string; tls?: DatabaseTlsFiles };

/** The database of the configuration, with its TLS files. */
export function configuredDatabase(config: Pick<AppConfig, 'databaseUrl' | 'databaseTls'>): DatabaseTarget {
  return { url: config.databaseUrl, tls: config.databaseTls };
}

/** The TLS options used: what both pg's `ssl` and TypeORM's accept. */
export interface PostgresTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  checkServerIdentity?: () => undefined;
}

/** What every pg Client and Pool (TypeORM's included) is given: the URL without sslmode, and `ssl`. */
export interface PostgresConnection {
  connectionString: string;
  ssl?: PostgresTls | false;
}

/**
 * Turns libpq's `sslmode` into node's TLS options. pg reads sslmode itself but parses the URL last, over any
 * `ssl` passed beside it, and its meaning of `require` is set to change (pg 9: libpq's); so the URL given
 * to pg carries none, and the meaning is libpq's, here:
 * - `require`: encrypted, certificate not checked (checked against the CA like verify-ca when a CA is given);
 * - `verify-ca`: signed by DATABASE_SSL_CA_FILE, any host name;
 * - `verify-full`: signed by that CA (or a public one when none is given) and naming the host connected to.
 */
export function postgresConnection(
  target: DatabaseTarget,
  readFile: (path: string) => Buffer = readFileSync,
): PostgresConnection {
  const { url, tls = {} } = typeof target === 'string' ? { url: target } : target;
  const mode = databaseSslMode(url);
  const parsed = new URL(url);
  parsed.searchParams.delete('sslmode');
  const connectionString = parsed.toString();
  if (mode === undefined) return { connectionString };
  if (mode === 'disable') return { connectionString, ssl: false };
  const certificates = readCertificateFiles(tls, 'DATABASE_SSL_', readFile);
  const ssl: PostgresTls = {
    ...certificates,
    rejectUnauthorized: mode !== 'require' || certificates.ca !== undefined,
  };
  // verify-ca (and require with a CA): the chain is checked, the host name is not.
  if (mode !== 'verify-full') ssl.checkServerIdentity = () => undefined;
  return { connectionString, ssl };
}
