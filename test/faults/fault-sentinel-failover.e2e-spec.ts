import { redisEpochKey, redisRunIdOf } from '@smsfleet/contracts';
import { RedisSentinelGroup } from '../harness/redis-sentinel';
import { reportFigure } from '../helpers/figures';
import { FAULT_RUN_MIX, LoadRun } from '../helpers/load-run';
import { waitFor } from '../harness/wait-for';

/**
 * Sentinel failover (issue 23, docs/operations.md#redis-behind-sentinel): the apps find Redis through three
 * Sentinels (REDIS_SENTINELS), two API replicas share the client's requests and two dispatcher nodes the
 * phones. Mid-run the primary is killed -9; the Sentinels promote the replica, which lacks whatever had not
 * reached it. Every app follows the promotion by itself, the scheduler sees the new run_id and rebuilds
 * from PostgreSQL what the replica missed, and `cli check --settled` holds: nothing accepted is lost.
 */
describe('Redis behind Sentinel: the primary killed -9 mid-run, the replica promoted', () => {
  let run: LoadRun & { sentinel: RedisSentinelGroup };

  beforeAll(async () => {
    run = await LoadRun.onSentinel();
    await Promise.all([
      run.system.startApp('api', 'api-b'),
      run.system.startApp('dispatcher', 'dispatcher-b'),
    ]);
    run.apiUrls.push(run.system.url('api-b'));
    const phones = run.fleets.flatMap((fleet) => fleet.phones);
    await Promise.all(
      phones
        .filter((_, index) => index % 2 === 1)
        .map((phone) => phone.moveTo(run.system.url('dispatcher-b'))),
    );
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('every app follows the promotion, the rebuild covers what the replica missed, every invariant holds', async () => {
    const started = Date.now();
    const primaryRunId = redisRunIdOf(await run.system.redis().info('server'));
    const driving = run.drive(run.mix({ keyPrefix: 'sentinel', ...FAULT_RUN_MIX }), 4);
    await waitFor('a third of the requests answered', () => run.count(200) > 180, 60_000);
    const answersBefore = run.count(200);
    await run.sentinel.primary.kill();
    const killedAt = Date.now();
    await run.sentinel.waitForPromotion();
    const promotedAt = Date.now();
    const answered = await driving;

    const invariants = await run.verify(answered, 120_000);
    expect(answersBefore).toBeLessThan(answered.length);
    // The harness's own client (made like the apps') is on the promoted replica now.
    const promotedRunId = redisRunIdOf(await run.system.redis().info('server'));
    expect(promotedRunId).not.toBe(primaryRunId);
    expect(((await run.system.redis().config('GET', 'port')) as string[])[1]).toBe(
      String(run.sentinel.replica.port),
    );
    // The scheduler saw the new primary and took it as a Redis that may have lost data.
    let marker: string | null = null;
    await waitFor(
      'the scheduler noticed the promoted replica',
      async () => {
        marker = await run.system.redis().get(redisEpochKey(run.system.redisPrefix));
        return marker === promotedRunId;
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}: the marker holds ${marker}, the primary is ${promotedRunId} (was ${primaryRunId})`,
      );
    });
    // Both API replicas and both dispatcher nodes (and the others) hold connections to the new primary.
    const clients = String(await run.system.redis().client('LIST'));
    const named = (name: string) =>
      clients.split('\n').filter((line) => line.includes(`name=${name} `)).length;
    expect(named('smsfleet:api:shared')).toBeGreaterThanOrEqual(2);
    expect(named('smsfleet:dispatcher:shared')).toBeGreaterThanOrEqual(2);
    expect(named('smsfleet:scheduler:shared')).toBeGreaterThanOrEqual(1);
    expect(named('smsfleet:status:shared')).toBeGreaterThanOrEqual(1);

    const reconciled = run.system
      .logLines('scheduler')
      .find((line) => line.msg === 'Redis lost data: device queues rebuilt from PostgreSQL');
    reportFigure('fault-sentinel-failover', {
      ...run.figures(invariants),
      failoverMs: promotedAt - killedAt,
      reconciled: { enqueued: reconciled?.enqueued, returnedToOutbox: reconciled?.returnedToOutbox },
      lastFailureAfterPromotionMs: Math.max(0, run.lastFailureAt - promotedAt),
      settledAfterPromotionMs: Date.now() - promotedAt,
      runMs: Date.now() - started,
    });
  }, 300_000);
});
