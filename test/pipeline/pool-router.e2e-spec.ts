import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '@smsfleet/config';
import { DeviceQueue, poolMovingKey, quotaWindows } from '@smsfleet/contracts';
import {
  DevicePresence,
  DeviceQueues,
  JOB_TOMBSTONE_MS,
  PoolChangedSignal,
  PoolRouter,
  RedisConnections,
  SimQuotaCounters,
  WaitingJobRemover,
} from '@smsfleet/queueing';
import { TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';
import { seedDevices } from '../helpers/seed';

/**
 * The pool router (ADR 2221 §3, §5) against real PostgreSQL and Redis: the members' rules and their live
 * state in one script (presence, last seen, queue load, quota counters), the 1 s member cache dropped on
 * pool-changed, and the sweep's re-route that keeps a row whose job is in its queue and avoids a queue
 * holding the message's tombstone (none left: not now). The choice itself: pool-choice.spec.ts.
 */
describe('pool router: state from PostgreSQL and Redis', () => {
  let system: TestSystem;
  let db: DataSource;
  let config: AppConfig;
  let redis: RedisConnections;
  let queues: DeviceQueues;
  let router: PoolRouter;
  let presence: DevicePresence;
  let signal: PoolChangedSignal;
  let userId: number;
  let devices: number[];
  let poolId: number;

  beforeAll(async () => {
    system = await TestSystem.start([]);
    ({ userId, deviceIds: devices } = await seedDevices(system, 'router@example.com', 5));
    db = new DataSource({ type: 'postgres', url: system.databaseUrl, poolSize: 2 });
    await db.initialize();
    config = loadConfig(system.env() as Record<string, string>);
    redis = new RedisConnections(config);
    queues = new DeviceQueues(redis, config);
    presence = new DevicePresence(redis, config);
    signal = new PoolChangedSignal(redis, config);
    router = new PoolRouter(db, redis, new SimQuotaCounters(redis, config), signal, config);
    [{ id: poolId }] = await system.query<{ id: number }>(
      `INSERT INTO pools (user_id, name) VALUES ($1, 'p') RETURNING id`,
      [userId],
    );
    await system.query(
      `INSERT INTO pool_devices (device_id, pool_id, user_id) SELECT unnest($1::int[]), $2, $3`,
      [devices.slice(0, 4), poolId, userId],
    );
  });

  afterAll(async () => {
    await queues?.onApplicationShutdown();
    await redis?.onApplicationShutdown();
    await db?.destroy();
    await system?.stop();
  });

  const job = (messageId: number, delay = 0) => ({
    name: 'sms' as const,
    data: {
      messageId,
      sendto: '+4915700000',
      body: 'x',
      sim: 0 as const,
      urgent: false,
      validUntil: Date.now() + 3_600_000,
    },
    opts: { jobId: DeviceQueue.jobId(messageId), delay, priority: 2 },
  });

  it('reads online, offline since, load and full quota slots of every member in one call', async () => {
    const [a, b, c, d] = devices;
    await presence.markOnline([a, b, c], 'node-1');
    await presence.markOffline(d, 'node-1', 1_700_000_000_000);
    // a: 2 waiting + 1 delayed; b: nothing; c: slot 1 full this hour.
    await queues.queue(a).addBulk([job(1), job(2), job(3, 60_000)]);
    await system.query(`UPDATE devices SET sim_quotas = '{"1": {"hour": 3, "day": 100}}' WHERE id = $1`, [c]);
    await system.query(`UPDATE devices SET send_slots = '{0,1}' WHERE id = $1`, [b]);
    const hour = quotaWindows(Date.now()).hour.id;
    await redis.shared.set(`${config.redisPrefix}:quota:${c}:1:${hour}`, '3');
    // The key the script reads is the one BullMQ writes.
    expect(queues.queue(a).toKey('wait')).toBe(`${config.redisPrefix}:${DeviceQueue.name(a)}:wait`);

    const state = await router.readState(poolId);
    expect(
      state.map(({ deviceId, online, offlineSinceMs, load, fullSlots }) => ({
        deviceId,
        online,
        offlineSinceMs,
        load,
        fullSlots,
      })),
    ).toEqual([
      { deviceId: a, online: true, offlineSinceMs: null, load: 3, fullSlots: [] },
      { deviceId: b, online: true, offlineSinceMs: null, load: 0, fullSlots: [] },
      { deviceId: c, online: true, offlineSinceMs: null, load: 0, fullSlots: [1] },
      { deviceId: d, online: false, offlineSinceMs: 1_700_000_000_000, load: 0, fullSlots: [] },
    ]);
    expect(state[1].sendSlots).toEqual([0, 1]);
    expect(state[2].quotaUse?.[1]).toEqual([
      { limit: 3, used: 3, endsAt: expect.any(Number) },
      { limit: 100, used: 0, endsAt: expect.any(Number) },
    ]);
  });

  it('routes a batch to online members with room, least loaded, honouring the slot and exclusions', async () => {
    const [a, b, c, d] = devices;
    router.forgetMembers();
    const picks = await router.route(
      poolId,
      Array.from({ length: 6 }, () => ({ sim: 0, urgent: false })),
    );
    // b and c start at 0, a at 3: six spread b,c,b,c then one each of a… never the offline d.
    expect(picks).not.toContain(d);
    expect(picks.filter((p) => p === b).length + picks.filter((p) => p === c).length).toBeGreaterThanOrEqual(
      5,
    );
    // Slot 1: c is full there; b (load 0) and a (load 3) can send it.
    const slot1 = await router.route(
      poolId,
      Array.from({ length: 4 }, () => ({ sim: 1, urgent: false })),
    );
    expect(slot1).not.toContain(c);
    expect(slot1.every((p) => p === a || p === b)).toBe(true);
    expect(slot1.slice(0, 3)).toEqual([b, b, b]);
    expect(
      await router.route(poolId, [{ sim: 0, urgent: false }], { excluded: new Set([a, b, c, d]) }),
    ).toEqual([null]);
    // Slot 2: only a and c (b sends 0-1); c ok on slot 2 (no quota there).
    expect(await router.route(poolId, [{ sim: 2, urgent: false }], { excluded: new Set([a]) })).toEqual([c]);
  });

  it('sees a member change within its cache, at once when pool-changed is published', async () => {
    const e = devices[4];
    await presence.markOnline([e], 'node-1');
    router.forgetMembers();
    await router.readState(poolId);
    await system.query(`INSERT INTO pool_devices (device_id, pool_id, user_id) VALUES ($1, $2, $3)`, [
      e,
      poolId,
      userId,
    ]);
    expect((await router.readState(poolId)).map((s) => s.deviceId)).not.toContain(e);
    await signal.publish({ poolId });
    // The signal arrives on another connection: a few milliseconds.
    await waitFor(
      'the new member seen before the 1 s cache expires',
      async () => (await router.readState(poolId)).some((s) => s.deviceId === e),
      900,
      20,
    );
    await system.query(`DELETE FROM pool_devices WHERE device_id = $1`, [e]);
    await signal.publish({ deviceId: e });
  });

  it('re-routes sweep rows: a job in its queue keeps its device; a tombstoned queue is never chosen', async () => {
    const [a, b, c] = devices;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the cache of the test before
    // Message 50 has its job in b's queue (the API's add landed, its mark not): it stays on b.
    await queues.queue(b).add('sms', job(50).data, job(50).opts);
    // Message 51: a move from b is in progress (tombstone in b's queue); its row names a.
    const remover = new WaitingJobRemover(redis, queues);
    await queues.queue(b).add('sms', job(51).data, job(51).opts);
    expect(await remover.removeIfWaiting(b, 51, JOB_TOMBSTONE_MS)).toBe('removed');
    await redis.shared.hset(poolMovingKey(config.redisPrefix), '51', `${b}:${Date.now()}`);
    // Message 52: its row names c, whose queue holds a tombstone of it: it goes elsewhere.
    expect(await remover.removeIfWaiting(c, 52, JOB_TOMBSTONE_MS)).toBe('absent');
    const rows = [
      { messageId: 50, deviceId: b, sim: 0, urgent: false },
      { messageId: 51, deviceId: a, sim: 0, urgent: false },
      { messageId: 52, deviceId: c, sim: 0, urgent: false },
    ];
    // b is by far the least loaded now: only a fence keeps a row off it.
    await queues.queue(a).addBulk(Array.from({ length: 20 }, (_, i) => job(100 + i)));
    await queues.queue(c).addBulk(Array.from({ length: 20 }, (_, i) => job(200 + i)));
    for (let round = 0; round < 5; round++) {
      const [t50, t51, t52] = await router.reroute(poolId, rows);
      expect(t50).toBe(b);
      expect(t51).not.toBe(b);
      expect(t52).not.toBe(c);
    }

    // Fenced off from the only member it could go to: not now (the sweep leaves it in the outbox).
    const e = devices[4];
    const [{ id: lonePool }] = await system.query<{ id: number }>(
      `INSERT INTO pools (user_id, name) VALUES ($1, 'lone') RETURNING id`,
      [userId],
    );
    await system.query(`INSERT INTO pool_devices (device_id, pool_id, user_id) VALUES ($1, $2, $3)`, [
      e,
      lonePool,
      userId,
    ]);
    expect(await remover.removeIfWaiting(e, 60, JOB_TOMBSTONE_MS)).toBe('absent');
    expect(
      await router.reroute(lonePool, [
        { messageId: 60, deviceId: e, sim: 0, urgent: false },
        { messageId: 61, deviceId: e, sim: 0, urgent: false },
      ]),
    ).toEqual([null, e]);
  });
});
