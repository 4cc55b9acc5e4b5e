import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@smsfleet/config';
import { redisClientOptions } from './redis-client-options';

// The configuration checks the files exist; what is read from them is what the options must carry.
const dir = mkdtempSync(join(tmpdir(), 'smsfleet-redis-options-'));
const [CA, CERT, KEY] = ['ca.pem', 'client.pem', 'client.key'].map((file) => join(dir, file));
const files: Record<string, string> = { [CA]: 'CA', [CERT]: 'CERT', [KEY]: 'KEY' };
for (const path of Object.keys(files)) writeFileSync(path, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const readFile = (path: string) => {
  if (!(path in files)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return Buffer.from(files[path]);
};
const options = (env: Record<string, string>) => redisClientOptions(loadConfig(env).redis, readFile);

describe('redisClientOptions', () => {
  it('connects to the URL by default, as ioredis would read it', () => {
    expect(options({})).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(options({ REDIS_URL: 'rediss://u:p@r.example:6380/4', REDIS_TLS_CA_FILE: CA })).toEqual({
      host: 'r.example',
      port: 6380,
      db: 4,
      username: 'u',
      password: 'p',
      tls: { ca: Buffer.from('CA') },
    });
  });

  it('asks the Sentinels for the master, follows failovers, TLS to Redis and to the Sentinels', () => {
    const sentinel = options({
      REDIS_SENTINELS: 'a:26379,b:26380',
      REDIS_SENTINEL_MASTER: 'main',
      REDIS_DB: '1',
      REDIS_PASSWORD: 'pw',
      REDIS_SENTINEL_USERNAME: 'su',
      REDIS_SENTINEL_PASSWORD: 'spw',
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: CA,
      REDIS_TLS_CERT_FILE: CERT,
      REDIS_TLS_KEY_FILE: KEY,
      REDIS_TLS_SERVERNAME: 'redis.internal',
    });
    const tls = {
      ca: Buffer.from('CA'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
      servername: 'redis.internal',
    };
    expect(sentinel).toEqual({
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26380 },
      ],
      name: 'main',
      db: 1,
      password: 'pw',
      sentinelUsername: 'su',
      sentinelPassword: 'spw',
      tls,
      enableTLSForSentinelMode: true,
      sentinelTLS: tls,
      failoverDetector: true,
      reconnectOnError: expect.any(Function),
    });
    // A demoted primary answers READONLY: reconnect, which asks the Sentinels again.
    const reconnect = sentinel.reconnectOnError as (error: Error) => boolean;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(reconnect(new Error('OOM command not allowed'))).toBe(false);

    const plain = options({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_MASTER: 'main' });
    expect(plain).not.toHaveProperty('tls');
    expect(plain).not.toHaveProperty('sentinelTLS');
    expect(plain).not.toHaveProperty('enableTLSForSentinelMode');
  });

  it('names the variable of a certificate file it cannot read', () => {
    let caught: unknown;
    try {
      // Checked at start-up, but a file may go between that check and a later connection.
      redisClientOptions(
        { target: { kind: 'standalone', host: 'r', port: 6379, db: 0 }, tls: { caFile: '/missing.pem' } },
        readFile,
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toBe(
      "REDIS_TLS_CA_FILE cannot be read (ENOENT: no such file or directory, open '/missing.pem')",
    );
  });
});
