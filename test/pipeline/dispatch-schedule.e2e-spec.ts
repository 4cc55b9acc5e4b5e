import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { clientTime, percentile, reportFigure } from '../helpers/figures';
import { freePort } from '../harness/free-port';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

const HORIZON_SECONDS = 5;
const WINDOW = 10;

describe('dispatch: priority under a backlog, schedule accuracy, far-future schedules, two schedulers', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      SCHEDULE_HORIZON_SECONDS: String(HORIZON_SECONDS),
      // The default idle poll: punctuality must not depend on polling often.
      DISPATCH_IDLE_POLL_MS: '1000',
    });
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  function fleet(): SimulatedFleet {
    return new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0 },
    });
  }

  async function addBulk(deviceId: number, count: number, extra: Record<string, string | number> = {}) {
    const numbers = Array.from({ length: count }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
    const answer = await getdata(
      system.apiUrl,
      'addsms',
      { token: account.token, sendto: numbers.join(','), body: 'bulk', device_id: deviceId, ...extra },
      'form',
    );
    expect(answer.body.error).toBe(0);
    return answer.body.sms_ids as number[];
  }

  async function jobsInRedis(deviceId: number, ids: number[]): Promise<number> {
    const redis = system.redis();
    const exists = await Promise.all(
      ids.map((id) => redis.exists(`${system.redisPrefix}:device-${deviceId}:m${id}`)),
    );
    return exists.reduce((sum, one) => sum + one, 0);
  }

  it('sends every urgent message before the 2,000 normal ones waiting for the phone, each class first in first out', async () => {
    const phones = fleet();
    const [device] = await phones.provision(1);
    const normal: number[] = [];
    const urgent: number[] = [];
    for (let round = 0; round < 4; round++) {
      normal.push(...(await addBulk(device.deviceId, 500)));
      for (let n = 0; n < 5; n++) {
        const answer = await getdata(system.apiUrl, 'addsms', {
          token: account.token,
          sendto: `+4915800000${round}${n}`,
          body: 'OTP',
          device_id: device.deviceId,
          urgent: 1,
        });
        urgent.push(answer.body.sms_id as number);
      }
    }
    const started = Date.now();
    await phones.connectAll();
    try {
      await waitFor('2,020 messages at the phone', () => phones.ledger.received.length >= 2_020, 60_000);
      const order = phones.ledger.received.map((entry) => entry.id);
      expect(order.slice(0, 20)).toEqual(urgent);
      expect(order.slice(20)).toEqual(normal);
      expect(phones.ledger.repeats).toBe(0);
      reportFigure('priority backlog', { messages: 2_020, drainMs: Date.now() - started });
    } finally {
      phones.stop();
    }
  });

  it('lets an urgent message overtake a backlog that is being sent right now', async () => {
    const phones = fleet();
    const [device] = await phones.provision(1);
    await phones.connectAll();
    try {
      const normal = await addBulk(device.deviceId, 1_000);
      await waitFor('sending under way', () => phones.ledger.received.length >= 50, 20_000);
      const receivedBefore = phones.ledger.received.length;
      const answer = await getdata(system.apiUrl, 'addsms', {
        token: account.token,
        sendto: '+4915800000999',
        body: 'OTP',
        device_id: device.deviceId,
        urgent: 1,
      });
      const urgentId = answer.body.sms_id as number;
      await waitFor(
        'the urgent one',
        () => phones.ledger.received.some((entry) => entry.id === urgentId),
        20_000,
      );
      const position = phones.ledger.received.findIndex((entry) => entry.id === urgentId);
      // Only what was on its way during the request (a window or so) went out before it.
      expect(position - receivedBefore).toBeLessThanOrEqual(60);
      expect(position).toBeLessThan(normal.length / 2);
      reportFigure('urgent overtakes a running backlog', {
        normalSentBeforeUrgent: position,
        afterAccept: position - receivedBefore,
      });
    } finally {
      phones.stop();
    }
  });

  it('hands a batch due at one instant to the phones within a second of it; far-future messages stay out of Redis until promoted', async () => {
    const phones = fleet();
    const devices = await phones.provision(10);
    await phones.connectAll();
    try {
      // Near: within the horizon, a delayed job at once. Far: beyond it, PostgreSQL only for now.
      // 30 per phone due at once: a window's worth (10) goes out at the due time, the rest as acks free slots.
      const nearAt = Math.ceil((Date.now() + 3_000) / 1_000) * 1_000;
      const farAt = nearAt + (HORIZON_SECONDS + 5) * 1_000;
      const near = new Map<number, number[]>();
      const far = new Map<number, number[]>();
      for (const device of devices) {
        near.set(device.deviceId, await addBulk(device.deviceId, 30, { timetosend: clientTime(nearAt) }));
        far.set(device.deviceId, await addBulk(device.deviceId, WINDOW, { timetosend: clientTime(farAt) }));
      }
      const allNear = [...near.values()].flat();
      const allFar = [...far.values()].flat();
      expect(Date.now()).toBeLessThan(nearAt);
      for (const [deviceId, ids] of far) expect(await jobsInRedis(deviceId, ids)).toBe(0);
      const [{ unqueued }] = await system.query<{ unqueued: number }>(
        'SELECT count(*)::int AS unqueued FROM messages WHERE id = ANY($1) AND enqueued_at IS NULL',
        [allFar],
      );
      expect(unqueued).toBe(allFar.length);

      await waitFor('near batch at the phones', () => receivedCount(phones, allNear) === 300, 30_000);
      // Promoted into Redis (as delayed jobs) once within the horizon, before they are due.
      await waitFor(
        'far batch promoted',
        async () => {
          let queued = 0;
          for (const [deviceId, ids] of far) queued += await jobsInRedis(deviceId, ids);
          return queued === allFar.length && Date.now() < farAt;
        },
        (HORIZON_SECONDS + 10) * 1_000,
        200,
      );
      await waitFor('far batch at the phones', () => receivedCount(phones, allFar) === 100, 30_000);
      const windowShare = [...near.values()].flatMap((ids) => ids.slice(0, WINDOW));
      const nearWindow = latenesses(phones, windowShare, nearAt);
      const nearAll = latenesses(phones, allNear, nearAt);
      const farAll = latenesses(phones, allFar, farAt);
      reportFigure('schedule accuracy (10 phones, window 10; ms late at the phone)', {
        near100InWindows: summary(nearWindow),
        near300: summary(nearAll),
        farFuturePromoted100: summary(farAll),
      });
      for (const lateness of [nearWindow, farAll]) {
        expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
        expect(percentile(lateness, 100)).toBeLessThan(1_000);
      }
      expect(phones.ledger.repeats).toBe(0);
    } finally {
      phones.stop();
    }
  });

  it('sends what an api committed but could not enqueue before it was killed -9 (the outbox sweep)', async () => {
    // This api reaches PostgreSQL but not Redis: a request commits, then waits for an enqueue that cannot
    // happen — and the process dies right there.
    await system.startApp('api', 'api-cut-off', { REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
    const phones = fleet();
    const [device] = await phones.provision(1);
    await phones.connectAll();
    try {
      const request = getdata(
        system.url('api-cut-off'),
        'addsms',
        {
          token: account.token,
          sendto: Array.from({ length: 50 }, (_, n) => `+4915900000${String(n).padStart(3, '0')}`).join(','),
          body: 'committed, never enqueued',
          device_id: device.deviceId,
        },
        'form',
      ).catch((error: Error) => error);
      const rows = await waitFor('committed', async () => {
        const found = await system.query<{ id: string; enqueued_at: Date | null }>(
          'SELECT id, enqueued_at FROM messages WHERE device_id = $1',
          [device.deviceId],
        );
        return found.length === 50 ? found : undefined;
      });
      expect(rows.every((row) => row.enqueued_at === null)).toBe(true);
      const killedAt = Date.now();
      await system.kill('api-cut-off');
      // The client never got an answer (fetch's error comes from another realm: compare by message).
      expect(await request).toMatchObject({ message: 'fetch failed' });
      const ids = rows.map((row) => Number(row.id));
      await waitFor('swept and delivered', () => receivedCount(phones, ids) === 50, 20_000);
      const lastAt = Math.max(...phones.ledger.received.map((entry) => entry.at));
      expect(phones.ledger.repeats).toBe(0);
      reportFigure('api killed -9 between commit and enqueue', {
        messages: 50,
        atPhoneAfterKillMs: lastAt - killedAt,
      });
    } finally {
      phones.stop();
    }
  });

  const claimed = (instance: string) =>
    system
      .logLines(instance)
      .filter((line) => line.msg === 'outbox rows enqueued')
      .reduce((sum, line) => sum + Number(line.count), 0);

  it('two schedulers sweeping the same outbox send every message once', async () => {
    await system.startApp('scheduler', 'scheduler-b');
    const phones = fleet();
    const devices = await phones.provision(3);
    // As if an api had committed these and died before enqueueing them: the outbox sweep's job.
    const [{ user_id }] = await system.query<{ user_id: number }>(
      'SELECT user_id FROM devices WHERE id = $1',
      [devices[0].deviceId],
    );
    const rows = await system.query<{ id: string }>(
      `INSERT INTO messages (user_id, device_id, sendto, phone, body, sim, time_to_send, valid_until, created_at)
       SELECT $1, d.id, '+4915912345678', '+4915912345678', 'outbox', 0, now(), now() + interval '1 hour', now() - interval '10 seconds'
         FROM unnest($2::int[]) AS d(id), generate_series(1, 1000)
       RETURNING id`,
      [user_id, devices.map((device) => device.deviceId)],
    );
    const ids = rows.map((row) => Number(row.id));
    const claimedBefore = claimed('scheduler');
    const started = Date.now();
    await phones.connectAll();
    try {
      await waitFor(
        '3,000 outbox messages at the phones',
        () => receivedCount(phones, ids) === 3_000,
        60_000,
      );
      await waitFor(
        'all delivered',
        async () =>
          (
            await system.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 7',
              [ids],
            )
          )[0].n === 3_000,
        30_000,
        250,
      );
      expect(phones.ledger.repeats).toBe(0);
      expect(phones.ledger.duplicateSends).toBe(0);
      // Every row claimed by exactly one of the two.
      expect(claimed('scheduler') - claimedBefore + claimed('scheduler-b')).toBe(3_000);
      reportFigure('two schedulers, 3,000 outbox rows', {
        byA: claimed('scheduler') - claimedBefore,
        byB: claimed('scheduler-b'),
        deliveredMs: Date.now() - started,
      });
    } finally {
      phones.stop();
      await system.stopApp('scheduler-b');
    }
  });
});

function receivedCount(phones: SimulatedFleet, ids: number[]): number {
  const wanted = new Set(ids);
  return new Set(phones.ledger.received.filter((entry) => wanted.has(entry.id)).map((entry) => entry.id))
    .size;
}

function latenesses(phones: SimulatedFleet, ids: number[], dueAt: number): number[] {
  const wanted = new Set(ids);
  return phones.ledger.received
    .filter((entry) => wanted.has(entry.id) && !entry.repeat)
    .map((entry) => entry.at - dueAt);
}

function summary(values: number[]) {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: percentile(values, 100),
  };
}
