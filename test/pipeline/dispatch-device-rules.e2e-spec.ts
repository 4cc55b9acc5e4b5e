import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

describe('dispatch: per-phone pacing and window, live settings, validity', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status'], {
      SCHEDULER_EXPIRY_INTERVAL_MS: '300',
      MESSAGE_REPORT_TIMEOUT_SECONDS: '60',
    });
    account = system.createAccount();
  });

  afterAll(async () => {
    await system?.stop();
  });

  function fleet(sendDelayMs = 5, ackDelayMs = 0): SimulatedFleet {
    return new SimulatedFleet({
      apiUrl: system.apiUrl,
      dispatcherUrl: system.dispatcherUrl,
      email: account.email,
      password: account.password,
      behaviour: { sendDelayMs, deliveryDelayMs: 5, failureShare: 0, ackDelayMs },
    });
  }

  async function send(deviceId: number, count: number): Promise<number[]> {
    const numbers = Array.from({ length: count }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
    const answer = await getdata(
      system.apiUrl,
      'addsms',
      { token: account.token, sendto: numbers.join(','), body: 'paced', device_id: deviceId },
      'form',
    );
    expect(answer.body.error).toBe(0);
    return answer.body.sms_ids as number[];
  }

  async function changeSettings(deviceId: number, settings: Record<string, number>, token = account.token) {
    const response = await fetch(`${system.apiUrl}/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(settings),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('paces a phone with a 2 s delay while a fast phone beside it is unaffected; a new delay applies at once', async () => {
    const phones = fleet();
    const [slow, fast] = await phones.provision(2);
    expect(await changeSettings(slow.deviceId, { delaybetweeneachsms: 2 })).toEqual({
      status: 200,
      body: {
        error: 0,
        message: 'OK',
        device_id: slow.deviceId,
        settings: { delaybetweeneachsms: 2, window: 10 },
      },
    });
    await phones.connectAll();
    try {
      const slowIds = await send(slow.deviceId, 3);
      const fastIds = await send(fast.deviceId, 200);
      await waitFor('3 paced messages', () => received(phones, slow.deviceId).length >= 3, 15_000);
      const slowTimes = received(phones, slow.deviceId).map((entry) => entry.at);
      const gaps = slowTimes.slice(1).map((at, index) => at - slowTimes[index]);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2_000);
      const fastTimes = received(phones, fast.deviceId).map((entry) => entry.at);
      expect(fastTimes).toHaveLength(200);
      // The fast phone had all 200 before the slow one was allowed its second.
      expect(Math.max(...fastTimes)).toBeLessThan(slowTimes[1]);
      expect(received(phones, slow.deviceId).map((entry) => entry.id)).toEqual(slowIds);
      expect(new Set(received(phones, fast.deviceId).map((entry) => entry.id))).toEqual(new Set(fastIds));
      reportFigure('pacing', {
        slowGapsMs: gaps,
        fast200Ms: Math.max(...fastTimes) - Math.min(...fastTimes),
      });

      // Live change: the phone hears of it, and the rest of its queue goes out without the delay.
      const more = await send(slow.deviceId, 10);
      await waitFor('first of the next ten', () => received(phones, slow.deviceId).length >= 4, 10_000);
      const changedAt = Date.now();
      await changeSettings(slow.deviceId, { delaybetweeneachsms: 0, window: 5 });
      await waitFor('the rest, unpaced', () => received(phones, slow.deviceId).length >= 13, 5_000);
      expect(Date.now() - changedAt).toBeLessThan(2_000);
      expect(received(phones, slow.deviceId).map((entry) => entry.id)).toEqual([...slowIds, ...more]);
      const phone = phones.phones.find((candidate) => candidate.deviceId === slow.deviceId);
      expect(phone?.settingsReceived).toEqual([{ delaybetweeneachsms: 0, window: 5 }]);
      const [row] = await system.query<{ delay_between_sms: number; send_window: number }>(
        'SELECT delay_between_sms, send_window FROM devices WHERE id = $1',
        [slow.deviceId],
      );
      expect(row).toEqual({ delay_between_sms: 0, send_window: 5 });
    } finally {
      phones.stop();
    }
  });

  it('never has more than the window unacknowledged at a phone', async () => {
    const ackDelayMs = 400;
    const phones = fleet(5, ackDelayMs);
    const [device] = await phones.provision(1);
    await changeSettings(device.deviceId, { window: 3 });
    await phones.connectAll();
    try {
      const ids = await send(device.deviceId, 12);
      await waitFor('all twelve', () => received(phones, device.deviceId).length >= 12, 15_000);
      const times = received(phones, device.deviceId).map((entry) => entry.at);
      // A message is unacknowledged for ackDelayMs after it arrives: at most 3 inside any such span.
      const mostAtOnce = Math.max(
        ...times.map((at) => times.filter((other) => other <= at && other > at - ackDelayMs + 20).length),
      );
      expect(mostAtOnce).toBeLessThanOrEqual(3);
      expect(times[11] - times[0]).toBeGreaterThanOrEqual(3 * ackDelayMs - 50);
      expect(received(phones, device.deviceId).map((entry) => entry.id)).toEqual(ids);
      reportFigure('window 3, phone acks after 400 ms', { mostAtOnce, twelveMs: times[11] - times[0] });
    } finally {
      phones.stop();
    }
  });

  it('refuses settings for a foreign device, bad values and a missing token, in the error format', async () => {
    const phones = fleet();
    const [device] = await phones.provision(1);
    const other = system.createAccount();
    expect(await changeSettings(device.deviceId, { delaybetweeneachsms: 1 }, other.token)).toEqual({
      status: 404,
      body: { error: 1, message: expect.stringContaining('not found'), code: 'not_found' },
    });
    expect(await changeSettings(999_999, { window: 2 })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(await changeSettings(device.deviceId, { window: 0 })).toMatchObject({
      status: 400,
      body: { error: 1, code: 'validation' },
    });
    expect(await changeSettings(device.deviceId, {})).toMatchObject({
      status: 400,
      body: { code: 'validation' },
    });
    const response = await fetch(`${system.apiUrl}/v1/devices/${device.deviceId}/settings`, {
      method: 'POST',
      body: new URLSearchParams({ delaybetweeneachsms: '1' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 1, code: 'invalid_token' });
    const [row] = await system.query<{ delay_between_sms: number }>(
      'SELECT delay_between_sms FROM devices WHERE id = $1',
      [device.deviceId],
    );
    expect(row.delay_between_sms).toBe(0);
  });

  it('ends messages that outlive their validity (queued for an offline phone, or never queued) as 202, and unreported ones as 203', async () => {
    const phones = fleet(600_000); // takes messages, never reports them
    const [offline, silent] = await phones.provision(2);
    const waiting = await send(offline.deviceId, 3);
    const far = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915700000077',
      body: 'next year',
      device_id: offline.deviceId,
      timetosend: `${new Date().getUTCFullYear() + 1}-01-01 10:00:00`,
    });
    const farId = far.body.sms_id as number;
    await waitFor('queued for the offline phone', async () => {
      const n = await system
        .redis()
        .exists(...waiting.map((id) => `${system.redisPrefix}:device-${offline.deviceId}:m${id}`));
      return n === 3;
    });
    const silentIds = await send(silent.deviceId, 2);
    await phones.phones.find((phone) => phone.deviceId === silent.deviceId)?.connect();
    await waitFor('taken by the silent phone', async () => {
      const rows = await system.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 2',
        [silentIds],
      );
      return rows[0].n === 2;
    });
    try {
      // Time passes: validity over, no report for longer than MESSAGE_REPORT_TIMEOUT_SECONDS.
      await system.query(`UPDATE messages SET valid_until = now() - interval '1 hour' WHERE id = ANY($1)`, [
        [...waiting, farId],
      ]);
      await system.query(`UPDATE messages SET taken_at = now() - interval '2 minutes' WHERE id = ANY($1)`, [
        silentIds,
      ]);
      const all = [...waiting, farId, ...silentIds];
      const rows = await waitFor(
        'all final',
        async () => {
          const found = await system.query<{ id: string; status: number; status_error: string }>(
            'SELECT id, status, status_error FROM messages WHERE id = ANY($1) ORDER BY id',
            [all],
          );
          return found.every((row) => row.status >= 200) ? found : undefined;
        },
        10_000,
      );
      const byId = new Map(rows.map((row) => [Number(row.id), row]));
      for (const id of [...waiting, farId])
        expect(byId.get(id)).toMatchObject({
          status: 202,
          status_error: 'validity ended before the message reached a phone',
        });
      for (const id of silentIds)
        expect(byId.get(id)).toMatchObject({
          status: 203,
          status_error: 'taken by the phone, no report in time',
        });
      const events = await system.query<{ message_id: string; status: number }>(
        'SELECT message_id, status FROM message_events WHERE message_id = ANY($1) AND status >= 200',
        [all],
      );
      expect(events).toHaveLength(all.length);
      // No queue residue: the expired jobs leave Redis (removed right after the statuses commit).
      await waitFor(
        'the expired jobs gone from Redis',
        async () =>
          (await system
            .redis()
            .exists(...waiting.map((id) => `${system.redisPrefix}:device-${offline.deviceId}:m${id}`))) === 0,
        5_000,
      );
      const status = await getdata(system.apiUrl, 'getsmsstatus', {
        token: account.token,
        sms_id: silentIds[0],
      });
      expect(status.body).toMatchObject({ status: 203 });
    } finally {
      phones.stop();
    }
  });
});

function received(phones: SimulatedFleet, deviceId: number) {
  return phones.ledger.received.filter((entry) => entry.deviceId === deviceId && !entry.repeat);
}
