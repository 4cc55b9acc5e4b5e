import { redisEpochKey, redisSeenKey } from '@smsfleet/contracts';
import { RedisServer } from '../harness/redis-server';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { waitingJobs } from '../helpers/queued-jobs';
import { reportFigure } from '../helpers/figures';
import { TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const MESSAGES = 40;
const LOSS_LOG = 'Redis lost data: device queues rebuilt from PostgreSQL';
const FAST_CHECKS = { REDIS_LOSS_CHECK_INTERVAL_MS: '300', SCHEDULER_SWEEP_INTERVAL_MS: '500' };

function fleet(system: TestSystem): { phones: SimulatedFleet; token: string } {
  const account = system.createAccount();
  const phones = new SimulatedFleet({
    apiUrl: system.apiUrl,
    dispatcherUrl: system.dispatcherUrl,
    email: account.email,
    password: account.password,
    behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0 },
  });
  return { phones, token: account.token };
}

/** The scheduler's first look at a fresh Redis and an empty database: marker written, nothing reported. */
async function markerWritten(system: TestSystem): Promise<void> {
  const key = redisEpochKey(system.redisPrefix);
  await waitFor('epoch marker written', async () => (await system.redis().exists(key)) === 1);
}

/** Queues MESSAGES for the (offline) device; returns their ids. */
async function queueMessages(system: TestSystem, token: string, deviceId: number): Promise<number[]> {
  const numbers = Array.from({ length: MESSAGES }, (_, k) => `+4917${String(k).padStart(8, '0')}`);
  const answer = await getdata(
    system.apiUrl,
    'addsms',
    { token, sendto: numbers.join(','), body: 'lost', device_id: deviceId },
    'form',
  );
  return answer.body.sms_ids as number[];
}

const lossLogs = (system: TestSystem) => system.logLines('scheduler').filter((line) => line.msg === LOSS_LOG);
/** The rebuild's warning (log files are written asynchronously). */
const lossLogged = (system: TestSystem) =>
  waitFor('rebuild logged', () => lossLogs(system).length > 0 && lossLogs(system));

/**
 * F6 (docs/reliability.md): when Redis loses its data, the scheduler rebuilds the queues from PostgreSQL by
 * itself (no `cli reconcile`): after a restart of a Redis without persistence (new run_id), and after our
 * keys were deleted from a Redis that kept running (epoch marker gone).
 */
describe('automatic queue rebuild after Redis lost its data', () => {
  it('a Redis without AOF killed -9 and restarted empty: jobs come back, the phone gets each once', async () => {
    const redis = await RedisServer.start();
    const system = await TestSystem.start(['api', 'scheduler', 'dispatcher'], FAST_CHECKS, {
      redisUrl: redis.url,
    });
    const { phones, token } = fleet(system);
    try {
      await markerWritten(system);
      const [device] = await phones.provision(1);
      const ids = await queueMessages(system, token, device.deviceId);
      expect(await waitingJobs(system, device.deviceId)).toBe(MESSAGES);
      expect(lossLogs(system)).toEqual([]);

      await redis.kill();
      await redis.restart();
      const restartedAt = Date.now();
      await waitFor(
        'jobs rebuilt',
        async () => (await waitingJobs(system, device.deviceId)) === MESSAGES,
        30_000,
      );
      const rebuiltMs = Date.now() - restartedAt;
      expect(await lossLogged(system)).toEqual([expect.objectContaining({ enqueued: MESSAGES, level: 40 })]);
      const metrics = await (await fetch(`${system.url('scheduler')}/metrics`)).text();
      expect(metrics).toMatch(/^smsfleet_redis_loss_reconciles_total\{[^}]*\} 1$/m);

      await phones.connectAll();
      await waitFor('all at the phone', () => ids.every((id) => phones.ledger.sends.has(id)), 30_000, 250);
      for (const id of ids) expect(phones.ledger.sends.get(id)).toBe(1);
      expect(phones.ledger.duplicateSends).toBe(0);
      reportFigure('redis-loss-reconcile: Redis restarted empty', { messages: MESSAGES, rebuiltMs });
    } finally {
      phones.stop();
      await system.stop();
      await redis.stop();
    }
  }, 120_000);

  it('this test’s keys deleted from the shared Redis: rebuilt without anyone running reconcile, pool jobs pinned', async () => {
    const system = await TestSystem.start(['api', 'scheduler'], FAST_CHECKS);
    const { phones, token } = fleet(system);
    try {
      await markerWritten(system);
      const [device] = await phones.provision(1);
      const ids = await queueMessages(system, token, device.deviceId);
      // Half of them as if sent to a pool of that phone (ADR 2221): their phone may have had them before the loss.
      const [pool] = await system.query<{ id: number }>(
        `INSERT INTO pools (user_id, name) SELECT user_id, 'lost' FROM devices WHERE id = $1 RETURNING id`,
        [device.deviceId],
      );
      const pooled = ids.slice(0, MESSAGES / 2);
      await system.query(`UPDATE messages SET pool_id = $1 WHERE id = ANY($2::bigint[])`, [pool.id, pooled]);
      expect(lossLogs(system)).toEqual([]);
      expect(await system.flushRedis()).toBeGreaterThan(0);
      await waitFor(
        'jobs rebuilt',
        async () => (await waitingJobs(system, device.deviceId)) === MESSAGES,
        30_000,
      );
      expect(await lossLogged(system)).toEqual([expect.objectContaining({ enqueued: MESSAGES })]);
      // Pool jobs come back marked as emitted to the phone their row names (never moved); pinned ones unmarked.
      const marks = await Promise.all(
        ids.map((id) => system.redis().hget(`${system.redisPrefix}:device-${device.deviceId}:m${id}`, 'em')),
      );
      expect(marks).toEqual(ids.map((id) => (pooled.includes(id) ? String(device.deviceId) : null)));
    } finally {
      phones.stop();
      await system.stop();
    }
  }, 120_000);

  it('a Redis with AOF restarted: only messages queued since its last heartbeat are checked', async () => {
    const redis = await RedisServer.start({ appendOnly: true });
    const system = await TestSystem.start(['api', 'scheduler'], FAST_CHECKS, { redisUrl: redis.url });
    const { phones, token } = fleet(system);
    const markedAt = async (ids: number[]) => {
      const [row] = await system.query<{ marked: number; latest: string | null }>(
        `SELECT count(enqueued_at)::int AS marked, (extract(epoch FROM max(enqueued_at)) * 1000)::bigint AS latest
           FROM messages WHERE id = ANY($1::bigint[])`,
        [ids],
      );
      return row.marked === ids.length ? Number(row.latest) : undefined;
    };
    try {
      await markerWritten(system);
      const [device] = await phones.provision(1);
      const before = await queueMessages(system, token, device.deviceId);
      const latest = await waitFor('first batch marked queued', () => markedAt(before));
      // The heartbeat (PostgreSQL's time) passes them, with the rebuild's margin of 2 s.
      await waitFor(
        'heartbeat past the first batch',
        async () => Number(await system.redis().get(redisSeenKey(system.redisPrefix))) > latest + 2_000,
        15_000,
      );
      // No heartbeat from now on; what is queued next is what a crash in the AOF's last second could lose.
      await system.stopApp('scheduler');
      const after = await queueMessages(system, token, device.deviceId);
      await waitFor('second batch marked queued', () => markedAt(after));
      const key = (suffix: string) => `${system.redisPrefix}:device-${device.deviceId}:${suffix}`;
      const lost = after.map((id) => `m${id}`);
      await system.redis().zrem(key('prioritized'), ...lost);
      await system.redis().del(...lost.map(key));
      expect(await waitingJobs(system, device.deviceId)).toBe(MESSAGES);

      await redis.kill();
      await redis.restart();
      await system.startApp('scheduler');
      expect(await lossLogged(system)).toEqual([
        expect.objectContaining({ checked: MESSAGES, enqueued: MESSAGES, since: expect.any(String) }),
      ]);
      expect(await waitingJobs(system, device.deviceId)).toBe(2 * MESSAGES);
    } finally {
      phones.stop();
      await system.stop();
      await redis.stop();
    }
  }, 120_000);
});
