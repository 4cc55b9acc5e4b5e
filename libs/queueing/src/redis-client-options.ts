import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import IORedis, { Redis, RedisOptions } from 'ioredis';
import { readCertificateFiles, RedisSettings, RedisTls } from '@smsfleet/config';

/**
 * ioredis options for the configured Redis: one server, or the primary Sentinel names (followed across a
 * failover), with credentials and TLS. Certificate files are read here, when a process opens its first
 * connection at start-up, so a missing file stops it with the variable's name.
 */
export function redisClientOptions(
  settings: RedisSettings,
  readFile: (path: string) => Buffer = readFileSync,
): RedisOptions {
  const { target } = settings;
  const tls = settings.tls ? tlsOptions(settings.tls, readFile) : undefined;
  const credentials = {
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
  };
  if (target.kind === 'standalone')
    return { host: target.host, port: target.port, db: target.db, ...credentials, ...(tls ? { tls } : {}) };
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.masterName,
    db: target.db,
    ...credentials,
    ...(target.sentinelUsername === undefined ? {} : { sentinelUsername: target.sentinelUsername }),
    ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
    ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
    ...(target.sentinelTls && tls ? { sentinelTLS: tls } : {}),
    // Subscribes to the Sentinels' +switch-master: a promotion is followed at once, not at the next error.
    failoverDetector: true,
    // A demoted primary still answers, read-only, until its clients move: reconnect (and ask the Sentinels).
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  };
}

/** An ioredis client of the configured Redis; `extra` adds what one connection needs (name, timeouts). */
export function createRedisClient(settings: RedisSettings, extra: RedisOptions = {}): Redis {
  const client = new IORedis({ ...redisClientOptions(settings), ...extra });
  // ioredis 5 closes the failover detector's Sentinel connections on disconnect() but not after quit():
  // they would keep a CLI run (or any process that quit its clients) from exiting.
  if (settings.target.kind === 'sentinel') client.once('end', () => client.disconnect());
  return client;
}

function tlsOptions(files: RedisTls, readFile: (path: string) => Buffer): ConnectionOptions {
  return {
    ...readCertificateFiles(files, 'REDIS_TLS_', readFile),
    ...(files.servername === undefined ? {} : { servername: files.servername }),
  };
}
