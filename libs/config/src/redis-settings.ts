import {
  assertCertificatePair,
  assertReadableCertificateFiles,
  CertificateFiles,
  readCertificateFileSettings,
} from './certificate-files';
import { ConfigError } from './config-error';
import { EnvReader } from './env-reader';
import { placeholderProblem } from './secret-strength';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';

export interface HostPort {
  host: string;
  port: number;
}

/** One Redis server, as `REDIS_URL` names it (credentials and database number included). */
export interface StandaloneRedis {
  kind: 'standalone';
  host: string;
  port: number;
  db: number;
}

/** A primary found through Sentinel (`REDIS_SENTINELS`), followed across failovers. */
export interface SentinelRedis {
  kind: 'sentinel';
  sentinels: HostPort[];
  masterName: string;
  db: number;
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS to the Sentinels themselves (with the same CA and client certificate as to Redis). */
  sentinelTls: boolean;
}

/** Files are paths: they are read when the connections are made, at start-up. */
export interface RedisTls extends CertificateFiles {
  /** The name the server's certificate must carry, when it is not the address connected to. */
  servername?: string;
}

/** Where Redis is and how to log in: every ioredis client of every app is made from this. */
export interface RedisSettings {
  target: StandaloneRedis | SentinelRedis;
  username?: string;
  password?: string;
  /** Present: every connection to Redis is TLS (`rediss:`, or `REDIS_TLS` with Sentinel). */
  tls?: RedisTls;
}

/**
 * Reads REDIS_URL, or REDIS_SENTINELS and its companions, and the credentials and TLS files of either. Every
 * variable is read whichever is used, so that configVariables() lists them all.
 */
export function readRedisSettings(read: EnvReader, production: boolean): RedisSettings {
  // Validated (and listed with its default) first; then whether it was set at all.
  read.url('REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']);
  const url = read.optionalString('REDIS_URL');
  const sentinelsValue = read.optionalString('REDIS_SENTINELS');
  const masterName = read.optionalString('REDIS_SENTINEL_MASTER');
  const db = read.optionalString('REDIS_DB');
  const username = read.optionalString('REDIS_USERNAME');
  const password = read.optionalString('REDIS_PASSWORD');
  const sentinelUsername = read.optionalString('REDIS_SENTINEL_USERNAME');
  const sentinelPassword = read.optionalString('REDIS_SENTINEL_PASSWORD');
  const tlsFlag = read.flag('REDIS_TLS', false);
  const sentinelTls = read.flag('REDIS_SENTINEL_TLS', tlsFlag);
  const files: RedisTls = {
    ...readCertificateFileSettings(read, 'REDIS_TLS_'),
    servername: read.optionalString('REDIS_TLS_SERVERNAME'),
  };
  if (production) {
    for (const [name, value] of [
      ['REDIS_PASSWORD', password],
      ['REDIS_SENTINEL_PASSWORD', sentinelPassword],
    ] as const)
      if (value !== undefined && placeholderProblem(value))
        throw new ConfigError(name, 'is a placeholder: set a generated password');
  }
  assertCertificatePair(files, 'REDIS_TLS_');

  let target: StandaloneRedis | SentinelRedis;
  let tls: boolean;
  let urlUsername: string | undefined;
  let urlPassword: string | undefined;
  if (sentinelsValue !== undefined) {
    if (url !== undefined)
      throw new ConfigError('REDIS_SENTINELS', 'and REDIS_URL are both set: set one of them, not both');
    if (masterName === undefined)
      throw new ConfigError(
        'REDIS_SENTINEL_MASTER',
        'is required with REDIS_SENTINELS (the monitored master name)',
      );
    target = {
      kind: 'sentinel',
      sentinels: parseSentinels(sentinelsValue),
      masterName,
      db: parseDb('REDIS_DB', db ?? '0'),
      ...(sentinelUsername === undefined ? {} : { sentinelUsername }),
      ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      sentinelTls,
    };
    tls = tlsFlag;
  } else {
    for (const [name, value] of [
      ['REDIS_SENTINEL_MASTER', masterName],
      ['REDIS_SENTINEL_USERNAME', sentinelUsername],
      ['REDIS_SENTINEL_PASSWORD', sentinelPassword],
      ['REDIS_DB', db],
    ] as const)
      if (value !== undefined)
        throw new ConfigError(
          name,
          name === 'REDIS_DB'
            ? 'is only read with REDIS_SENTINELS: put the database number in REDIS_URL (redis://host:6379/5)'
            : 'is only read with REDIS_SENTINELS',
        );
    if (tlsFlag)
      throw new ConfigError('REDIS_TLS', 'is only read with REDIS_SENTINELS: use a rediss: URL for TLS');
    const parsed = new URL(url ?? DEFAULT_REDIS_URL);
    if (parsed.search !== '')
      throw new ConfigError(
        'REDIS_URL',
        `takes no query options (got "${parsed.search}"): see docs/operations.md`,
      );
    target = {
      kind: 'standalone',
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: parsed.port === '' ? 6379 : Number(parsed.port),
      db: parseDb('REDIS_URL', parsed.pathname.replace(/^\//, '') || '0'),
    };
    tls = parsed.protocol === 'rediss:';
    urlUsername = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
    urlPassword = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
    if (production && urlPassword !== undefined && placeholderProblem(urlPassword))
      throw new ConfigError('REDIS_URL', 'has a placeholder password: set a generated one');
    if (password !== undefined && urlPassword !== undefined)
      throw new ConfigError('REDIS_PASSWORD', 'and a password in REDIS_URL are both set: keep one');
    if (username !== undefined && urlUsername !== undefined)
      throw new ConfigError('REDIS_USERNAME', 'and a user name in REDIS_URL are both set: keep one');
  }
  const tlsFileSet = Object.entries({
    REDIS_TLS_CA_FILE: files.caFile,
    REDIS_TLS_CERT_FILE: files.certFile,
    REDIS_TLS_SERVERNAME: files.servername,
  }).find(([, value]) => value !== undefined);
  if (!tls && tlsFileSet)
    throw new ConfigError(
      tlsFileSet[0],
      `is set but TLS is off: use a rediss: URL${sentinelsValue === undefined ? '' : ' (with Sentinel: REDIS_TLS=true)'}`,
    );
  assertReadableCertificateFiles(files, 'REDIS_TLS_');
  const user = username ?? urlUsername;
  const secret = password ?? urlPassword;
  return {
    target,
    ...(user === undefined ? {} : { username: user }),
    ...(secret === undefined ? {} : { password: secret }),
    ...(tls ? { tls: withoutUnset(files) } : {}),
  };
}

/** `host:port` pairs separated by commas; IPv6 addresses in brackets (`[::1]:26379`). */
export function parseSentinels(value: string): HostPort[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0)
    throw new ConfigError('REDIS_SENTINELS', 'lists no Sentinel (host:port,host:port)');
  return entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535)
      throw new ConfigError(
        'REDIS_SENTINELS',
        `must be host:port pairs separated by commas (got "${entry}")`,
      );
    return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/** Describes the target for logs and errors: never a password. */
export function describeRedis(settings: RedisSettings): string {
  const { target } = settings;
  const scheme = settings.tls ? 'rediss' : 'redis';
  if (target.kind === 'standalone') return `${scheme}://${target.host}:${target.port}/${target.db}`;
  const sentinels = target.sentinels.map(({ host, port }) => `${host}:${port}`).join(',');
  return `${scheme} master "${target.masterName}" via Sentinel ${sentinels}, db ${target.db}`;
}

function parseDb(variable: string, value: string): number {
  if (!/^\d{1,5}$/.test(value))
    throw new ConfigError(variable, `must name a database number 0, 1, … (got "${value}")`);
  return Number(value);
}

function withoutUnset(files: RedisTls): RedisTls {
  return Object.fromEntries(Object.entries(files).filter(([, value]) => value !== undefined)) as RedisTls;
}
