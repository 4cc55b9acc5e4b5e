import { loadConfig } from './app-config';
import { ConfigError } from './config-error';

describe('loadConfig', () => {
  it('has defaults for the local machine', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/smsfleet');
    expect(config.redis).toEqual({ target: { kind: 'standalone', host: '127.0.0.1', port: 6379, db: 0 } });
    expect(config.databaseTls).toEqual({});
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 3000,
      trustProxy: false,
      rateLimits: {
        windowSeconds: 60,
        credentialsPerIp: 600,
        failedLoginsPerEmail: 10,
        registrationsPerIp: 60,
      },
      requestTimeoutMs: 60_000,
      bulkBodyLimitBytes: 16 * 1_048_576,
      largeBodiesInFlightBytes: 256 * 1_048_576,
      statementTimeoutMs: 10_000,
      listingsPerAccount: 2,
      listingsInFlight: 8,
      bulksPerAccount: 4,
    });
    expect(config.dispatcher.port).toBe(3001);
    expect(config.admin).toEqual({ user: 'admin', password: undefined, writable: false });
    expect(config.messages.reportTimeoutSeconds).toBe(86_400);
    expect(config.scheduler.expiryIntervalMs).toBe(5_000);
    expect(config.scheduler.hourRollupIntervalMs).toBe(60_000);
    expect(config.scheduler.poolMoveIntervalMs).toBe(1_000);
    expect(config.scheduler.poolOfflineGraceSeconds).toBe(60);
  });

  it.each([
    [{ API_PORT: 'abc' }, 'API_PORT', /whole number/],
    [{ RATE_LIMIT_FAILED_LOGINS_PER_EMAIL: '0' }, 'RATE_LIMIT_FAILED_LOGINS_PER_EMAIL', /between/],
    [{ API_PORT: '70000' }, 'API_PORT', /between 0 and 65535/],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', /must be a URL/],
    [{ REDIS_URL: 'http://127.0.0.1' }, 'REDIS_URL', /must use redis: or rediss:/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ REDIS_PREFIX: 'a:b' }, 'REDIS_PREFIX', /may not contain/],
    [{ TOKEN_SECRET: 'short-0123456789' }, 'TOKEN_SECRET', /at least 32/],
    [{ TOKEN_SECRET: 'change-me-to-32-random-characters' }, 'TOKEN_SECRET', /placeholder/],
    [{ TOKEN_SECRET_PREVIOUS: 'a'.repeat(40) + ',change-me' }, 'TOKEN_SECRET_PREVIOUS', /placeholder/],
    [
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://smsfleet:change-me@db:5432/smsfleet' },
      'DATABASE_URL',
      /placeholder password/,
    ],
    [{ NODE_ENV: 'production', REDIS_URL: 'redis://:smsfleet@redis:6379/0' }, 'REDIS_URL', /placeholder/],
    [{ ADMIN_PASSWORD: 'change-me-please' }, 'ADMIN_PASSWORD', /placeholder/],
    [{ API_TRUST_PROXY: 'everyone' }, 'API_TRUST_PROXY', /number of proxies .* \(got "everyone"\)/],
    [{ API_TRUST_PROXY: '10.0.0.0/33' }, 'API_TRUST_PROXY', /got "10.0.0.0\/33"/],
    [{ STORAGE_DRIVER: 'ftp' }, 'STORAGE_DRIVER', /one of local, s3/],
    [{ STORAGE_DRIVER: 's3' }, 'S3_BUCKET', /required when STORAGE_DRIVER is s3/],
    [{ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'nope' }, 'S3_ENDPOINT', /must be a URL/],
    [{ UPLOAD_MAX_BYTES: '10' }, 'UPLOAD_MAX_BYTES', /between/],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL', /must use http: or https:/],
    [{ ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD', /at least 12/],
    [{ MESSAGE_REPORT_TIMEOUT_SECONDS: '5' }, 'MESSAGE_REPORT_TIMEOUT_SECONDS', /between 60 and/],
    [{ SCHEDULER_EXPIRY_INTERVAL_MS: 'often' }, 'SCHEDULER_EXPIRY_INTERVAL_MS', /whole number/],
    [{ SCHEDULER_HOUR_ROLLUP_INTERVAL_MS: '10' }, 'SCHEDULER_HOUR_ROLLUP_INTERVAL_MS', /between/],
    [{ POOL_MOVE_INTERVAL_MS: '10' }, 'POOL_MOVE_INTERVAL_MS', /between/],
    [{ POOL_OFFLINE_GRACE_SECONDS: '0' }, 'POOL_OFFLINE_GRACE_SECONDS', /between/],
  ])('rejects %j naming %s', (env, variable, problem) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(problem);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    // The older flag: one proxy in front, never every hop.
    ['true', 1],
    ['10.0.0.0/8, 192.168.1.7,fd00::/8,loopback', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'loopback']],
  ])('reads API_TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig({ API_TRUST_PROXY: value }).api.trustProxy).toEqual(expected);
  });

  it('keeps the Redis database number of the URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/5' }).redis.target).toMatchObject({ db: 5 });
  });

  it('serves uploads from the API by default and builds S3 public URLs', () => {
    expect(loadConfig({}).uploads).toEqual({
      maxBytes: 5 * 1_048_576,
      quotaBytesPerAccount: 100 * 1_048_576,
      retentionDays: 30,
      sweepIntervalMs: 3_600_000,
      driver: 'local',
      localDir: '.smsfleet/uploads',
      publicUrl: 'http://127.0.0.1:3000',
    });
    const s3 = loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'pics', S3_ENDPOINT: 'http://127.0.0.1:9000/' })
      .uploads.s3;
    expect(s3).toMatchObject({
      bucket: 'pics',
      forcePathStyle: true,
      publicUrl: 'http://127.0.0.1:9000/pics',
    });
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'pics' }).uploads.s3?.publicUrl).toBe(
      'https://pics.s3.us-east-1.amazonaws.com',
    );
  });
});
