import { waitingJobs } from './helpers/queued-jobs';
import { seedDevices } from './helpers/seed';
import { TestSystem } from './helpers/test-system';

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
    // 5 pending, 7,000 delivered, 6,000 pending (several windows), 9,000 delivered, 5 pending, 10 expired.
    const insert = (count: number, status: number, validFor = '1 day') =>
      system.query(
        `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, status, time_to_send, valid_until)
         SELECT $1, ($2::int[])[1 + n % 3], '+4915700000000', '+4915700000000', 'walk', 0, $3, now(), now() + $4::interval
           FROM generate_series(1, $5) AS n`,
        [userId, deviceIds, status, validFor, count],
      );
    await insert(5, 1);
    await insert(7_000, 7);
    await insert(6_000, 1);
    await insert(9_000, 7);
    await insert(5, 1);
    await insert(10, 1, '-1 minute');
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
});
