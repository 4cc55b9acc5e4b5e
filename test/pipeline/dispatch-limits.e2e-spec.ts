import { DateTime } from 'luxon';
import { SimulatedFleet } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { reportFigure } from '../helpers/figures';
import { startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

/** Issue 22, on one dispatcher: random pacing, send hours, per-SIM quotas (docs/api.md, device settings). */
describe('dispatch limits: random pace, send hours, SIM quotas', () => {
  let system: TestSystem;
  let account: Account;

  beforeAll(async () => {
    // No scheduler: every message here is due at once and enqueued by the api.
    system = await TestSystem.start(['api', 'dispatcher', 'status']);
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
      behaviour: { sendDelayMs: 5, deliveryDelayMs: 5, failureShare: 0, ackDelayMs: 0 },
    });
  }

  async function send(deviceId: number, count: number, extra: Record<string, string | number> = {}) {
    const numbers = Array.from({ length: count }, (_, n) => `+49157${String(n).padStart(7, '0')}`);
    const answer = await getdata(
      system.apiUrl,
      'addsms',
      { token: account.token, sendto: numbers.join(','), body: 'limited', device_id: deviceId, ...extra },
      'form',
    );
    expect(answer.body.error).toBe(0);
    return (answer.body.sms_ids ?? [answer.body.sms_id]) as number[];
  }

  /** The settings route, form-encoded as SmsGateway24 clients post (JSON is covered by dispatch-device-rules). */
  async function changeSettings(deviceId: number, settings: Record<string, string | number>) {
    const response = await fetch(`${system.apiUrl}/v1/devices/${deviceId}/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.token}` },
      body: new URLSearchParams(
        Object.entries(settings).map(([key, value]): [string, string] => [key, String(value)]),
      ),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function listed(deviceId: number): Promise<Record<string, unknown>> {
    const answer = await getdata(system.apiUrl, 'getalldevices', { token: account.token });
    return (answer.body.device as Record<string, Record<string, unknown>>)[String(deviceId)];
  }

  function gapsOf(times: number[]): number[] {
    return times.slice(1).map((at, index) => at - times[index]);
  }

  describe('random pace', () => {
    it('draws each gap within "1-2" s, not all equal; a single number later fixes the pace again', async () => {
      const phones = fleet();
      const [device] = await phones.provision(1);
      expect(await changeSettings(device.deviceId, { delaybetweeneachsms: '1-2' })).toEqual({
        status: 200,
        body: {
          error: 0,
          message: 'OK',
          device_id: device.deviceId,
          settings: { delaybetweeneachsms: 1, window: 10, delaybetweeneachsms_max: 2 },
        },
      });
      expect(await listed(device.deviceId)).toMatchObject({
        delaybetweeneachsms: 1,
        delaybetweeneachsms_max: 2,
      });
      await phones.connectAll();
      try {
        const ids = await send(device.deviceId, 8);
        await waitFor('8 paced messages', () => received(phones, device.deviceId).length >= 8, 25_000);
        const gaps = gapsOf(received(phones, device.deviceId).map((entry) => entry.at));
        reportFigure('random pace 1-2 s', { gapsMs: gaps });
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
        // The drawn gap, its 50 ms margin, and the fetch and the socket's delivery on a busy machine.
        expect(Math.max(...gaps)).toBeLessThanOrEqual(2_050 + 400);
        // Uniform over a second: seven gaps all within 150 ms of each other happen once in ~10,000 runs.
        expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(150);
        expect(received(phones, device.deviceId).map((entry) => entry.id)).toEqual(ids);

        // Back to one number: the range is gone (stored, listed, and on the phone), no pace at all now.
        const more = await send(device.deviceId, 20);
        expect(await changeSettings(device.deviceId, { delaybetweeneachsms: 0 })).toMatchObject({
          body: { settings: { delaybetweeneachsms: 0, window: 10 } },
        });
        await waitFor('the rest, unpaced', () => received(phones, device.deviceId).length >= 28, 6_000);
        expect(received(phones, device.deviceId).map((entry) => entry.id)).toEqual([...ids, ...more]);
        const phone = phones.phones.find((candidate) => candidate.deviceId === device.deviceId);
        expect(phone?.settingsReceived).toEqual([{ delaybetweeneachsms: 0, window: 10 }]);
        expect(await listed(device.deviceId)).toMatchObject({
          delaybetweeneachsms: null,
          delaybetweeneachsms_max: null,
        });
      } finally {
        phones.stop();
      }
    });

    it('refuses a range upside down, half a range, or both forms at once, and changes nothing', async () => {
      const phones = fleet();
      const [device] = await phones.provision(1);
      const refused: Array<Record<string, string | number>> = [
        { delaybetweeneachsms: '15-5' },
        { delaybetweeneachsms: '5-x' },
        { delaybetweeneachsms: '1-90000' },
        { delaybetweeneachsms_max: 9 },
        { delaybetweeneachsms: '1-5', delaybetweeneachsms_max: 9 },
        { delaybetweeneachsms: 5, delaybetweeneachsms_max: 2 },
      ];
      for (const bad of refused)
        expect(await changeSettings(device.deviceId, bad)).toMatchObject({
          status: 400,
          body: { error: 1, code: 'validation' },
        });
      expect(
        await changeSettings(device.deviceId, { delaybetweeneachsms: 3, delaybetweeneachsms_max: 7 }),
      ).toMatchObject({
        status: 200,
        body: { settings: { delaybetweeneachsms: 3, delaybetweeneachsms_max: 7 } },
      });
      // Equal ends are the fixed pace.
      expect(await changeSettings(device.deviceId, { delaybetweeneachsms: '4-4' })).toMatchObject({
        body: { settings: { delaybetweeneachsms: 4, window: 10 } },
      });
      const [row] = await system.query<{ delay_between_sms: number; delay_max_between_sms: number | null }>(
        'SELECT delay_between_sms, delay_max_between_sms FROM devices WHERE id = $1',
        [device.deviceId],
      );
      expect(row).toEqual({ delay_between_sms: 4, delay_max_between_sms: null });
    });

    it('paces an SMSGate app within the range, and gives the app the range as its send interval', async () => {
      const { apps, ledger } = await startApps(system, account, 1);
      const [app] = apps;
      try {
        await changeSettings(app.deviceId, { delaybetweeneachsms: '1-2' });
        const auth = { authorization: `Bearer ${app.registration?.token}` };
        await waitFor('the app told of its new settings', async () => {
          const settings = (await (
            await fetch(`${system.dispatcherUrl}/mobile/v1/settings`, { headers: auth })
          ).json()) as { messages: Record<string, unknown> };
          return settings.messages.send_interval_min === 1 && settings.messages.send_interval_max === 2;
        });
        const ids = await send(app.deviceId, 5);
        await waitFor(
          '5 paced messages at the app',
          () => ledger.received.filter((entry) => !entry.repeat).length >= 5,
          20_000,
        );
        const taken = ledger.received.filter((entry) => !entry.repeat);
        expect(taken.map((entry) => entry.id)).toEqual(ids);
        const gaps = gapsOf(taken.map((entry) => entry.at));
        reportFigure('random pace 1-2 s, SMSGate app', { gapsMs: gaps });
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000);
        // A pulling phone adds the nudge and its pull to each gap.
        expect(Math.max(...gaps)).toBeLessThanOrEqual(2_050 + 1_000);
      } finally {
        for (const app of apps) app.stop();
      }
    });
  });

  describe('send hours', () => {
    /** One hour a day in New York that excludes now (half a day away): nothing may go out. */
    function closedHours(): string {
      const hour = (DateTime.now().setZone(ZONE).hour + 12) % 24;
      const clock = (h: number) => `${String(h).padStart(2, '0')}:00`;
      return `daily ${clock(hour)}-${clock(hour + 1)}`;
    }
    const ZONE = 'America/New_York';

    async function jobOf(deviceId: number, messageId: number) {
      const key = `${system.redisPrefix}:device-${deviceId}`;
      const [data, delayedAt] = await Promise.all([
        system.redis().hget(`${key}:m${messageId}`, 'data'),
        system.redis().zscore(`${key}:delayed`, `m${messageId}`),
      ]);
      return { held: (JSON.parse(data ?? '{}') as { held?: string }).held, delayed: delayedAt !== null };
    }

    it('holds what is due outside the hours, lets urgent ones through once allowed, and sends the rest when the hours include now', async () => {
      const phones = fleet();
      const [device] = await phones.provision(1);
      const hours = closedHours();
      const answer = await changeSettings(device.deviceId, { sendhours: hours, sendhours_timezone: ZONE });
      expect(answer).toMatchObject({
        status: 200,
        body: {
          settings: {
            sendhours: expect.stringContaining('mon '),
            sendhours_timezone: ZONE,
            sendhours_urgent: false,
          },
        },
      });
      expect(await listed(device.deviceId)).toMatchObject({
        sendhours_timezone: ZONE,
        sendhours_urgent: false,
      });
      await phones.connectAll();
      try {
        const normal = await send(device.deviceId, 3);
        const [urgent] = await send(device.deviceId, 1, { urgent: 1 });
        // The session fetched each one and moved it back to delayed, marked held: nothing spins, nothing leaks.
        await waitFor('all four held back', async () =>
          (await Promise.all([...normal, urgent].map((id) => jobOf(device.deviceId, id)))).every(
            (job) => job.held === 'hours' && job.delayed,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(received(phones, device.deviceId)).toHaveLength(0);
        const waiting = await system.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND status = 1 AND taken_at IS NULL',
          [[...normal, urgent]],
        );
        expect(waiting[0].n).toBe(4);

        // Urgent messages allowed through: the urgent one goes at once, the others stay held.
        let changedAt = Date.now();
        await changeSettings(device.deviceId, {
          sendhours: hours,
          sendhours_timezone: ZONE,
          sendhours_urgent: 1,
        });
        await waitFor('the urgent one sent', () => received(phones, device.deviceId).length >= 1, 5_000);
        const urgentMs = Date.now() - changedAt;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(received(phones, device.deviceId).map((entry) => entry.id)).toEqual([urgent]);

        // Hours that include now: the rest go out promptly, in order, without a restart.
        changedAt = Date.now();
        await changeSettings(device.deviceId, { sendhours: 'daily 00:00-24:00', sendhours_timezone: ZONE });
        await waitFor('the rest sent', () => received(phones, device.deviceId).length >= 4, 5_000);
        const restMs = Date.now() - changedAt;
        expect(received(phones, device.deviceId).map((entry) => entry.id)).toEqual([urgent, ...normal]);
        reportFigure('send hours opened', { urgentAfterMs: urgentMs, restAfterMs: restMs });
        expect(restMs).toBeLessThan(3_000);
        // The invariant, from PostgreSQL: nothing taken outside the hours; under the closed hours again,
        // the three normal ones would have been (the urgent one was let through).
        await waitFor('all four recorded as taken', async () => {
          const rows = await system.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM messages WHERE id = ANY($1) AND taken_at IS NOT NULL',
            [[...normal, urgent]],
          );
          return rows[0].n === 4;
        });
        expect(system.cliResult('check').stdout).toMatch(/^L12 ok .*outside=0/m);
        const closed = await changeSettings(device.deviceId, {
          sendhours: hours,
          sendhours_timezone: ZONE,
          sendhours_urgent: 1,
        });
        expect(closed.status).toBe(200);
        expect(system.cliResult('check').stdout).toMatch(/^L12 FAIL .*outside=3 /m);

        // Cleared: any hour, shown as null.
        expect(await changeSettings(device.deviceId, { sendhours: 'always' })).toMatchObject({
          body: { settings: { delaybetweeneachsms: 0, window: 10 } },
        });
        expect(await listed(device.deviceId)).toMatchObject({ sendhours: null, sendhours_timezone: null });
        const phone = phones.phones.find((candidate) => candidate.deviceId === device.deviceId);
        // The phone is told its pace and window only: the hours are the server's to keep.
        for (const settings of phone?.settingsReceived ?? [])
          expect(Object.keys(settings).sort()).toEqual(['delaybetweeneachsms', 'window']);
      } finally {
        phones.stop();
      }
    });

    it('refuses hours it cannot read, an unknown zone, or a zone without hours', async () => {
      const phones = fleet();
      const [device] = await phones.provision(1);
      const refused: Array<Record<string, string | number>> = [
        { sendhours: 'mon 9-17' },
        { sendhours: 'mon-fri 21:00-08:00' },
        { sendhours: 'mon 08:00-20:00', sendhours_timezone: 'Mars/Olympus' },
        { sendhours_timezone: 'Europe/Berlin' },
        { sendhours: 'mon 08:00-20:00', sendhours_urgent: 'maybe' },
      ];
      for (const bad of refused)
        expect(await changeSettings(device.deviceId, bad)).toMatchObject({
          status: 400,
          body: { error: 1, code: 'validation', message: expect.any(String) },
        });
      const [row] = await system.query<{ send_hours: unknown }>(
        'SELECT send_hours FROM devices WHERE id = $1',
        [device.deviceId],
      );
      expect(row.send_hours).toBeNull();
      // Without a zone, the account's (UTC for a new account).
      expect(await changeSettings(device.deviceId, { sendhours: 'sat-sun 10:00-18:00' })).toMatchObject({
        body: { settings: { sendhours: 'sat 10:00-18:00; sun 10:00-18:00', sendhours_timezone: 'UTC' } },
      });
    });
  });
});

function received(phones: SimulatedFleet, deviceId: number) {
  return phones.ledger.received.filter((entry) => entry.deviceId === deviceId && !entry.repeat);
}
