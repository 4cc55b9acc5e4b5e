import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';
import { ConfigError } from './config-error';
import { describeRedis } from './redis-settings';

// Certificate files must exist at start-up: real (empty) ones in a directory of the test's own.
const dir = mkdtempSync(join(tmpdir(), 'smsfleet-redis-settings-'));
const [CA, CERT, KEY] = ['ca.pem', 'client.pem', 'client.key'].map((file) => {
  writeFileSync(join(dir, file), file);
  return join(dir, file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const redis = (env: Record<string, string>) => loadConfig(env).redis;

function problem(env: Record<string, string>): { variable: string; message: string } {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message };
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('Redis settings', () => {
  it('reads one server from REDIS_URL: host, port, database, credentials, rediss: for TLS', () => {
    expect(redis({ REDIS_URL: 'redis://cache.internal' })).toEqual({
      target: { kind: 'standalone', host: 'cache.internal', port: 6379, db: 0 },
    });
    expect(redis({ REDIS_URL: 'rediss://app:p%40ss@[::1]:6380/3' })).toEqual({
      target: { kind: 'standalone', host: '::1', port: 6380, db: 3 },
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(
      redis({
        REDIS_URL: 'rediss://redis.example.net:6380/0',
        REDIS_PASSWORD: 'from-a-secret',
        REDIS_TLS_CA_FILE: CA,
        REDIS_TLS_SERVERNAME: 'redis.example.net',
      }),
    ).toEqual({
      target: { kind: 'standalone', host: 'redis.example.net', port: 6380, db: 0 },
      password: 'from-a-secret',
      tls: { caFile: CA, servername: 'redis.example.net' },
    });
  });

  it('reads Sentinel: the list, the master name, the database, both credentials, TLS to each', () => {
    expect(
      redis({
        REDIS_SENTINELS: 'sentinel-0:26379, 10.0.0.7:26380,[fd00::1]:26379',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_DB: '2',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'redis-secret',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: CA,
        REDIS_TLS_CERT_FILE: CERT,
        REDIS_TLS_KEY_FILE: KEY,
      }),
    ).toEqual({
      target: {
        kind: 'sentinel',
        sentinels: [
          { host: 'sentinel-0', port: 26379 },
          { host: '10.0.0.7', port: 26380 },
          { host: 'fd00::1', port: 26379 },
        ],
        masterName: 'mymaster',
        db: 2,
        sentinelPassword: 'sentinel-secret',
        sentinelTls: true,
      },
      username: 'app',
      password: 'redis-secret',
      tls: { caFile: CA, certFile: CERT, keyFile: KEY },
    });
    // Sentinels in plain text in front of a TLS Redis (or the other way round) are said explicitly.
    const plainSentinels = redis({
      REDIS_SENTINELS: 's:26379',
      REDIS_SENTINEL_MASTER: 'm',
      REDIS_TLS: 'yes',
      REDIS_SENTINEL_TLS: 'no',
    });
    expect(plainSentinels.target).toMatchObject({ sentinelTls: false, db: 0 });
    expect(plainSentinels.tls).toEqual({});
  });

  it.each([
    [
      { REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' },
      'REDIS_SENTINELS',
      /both set/,
    ],
    [{ REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_MASTER', /required with REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: 's', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS', /host:port pairs .*got "s"/],
    [{ REDIS_SENTINELS: 's:0', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS', /got "s:0"/],
    [{ REDIS_SENTINELS: 'redis://s:26379', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS', /host:port/],
    [{ REDIS_SENTINELS: ' , ', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS', /lists no Sentinel/],
    [{ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm', REDIS_DB: 'two' }, 'REDIS_DB', /database number/],
    [{ REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINEL_MASTER', /only read with REDIS_SENTINELS/],
    [{ REDIS_DB: '3' }, 'REDIS_DB', /put the database number in REDIS_URL/],
    [{ REDIS_TLS: 'true' }, 'REDIS_TLS', /use a rediss: URL/],
    [{ REDIS_TLS_CA_FILE: '/ca.pem' }, 'REDIS_TLS_CA_FILE', /TLS is off: use a rediss: URL$/],
    [
      { REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm', REDIS_TLS_CA_FILE: '/ca.pem' },
      'REDIS_TLS_CA_FILE',
      /REDIS_TLS=true/,
    ],
    [
      { REDIS_URL: 'rediss://r', REDIS_TLS_CERT_FILE: '/c.pem' },
      'REDIS_TLS_KEY_FILE',
      /together with REDIS_TLS_CERT_FILE/,
    ],
    [{ REDIS_URL: 'redis://:a@r', REDIS_PASSWORD: 'b' }, 'REDIS_PASSWORD', /both set/],
    [{ REDIS_URL: 'redis://u@r', REDIS_USERNAME: 'v' }, 'REDIS_USERNAME', /both set/],
    [{ REDIS_URL: 'redis://r/x' }, 'REDIS_URL', /database number/],
    [{ REDIS_URL: 'redis://r/0?family=6' }, 'REDIS_URL', /no query options/],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS', /true or false/],
    [
      { REDIS_URL: 'rediss://r', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' },
      'REDIS_TLS_CA_FILE',
      /^REDIS_TLS_CA_FILE cannot be read \(ENOENT: no such file or directory/,
    ],
    [{ NODE_ENV: 'production', REDIS_PASSWORD: 'change-me' }, 'REDIS_PASSWORD', /placeholder/],
    [
      {
        NODE_ENV: 'production',
        REDIS_SENTINELS: 's:1',
        REDIS_SENTINEL_MASTER: 'm',
        REDIS_SENTINEL_PASSWORD: 'redis',
      },
      'REDIS_SENTINEL_PASSWORD',
      /placeholder/,
    ],
  ])('refuses %j naming %s', (env, variable, message) => {
    const found = problem(env);
    expect(found.variable).toBe(variable);
    expect(found.message).toMatch(message);
  });

  it('describes the target for logs without its passwords', () => {
    expect(describeRedis(redis({ REDIS_URL: 'rediss://:hunter22@r:6380/1' }))).toBe('rediss://r:6380/1');
    expect(
      describeRedis(
        redis({
          REDIS_SENTINELS: 'a:26379,b:26379',
          REDIS_SENTINEL_MASTER: 'main',
          REDIS_PASSWORD: 'hunter22',
          REDIS_SENTINEL_PASSWORD: 'hunter23',
        }),
      ),
    ).toBe('redis master "main" via Sentinel a:26379,b:26379, db 0');
  });
});
