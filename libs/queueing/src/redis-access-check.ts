import type { Redis } from 'ioredis';
import { describeRedis, RedisSettings } from '@smsfleet/config';
import { createRedisClient } from './redis-client-options';

/** How long start-up waits for Redis's verdict; past it the app starts and its clients keep trying. */
const CHECK_TIMEOUT_MS = 5_000;

/** Node's codes for a server certificate the client does not accept, and TLS alerts of a refused handshake. */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What a refusal means to the operator, or undefined for a failure that may pass (Redis not up yet). */
export function redisRefusal(error: Error & { code?: string }): string | undefined {
  const { code = '', message } = error;
  if (/^(WRONGPASS|NOAUTH)|invalid username-password pair/.test(message))
    return `refused the login (${message}): check the user and password (REDIS_URL, or REDIS_USERNAME and REDIS_PASSWORD)`;
  if (CERTIFICATE_CODES.has(code) || /certificate|self[- ]signed/i.test(message))
    return `presented a certificate this app does not accept (${message}): check REDIS_TLS_CA_FILE and REDIS_TLS_SERVERNAME`;
  if (code.startsWith('ERR_SSL_') || /SSL routines/.test(message))
    return `did not complete a TLS handshake (${message}): check that the server speaks TLS (rediss:) and REDIS_TLS_CERT_FILE`;
  return undefined;
}

/**
 * Connects to Redis once at start-up, as the apps' clients will. A wrong CA or password would otherwise
 * leave the app live but retrying forever behind a warning per attempt; these never heal by waiting, so
 * the app stops with one line naming Redis. Redis not answering yet is not refused: the clients retry.
 */
export async function assertRedisAccepts(settings: RedisSettings): Promise<void> {
  let client: Redis | undefined;
  let lastError: Error | undefined;
  const verdict = new Promise<void>((resolve) => {
    client = createRedisClient(settings, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      sentinelRetryStrategy: () => null,
      // A check that disconnects at once follows no failover: no subscription to every Sentinel.
      failoverDetector: false,
      connectTimeout: CHECK_TIMEOUT_MS,
      connectionName: 'smsfleet:start-up-check',
    });
    client.on('error', (error: Error) => (lastError = error));
    client
      .connect()
      .then(() => client?.ping())
      .catch((error: Error) => (lastError ??= error))
      .finally(resolve);
  });
  const timer = new Promise<void>((resolve) => setTimeout(resolve, CHECK_TIMEOUT_MS).unref());
  await Promise.race([verdict, timer]);
  client?.disconnect();
  const refusal = lastError && redisRefusal(lastError);
  if (refusal) throw new Error(`Redis ${describeRedis(settings)} ${refusal}`);
}
