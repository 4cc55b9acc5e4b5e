import {
  assertCertificatePair,
  assertReadableCertificateFiles,
  CertificateFiles,
  readCertificateFileSettings,
} from './certificate-files';
import { ConfigError } from './config-error';
import { EnvReader } from './env-reader';

/** libpq's `sslmode` values that pg can honour (it cannot fall back to plain text: no prefer, no allow). */
export const DATABASE_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

/** Certificate files for TLS to PostgreSQL; `sslmode` itself stays in DATABASE_URL, where libpq has it. */
export type DatabaseTlsFiles = CertificateFiles;

/** The `sslmode` of a PostgreSQL URL (undefined: none given, no TLS), or a ConfigError naming DATABASE_URL. */
export function databaseSslMode(databaseUrl: string): DatabaseSslMode | undefined {
  const params = new URL(databaseUrl).searchParams;
  for (const name of ['ssl', 'sslrootcert', 'sslcert', 'sslkey'])
    if (params.has(name))
      throw new ConfigError(
        'DATABASE_URL',
        `takes no ${name} parameter: give sslmode=… and the files as DATABASE_SSL_CA_FILE, DATABASE_SSL_CERT_FILE, DATABASE_SSL_KEY_FILE`,
      );
  const mode = params.get('sslmode') ?? undefined;
  if (mode !== undefined && !(DATABASE_SSL_MODES as readonly string[]).includes(mode))
    throw new ConfigError(
      'DATABASE_URL',
      `sslmode must be one of ${DATABASE_SSL_MODES.join(', ')} (got "${mode}")`,
    );
  return mode as DatabaseSslMode | undefined;
}

/** Reads the TLS files of PostgreSQL and checks them against the URL's sslmode. */
export function readDatabaseTls(read: EnvReader, databaseUrl: string): DatabaseTlsFiles {
  const files = readCertificateFileSettings(read, 'DATABASE_SSL_');
  const mode = databaseSslMode(databaseUrl);
  const tls = mode !== undefined && mode !== 'disable';
  const set = Object.entries({
    DATABASE_SSL_CA_FILE: files.caFile,
    DATABASE_SSL_CERT_FILE: files.certFile,
    DATABASE_SSL_KEY_FILE: files.keyFile,
  }).find(([, value]) => value !== undefined);
  if (set && !tls)
    throw new ConfigError(set[0], 'is set but DATABASE_URL has no sslmode=require, verify-ca or verify-full');
  if (mode === 'verify-ca' && files.caFile === undefined)
    throw new ConfigError(
      'DATABASE_SSL_CA_FILE',
      'is required with sslmode=verify-ca (without hostname checks, any certificate of a public CA would pass)',
    );
  assertCertificatePair(files, 'DATABASE_SSL_');
  assertReadableCertificateFiles(files, 'DATABASE_SSL_');
  return Object.fromEntries(Object.entries(files).filter(([, value]) => value !== undefined));
}
