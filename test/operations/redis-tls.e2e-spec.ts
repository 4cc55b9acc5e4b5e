import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MessageStatus } from '@smsfleet/contracts';
import { RedisServer } from '../harness/redis-server';
import { ALIASES, REPO_ROOT } from '../harness/repo-root';
import { LoadRun } from '../helpers/load-run';
import { makeTestCertificates, TestCertificates } from '../helpers/test-certificates';

const USER = { name: 'smsfleet', password: 'tls-test-3f9a1c' };

/**
 * Redis as a managed service offers it (docs/operations.md#redis-and-postgresql-over-tls): TLS only, with a
 * certificate of a private CA, and an ACL user (the default user off). Every app, the CLI and the harness
 * reach it by `rediss://user:pass@127.0.0.1:port` with REDIS_TLS_CA_FILE; a wrong CA or password stops an
 * app at start-up with one line naming Redis, instead of leaving it live and retrying forever.
 */
describe('Redis over TLS with a password: rediss://, REDIS_TLS_CA_FILE', () => {
  let certificates: TestCertificates;
  let run: LoadRun;

  beforeAll(async () => {
    certificates = makeTestCertificates('smsfleet-redis-tls-');
    const redis = await RedisServer.start({
      tls: {
        certFile: certificates.serverCertFile,
        keyFile: certificates.serverKeyFile,
        caFile: certificates.caFile,
      },
      user: USER,
    });
    try {
      run = await LoadRun.start({
        infrastructure: { redisUrl: redis.url, redisEnv: redis.env },
        env: { LOG_LEVEL: 'warn' },
        tenants: 1,
        phonesPerTenant: 2,
        behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 },
      });
    } catch (error) {
      await redis.stop();
      throw error;
    }
    run.redis = redis;
  }, 90_000);

  afterAll(async () => {
    await run?.stop();
    certificates?.remove();
  });

  it('messages go from the API to a phone and are delivered; cli check --settled holds', async () => {
    const answered = await run.drive(
      run.mix({ keyPrefix: 'tls', bulks: 1, bulkSize: 10, multis: 1, multiSize: 3, singles: 5 }),
      2,
    );
    expect(answered.flatMap((a) => a.ids)).toHaveLength(18);
    await run.verify(answered, 30_000);
    const rows = await run.system.query<{ status: number; n: number }>(
      'SELECT status, count(*)::int AS n FROM messages GROUP BY status',
    );
    expect(rows).toEqual([{ status: MessageStatus.Delivered, n: 18 }]);
    // The server has no plain port: every app's connections are TLS, logged in as the ACL user.
    const clients = String(await run.system.redis().client('LIST')).split('\n');
    for (const app of ['api', 'dispatcher', 'scheduler', 'status']) {
      const shared = clients.find((line) => line.includes(`name=smsfleet:${app}:shared `));
      expect(shared).toContain(`user=${USER.name} `);
    }
  }, 60_000);

  /** Starts an app as production does, with the system's environment and `env` over it. */
  function start(app: string, env: Record<string, string>) {
    return spawnSync(process.execPath, ['-r', ALIASES, join(REPO_ROOT, `dist/apps/${app}/src/main.js`)], {
      cwd: REPO_ROOT,
      env: { ...run.system.env(), ...env, SCHEDULER_PORT: '0', API_PORT: '0' },
      encoding: 'utf8',
      // A hang (retrying forever) fails here: the refusal takes well under a second.
      timeout: 20_000,
    });
  }

  const where = () => `Redis rediss://127.0.0.1:${run.redis?.port}/0`;

  it.each(['scheduler', 'api'])('%s with a CA that did not sign the server: one line naming Redis', (app) => {
    const result = start(app, { REDIS_TLS_CA_FILE: certificates.otherCaFile });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `smsfleet ${app}: could not start: ${where()} presented a certificate this app does not accept ` +
        '(self-signed certificate in certificate chain): check REDIS_TLS_CA_FILE and REDIS_TLS_SERVERNAME',
    ]);
  });

  it('a certificate naming another host is refused the same way (no REDIS_TLS_SERVERNAME)', () => {
    const result = start('scheduler', { REDIS_TLS_SERVERNAME: '' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^smsfleet scheduler: could not start: Redis rediss:\/\/127\.0\.0\.1:\d+\/0 presented a certificate this app does not accept \(Hostname\/IP does not match/,
      ),
    ]);
  });

  it.each([
    [
      'a wrong password',
      `rediss://${USER.name}:bad-pass-77@127.0.0.1`,
      'WRONGPASS invalid username-password pair',
    ],
    ['no login', 'rediss://127.0.0.1', 'NOAUTH Authentication required.'],
  ])('%s: one line naming Redis', (_, urlStart, reply) => {
    const result = start('scheduler', { REDIS_URL: `${urlStart}:${run.redis?.port}/0` });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(`smsfleet scheduler: could not start: ${where()} refused the login (${reply}`),
    ]);
    expect(result.stderr).toContain(
      'check the user and password (REDIS_URL, or REDIS_USERNAME and REDIS_PASSWORD)',
    );
    expect(result.stderr).not.toContain('bad-pass-77');
  });
});
