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
