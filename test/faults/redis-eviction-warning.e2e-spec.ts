import { ChildProcess, spawn } from 'node:child_process';
import IORedis from 'ioredis';
import { freePort } from '../harness/free-port';
import { TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const WARNING = /maxmemory-policy is "allkeys-lru": set it to "noeviction"/;

describe('Redis eviction policy check at start-up', () => {
  let redis: ChildProcess | undefined;
  let system: TestSystem | undefined;

  afterAll(async () => {
    await system?.stop();
    if (redis && redis.exitCode === null) {
      const exited = new Promise((resolve) => redis?.once('exit', resolve));
      redis.kill('SIGTERM');
      await exited;
    }
  });

  it('every app logs an error naming the policy when Redis may evict keys, and stays quiet on noeviction', async () => {
    // A Redis of this test's own (the shared one must keep noeviction).
    const port = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'],
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}/0`;
    await waitFor('private redis', async () => {
      const client = new IORedis(url, {
        maxRetriesPerRequest: 1,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    });
    system = await TestSystem.start([], { REDIS_URL: url });
    await Promise.all(
      (['api', 'scheduler', 'dispatcher', 'status'] as const).map((app) => system?.startApp(app)),
    );
    for (const app of ['api', 'scheduler', 'dispatcher', 'status']) {
      const line = await waitFor(`${app} warning`, () =>
        system?.logLines(app).find((entry) => typeof entry.msg === 'string' && WARNING.test(entry.msg)),
      );
      expect(line.level).toBe(50); // pino "error"
    }
    // On the shared Redis (noeviction) the same apps say nothing of the kind.
    await system.stop();
    system = await TestSystem.start(['scheduler']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(system.logLines('scheduler').some((entry) => /maxmemory-policy/.test(String(entry.msg)))).toBe(
      false,
    );
  });
});
