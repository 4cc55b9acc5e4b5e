import { Queue } from 'bullmq';
import { loadConfig } from '@smsfleet/config';
import { DeviceQueue, JobPriority, poolMovingKey, SendSmsJob } from '@smsfleet/contracts';
import { DeviceQueues, RedisConnections, WaitingJobRemover } from '@smsfleet/queueing';
import { fleetFor, SILENT_ON_SILENT } from '../helpers/pools';
import { startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/**
 * What the pool mover relies on in Redis (ADR 2221): a pool message's job says which phone it was emitted
 * to (`em`, §6) before that phone can have it, on both phone transports; the move script (§4) removes only
 * what no phone was sent.
 */
describe('pool jobs in Redis: emission marks', () => {
  let system: TestSystem;
  let account: Account;
  const queues = new Map<number, Queue>();

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'dispatcher', 'status']);
    account = system.createAccount();
  });

  afterAll(async () => {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
    await system?.stop();
  });

  function queueOf(deviceId: number): Queue {
    let queue = queues.get(deviceId);
    if (!queue) {
      queue = new Queue(DeviceQueue.name(deviceId), {
        connection: system.redis(),
        prefix: system.redisPrefix,
        skipVersionCheck: true,
      });
      queues.set(deviceId, queue);
    }
    return queue;
  }

  /**
   * A stored message and its job, as routing through pool 7 would leave them (null: pinned) (the row's device is the
   * chosen phone; intake by pool is another change): no work signal, the session's idle poll fetches it.
   */
  async function addPoolJob(deviceId: number, body: string, poolId: number | null = 7): Promise<number> {
    const [row] = await system.query<{ id: string }>(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until, enqueued_at)
       SELECT user_id, id, '+4915700000001', '+4915700000001', $2, 0, now(), now() + interval '1 hour', now()
         FROM devices WHERE id = $1 RETURNING id`,
      [deviceId, body],
    );
    const messageId = Number(row.id);
    const data: SendSmsJob = {
      messageId,
      sendto: '+4915700000001',
      body,
      sim: 0,
      urgent: false,
      validUntil: Date.now() + 3_600_000,
      ...(poolId === null ? {} : { poolId }),
    };
    await queueOf(deviceId).add('sms', data, {
      jobId: DeviceQueue.jobId(messageId),
      priority: JobPriority.normal,
    });
    return messageId;
  }

  async function jobHash(deviceId: number, messageId: number): Promise<Record<string, string>> {
    return system.redis().hgetall(`${system.redisPrefix}:device-${deviceId}:${DeviceQueue.jobId(messageId)}`);
  }

  async function changeSettings(deviceId: number, settings: Record<string, string>): Promise<void> {
    const response = await fetch(`${system.apiUrl}/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    expect(response.status).toBe(200);
  }

  it('marks a pool message emitted to a socket phone, folded with its quota; it keeps the mark unacknowledged and back in wait', async () => {
    // The phone crashes on "silent" messages: never acked, never sent.
    const phones = fleetFor(system, account, SILENT_ON_SILENT);
    const [device] = await phones.provision(1);
    await changeSettings(device.deviceId, { simquotas: 'all 100/day' });
    await phones.connectAll();
    try {
      const silent = await addPoolJob(device.deviceId, 'silent');
      const acked = await addPoolJob(device.deviceId, 'acked');
      const pinned = await addPoolJob(device.deviceId, 'pinned', null);
      await waitFor('three messages at the phone', () => phones.ledger.received.length >= 3, 10_000);
      const queue = queueOf(device.deviceId);
      expect(await queue.getJobState(DeviceQueue.jobId(silent))).toBe('active');
      const silentHash = await jobHash(device.deviceId, silent);
      expect(silentHash.em).toBe(String(device.deviceId));
      // One write carried both: the counters it took and the mark.
      expect((JSON.parse(silentHash.data) as SendSmsJob).quotaKeys).toHaveLength(1);
      await waitFor(
        'the acked one completed',
        async () => (await queue.getJobState(DeviceQueue.jobId(acked))) === 'completed',
      );
      expect((await jobHash(device.deviceId, acked)).em).toBe(String(device.deviceId));
      const pinnedHash = await jobHash(device.deviceId, pinned);
      expect(pinnedHash.em).toBeUndefined();
      expect((JSON.parse(pinnedHash.data) as SendSmsJob).quotaKeys).toHaveLength(1);

      // The phone leaves without acking: the job goes back to wait and stays marked (it may have been sent).
      phones.stop();
      await waitFor(
        'the silent one back in wait (a job with a priority waits in the prioritized set)',
        async () => (await queue.getJobState(DeviceQueue.jobId(silent))) === 'prioritized',
      );
      expect((await jobHash(device.deviceId, silent)).em).toBe(String(device.deviceId));
    } finally {
      phones.stop();
    }
  });

  it('marks every pool message of a window fetched at once (one call), none of the pinned ones', async () => {
    // Never acked: each stays active, as a phone that has it leaves it.
    const phones = fleetFor(system, account, {
      sendDelayMs: 5,
      deliveryDelayMs: 5,
      failureShare: 0,
      poison: () => 'ignore',
    });
    const [device] = await phones.provision(1);
    try {
      // Queued before the phone connects: its first fetch takes one, the next the rest of its window.
      const pooled = [];
      for (let i = 0; i < 4; i++) pooled.push(await addPoolJob(device.deviceId, `window ${i}`));
      const pinned = await addPoolJob(device.deviceId, 'window pinned', null);
      await phones.connectAll();
      await waitFor('five messages at the phone', () => phones.ledger.received.length >= 5, 10_000);
      for (const messageId of pooled)
        expect((await jobHash(device.deviceId, messageId)).em).toBe(String(device.deviceId));
      expect((await jobHash(device.deviceId, pinned)).em).toBeUndefined();
    } finally {
      phones.stop();
    }
  });

  it('leaves no mark on a pool message held for send hours before any emission', async () => {
    const phones = fleetFor(system, account, { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0 });
    const [device] = await phones.provision(1);
    // One hour a day, twelve hours from now: closed.
    const hour = (new Date().getUTCHours() + 12) % 24;
    const clock = (h: number) => `${String(h).padStart(2, '0')}:00`;
    await changeSettings(device.deviceId, { sendhours: `daily ${clock(hour)}-${clock(hour + 1)}` });
    await phones.connectAll();
    try {
      const held = await addPoolJob(device.deviceId, 'held');
      const queue = queueOf(device.deviceId);
      await waitFor('the message held back', async () => {
        const hash = await jobHash(device.deviceId, held);
        return hash.data !== undefined && (JSON.parse(hash.data) as SendSmsJob).held === 'hours';
      });
      expect(await queue.getJobState(DeviceQueue.jobId(held))).toBe('delayed');
      expect((await jobHash(device.deviceId, held)).em).toBeUndefined();
      expect(phones.ledger.received).toHaveLength(0);
    } finally {
      phones.stop();
    }
  });

  it('marks a pool message handed to an SMSGate app that pulls', async () => {
    const { apps, ledger } = await startApps(system, account, 1);
    const [app] = apps;
    try {
      const messageId = await addPoolJob(app.deviceId, 'pulled');
      await waitFor('the app took it', () => ledger.received.some((entry) => entry.id === messageId), 10_000);
      expect((await jobHash(app.deviceId, messageId)).em).toBe(String(app.deviceId));
    } finally {
      for (const each of apps) each.stop();
    }
  });
});

/**
 * The pool mover's step (ADR 2221 §4, step 2): `WaitingJobRemover.removeToMove` against real Redis and
 * BullMQ, one job per answer.
 */
describe('pool jobs in Redis: the move script', () => {
  let system: TestSystem;
  let redis: RedisConnections;
  let queues: DeviceQueues;
  let remover: WaitingJobRemover;
  // No phone, no row: only the queue of a device id no other suite uses.
  const deviceId = 900_001;

  beforeAll(async () => {
    system = await TestSystem.start([]);
    // Read as the apps read the suite's settings (Redis by URL or Sentinels, the key prefix).
    const config = loadConfig(system.env() as Record<string, string>);
    redis = new RedisConnections(config);
    queues = new DeviceQueues(redis, config);
    remover = new WaitingJobRemover(redis, queues);
  });

  afterAll(async () => {
    await queues?.onApplicationShutdown();
    await redis?.onApplicationShutdown();
    await system?.stop();
  });

  const movingKey = () => poolMovingKey(system.redisPrefix);

  async function add(messageId: number, delay = 0): Promise<void> {
    const data: SendSmsJob = {
      messageId,
      sendto: '+4915700000002',
      body: 'move me',
      sim: 0,
      urgent: false,
      validUntil: Date.now() + 3_600_000,
      poolId: 7,
    };
    await queues
      .queue(deviceId)
      .add('sms', data, { jobId: DeviceQueue.jobId(messageId), priority: JobPriority.normal, delay });
  }

  const state = (messageId: number) => queues.queue(deviceId).getJobState(DeviceQueue.jobId(messageId));
  const hash = (messageId: number) =>
    system.redis().hgetall(`${system.redisPrefix}:device-${deviceId}:${DeviceQueue.jobId(messageId)}`);

  it('removes a waiting or held-back job no phone was sent, tombstones it and records the move', async () => {
    await add(1);
    await add(2, 3_600_000);
    expect([await state(1), await state(2)]).toEqual(['prioritized', 'delayed']);
    const before = Date.now();
    expect(await remover.removeToMove(deviceId, 1)).toBe('removed');
    expect(await remover.removeToMove(deviceId, 2)).toBe('removed');
    for (const messageId of [1, 2]) {
      expect(await state(messageId)).toBe('unknown');
      // Only the tombstone is left, expiring: an add of the same job id in flight is a no-op meanwhile.
      expect(Object.keys(await hash(messageId))).toEqual(['smsfleetTombstone']);
      expect(
        await system.redis().pttl(`${system.redisPrefix}:device-${deviceId}:m${messageId}`),
      ).toBeGreaterThan(50_000);
      const [device, at] = ((await system.redis().hget(movingKey(), String(messageId))) ?? '').split(':');
      expect(Number(device)).toBe(deviceId);
      expect(Number(at)).toBeGreaterThanOrEqual(before);
    }
    await add(1);
    expect(await state(1)).toBe('unknown');
  });

  it('holds a job a phone was sent, even back in wait, and records nothing', async () => {
    await add(3);
    await system.redis().hset(`${system.redisPrefix}:device-${deviceId}:m3`, 'em', String(deviceId));
    expect(await remover.removeToMove(deviceId, 3)).toBe('held');
    expect(await state(3)).toBe('prioritized');
    expect(await system.redis().hexists(movingKey(), '3')).toBe(0);
  });

  it('holds a job a dispatcher fetched (active), and records nothing', async () => {
    await add(4);
    const worker = queues.createManualWorker(deviceId);
    try {
      // The oldest waiting first: 3 (held above) is still there.
      const jobs = await worker.fetch('test-token', 2);
      expect(jobs.map((job) => job.id).sort()).toEqual(['m3', 'm4']);
      expect(await remover.removeToMove(deviceId, 4)).toBe('held');
      expect(await state(4)).toBe('active');
      expect(await system.redis().hexists(movingKey(), '4')).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it('answers absent for a job that is not there, tombstones it and records the move', async () => {
    expect(await remover.removeToMove(deviceId, 5)).toBe('absent');
    expect(Object.keys(await hash(5))).toEqual(['smsfleetTombstone']);
    expect(await system.redis().hexists(movingKey(), '5')).toBe(1);
    // A second call finds the tombstone: absent again, not held.
    expect(await remover.removeToMove(deviceId, 5)).toBe('absent');
  });
});
