import { Queue } from 'bullmq';
import { waitingJobs } from '../helpers/queued-jobs';
import { seedDevices } from '../helpers/seed';
import { TestSystem } from '../harness/test-system';

/**
 * The rebuild walks pending messages in windows of ids (a cursor with `ORDER BY id LIMIT` made PostgreSQL
 * read and sort every pending row above it, once per batch). Pending messages separated by long runs of
 * final ones, and a backlog spanning many windows, must all be found, and nothing else.
 */
describe('reconcile walks every pending message, whatever lies between them', () => {
  let system: TestSystem;
  let deviceIds: number[];

  beforeAll(async () => {
    system = await TestSystem.start([]);
    const seeded = await seedDevices(system, 'walk@example.com', 3);
    const userId = seeded.userId;
    deviceIds = seeded.deviceIds;
    // 5 pending; 25,000 delivered; 60,000 of which every tenth is pending (several windows of 20,000 ids);
    // 30,000 delivered; 5 pending; 10 expired.
    const insert = (count: number, status: string, validFor = '1 day') =>
      system.query(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, status, time_to_send, valid_until)
         SELECT $1, ($2::int[])[1 + n % 3], '+4915700000000', '+4915700000000', 'walk', 0, ${status}, now(),
                now() + $3::interval
           FROM generate_series(1, $4) AS n`,
        [userId, deviceIds, validFor, count],
      );
    await insert(5, '1');
    await insert(25_000, '7');
    await insert(60_000, 'CASE WHEN n % 10 = 0 THEN 1 ELSE 7 END');
    await insert(30_000, '7');
    await insert(5, '1');
    await insert(10, '1', '-1 minute');
  });

  afterAll(async () => {
    await system?.stop();
  });

  const queuedJobs = async () => {
    let jobs = 0;
    for (const deviceId of deviceIds) jobs += await waitingJobs(system, deviceId);
    return jobs;
  };

  it('queues each valid pending message once, and a second run finds nothing missing', async () => {
    const first = JSON.parse(system.cli('reconcile').trim().split('\n').at(-1) as string) as {
      enqueued: number;
    };
    expect(first.enqueued).toBe(6_010);
    expect(await queuedJobs()).toBe(6_010);
    const second = JSON.parse(system.cli('reconcile').trim().split('\n').at(-1) as string) as {
      enqueued: number;
      orphanJobsRemoved: number;
    };
    expect(second).toMatchObject({ enqueued: 0, orphanJobsRemoved: 0 });
    expect(await queuedJobs()).toBe(6_010);
  });

  it('tells healthy jobs (waiting, delayed, active) from missing and half-lost ones', async () => {
    const {
      userId,
      deviceIds: [deviceId],
    } = await seedDevices(system, 'states@example.com', 1);
    // Six pending messages of one phone; the last one is due in ten minutes (a delayed job).
    const ids = (
      await system.query<{ id: string }>(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until)
         SELECT $1, $2, '+4915700000000', '+4915700000000', 'state ' || n, 0,
                now() + CASE WHEN n = 6 THEN interval '10 minutes' ELSE interval '0' END, now() + interval '1 day'
           FROM generate_series(1, 6) AS n ORDER BY n RETURNING id`,
        [userId, deviceId],
      )
    ).map((row) => `m${row.id}`);
    const reconcile = () =>
      JSON.parse(system.cli('reconcile').trim().split('\n').at(-1) as string) as Record<string, number>;
    const redis = system.redis();
    const key = (suffix: string) => `${system.redisPrefix}:device-${deviceId}:${suffix}`;
    const queue = new Queue(`device-${deviceId}`, {
      connection: redis,
      prefix: system.redisPrefix,
      skipVersionCheck: true,
    });
    const states = () => Promise.all(ids.map((jobId) => queue.getJobState(jobId)));
    reconcile();
    expect(await states()).toEqual([...Array<string>(5).fill('prioritized'), 'delayed']);

    // Active, as a phone's fetch leaves it; a hash without its data, as a move into deleted keys leaves it;
    // a whole job in no list; a job gone altogether.
    const [, active, noData, inNoList, gone] = ids;
    await redis.zrem(key('prioritized'), active, inNoList, gone);
    await redis.lpush(key('active'), active);
    await redis.hdel(key(noData), 'data', 'name', 'opts');
    await redis.del(key(gone));

    expect(reconcile()).toMatchObject({ enqueued: 3, brokenJobsRemoved: 2, orphanJobsRemoved: 0 });
    expect(await states()).toEqual([
      'prioritized',
      'active',
      'prioritized',
      'prioritized',
      'prioritized',
      'delayed',
    ]);
    await queue.close();
    for (const jobId of [noData, inNoList, gone])
      expect(await redis.hget(key(jobId), 'data')).toContain('state');
  });
});
