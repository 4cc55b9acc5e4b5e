import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function start(app: string, env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    ['-r', join(ROOT, 'scripts/register-aliases.js'), join(ROOT, `dist/apps/${app}/src/main.js`)],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
}

describe('start-up with a bad configuration', () => {
  it.each(['api', 'scheduler', 'dispatcher', 'status'])(
    '%s stops with one line naming the variable, no stack trace',
    (app) => {
      const result = start(app, { REDIS_URL: 'http://nowhere' });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `smsfleet ${app}: invalid configuration: REDIS_URL must use redis: or rediss: (got "http:")`,
      ]);
      expect(result.stdout).toBe('');
    },
  );

  it.each([
    [
      { NODE_ENV: 'production' },
      /^smsfleet api: invalid configuration: TOKEN_SECRET is required in production/,
    ],
    [
      { TOKEN_SECRET: 'change-me-to-32-random-characters' },
      /^smsfleet api: invalid configuration: TOKEN_SECRET is a placeholder, not a secret/,
    ],
    [{ TOKEN_SECRET: '0123456789abcdef' }, /^smsfleet api: invalid configuration: TOKEN_SECRET is too short/],
  ])('the api refuses a missing, placeholder or weak token secret: %j', (env, line) => {
    const result = start('api', env);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(line)]);
  });

  it.each([
    [
      { REDIS_SENTINELS: '127.0.0.1:26379' },
      'REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS (the monitored master name)',
    ],
    [
      {
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        REDIS_SENTINELS: '127.0.0.1:26379',
        REDIS_SENTINEL_MASTER: 'm',
      },
      'REDIS_SENTINELS and REDIS_URL are both set: set one of them, not both',
    ],
    [
      { REDIS_URL: 'rediss://127.0.0.1:6380/0', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' },
      "REDIS_TLS_CA_FILE cannot be read (ENOENT: no such file or directory, access '/nonexistent/ca.pem')",
    ],
    [
      { DATABASE_URL: 'postgres://127.0.0.1/smsfleet?sslmode=prefer' },
      'DATABASE_URL sslmode must be one of disable, require, verify-ca, verify-full (got "prefer")',
    ],
    [
      {
        DATABASE_URL: 'postgres://127.0.0.1/smsfleet?sslmode=verify-full',
        DATABASE_SSL_CA_FILE: '/nonexistent/ca.pem',
      },
      "DATABASE_SSL_CA_FILE cannot be read (ENOENT: no such file or directory, access '/nonexistent/ca.pem')",
    ],
  ])('Sentinel and TLS settings are checked before anything connects: %j', (env, line) => {
    const result = start('scheduler', env);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([`smsfleet scheduler: invalid configuration: ${line}`]);
  });

  it('the status app delivering webhooks (it opens their sealed secrets) refuses to start without it', () => {
    const result = start('status', { NODE_ENV: 'production' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^smsfleet status: invalid configuration: TOKEN_SECRET is required in production where WEBHOOK_DELIVERY is on/,
      ),
    ]);
  });
});
