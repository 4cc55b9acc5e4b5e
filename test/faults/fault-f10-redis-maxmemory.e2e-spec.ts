import IORedis from 'ioredis';
import { RedisServer } from '../harness/redis-server';
import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FULL_MS = 4_000;

/**
 * F10 (docs/reliability.md): the (private) Redis reaches its maxmemory (noeviction, as BullMQ requires) in
 * the middle of intake: its limit is lowered to just above what it holds. Adds fail cleanly — 503, or
 * accepted into PostgreSQL for the outbox sweep — never a 500; once memory is freed (the limit lifted),
 * everything drains and every invariant holds.
 */
describe('F10: Redis full (maxmemory, noeviction) during intake', () => {
  let redis: RedisServer;
  let admin: IORedis;
  let run: LoadRun;

  beforeAll(async () => {
    redis = await RedisServer.start({ maxMemory: '256mb' });
    admin = new IORedis(redis.url);
    run = await LoadRun.start({ infrastructure: { redisUrl: redis.url } });
  }, 120_000);

  afterAll(async () => {
    admin?.disconnect();
    await run?.stop();
    await redis?.stop();
  });

  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);

  it('adds fail cleanly (503 or stored for the sweep, never 500) while full; all drains afterwards', async () => {
    const started = Date.now();
    const driving = run.drive(run.mix({ keyPrefix: 'f10', ...FAULT_RUN_MIX }), 4);
    await waitFor('a third of the requests answered', () => run.count(200) > 180, 60_000);
    // Only this test's private instance is reconfigured, never the shared Redis.
    await admin.config('SET', 'maxmemory', String((await usedMemory()) + 64 * 1024));
    const filledAt = Date.now();
    await waitFor(
      'Redis refusing writes',
      async () =>
        /oom|maxmemory/i.test(String(await admin.set('f10-probe', 'x'.repeat(100_000)).catch((e) => e))),
      10_000,
      50,
    );
    await sleep(FULL_MS);
    const withheld = await run.system.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE enqueued_at IS NULL AND status = 1`,
    );
    await admin.config('SET', 'maxmemory', '0');
    const freedAt = Date.now();
    const answered = await driving;

    const invariants = await run.verify(answered);
    reportFigure('fault-f10', {
      ...run.figures(invariants),
      fullMs: freedAt - filledAt,
      storedForTheSweepWhileFull: withheld[0].n,
      lastFailureAfterFreedMs: Math.max(0, run.lastFailureAt - freedAt),
      runMs: Date.now() - started,
    });
  }, 300_000);
});
