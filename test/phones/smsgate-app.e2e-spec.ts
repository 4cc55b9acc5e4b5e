import { getdata } from '../helpers/api-client';
import { phoneToken, startApps } from '../helpers/smsgate-phones';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';
import { SmsGateApp } from '../../tools/simulator/smsgate/smsgate-app';
import { PhoneLedger } from '../../tools/simulator/phone-ledger';

/**
 * Phones running the SMSGate app (its double, written from the app's source) as full members of the
 * fleet: registration with the account's token, messages of every kind to 7 over SSE and pulls, states
 * mapped to our codes, incoming SMS through our signed webhook.
 */
describe('SMSGate app phones', () => {
  let system: TestSystem;
  let account: Account;
  let apps: SmsGateApp[];
  let ledger: PhoneLedger;

  beforeAll(async () => {
    system = await TestSystem.start(['api', 'scheduler', 'dispatcher', 'status']);
    account = system.createAccount();
    ({ apps, ledger } = await startApps(system, account, 2));
  });
  afterAll(async () => {
    for (const app of apps ?? []) app.stop();
    await system?.stop();
  });

  const statusOf = async (id: number) =>
    (await system.query<{ status: number }>(`SELECT status FROM messages WHERE id = $1`, [id]))[0]?.status;
  const allDelivered = (ids: number[]) =>
    waitFor(
      `messages ${ids.length} at 7`,
      async () => {
        const rows = await system.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM messages WHERE id = ANY($1::bigint[]) AND status = 7`,
          [ids],
        );
        return rows[0].n === ids.length;
      },
      30_000,
      100,
    );

  it('registers with the private token as a device of the account, kind smsgate, SMS slots only', async () => {
    const rows = await system.query<{
      kind: string;
      send_slots: number[];
      title: string;
      app_version: string;
    }>(`SELECT kind, send_slots, title, app_version FROM devices WHERE id = $1`, [apps[0].deviceId]);
    expect(rows[0]).toMatchObject({ kind: 'smsgate', send_slots: [0, 1], title: 'Test/phone1' });
    expect(rows[0].app_version).toBe('smsgate-1.68.0');
    const listed = await getdata(system.apiUrl, 'getalldevices', { token: account.token });
    expect(Object.keys(listed.body.device as object)).toEqual(
      expect.arrayContaining([String(apps[0].deviceId), String(apps[1].deviceId)]),
    );
  });

  it('single, multi-recipient, bulk, urgent and scheduled messages reach 7', async () => {
    const device = apps[0].deviceId;
    const single = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body: 'single',
      device_id: device,
    });
    const multi = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982213,+4915752982214,+4915752982215',
      body: 'multi',
      device_id: apps[1].deviceId,
    });
    const urgent = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982216',
      body: 'Your code is 1234',
      device_id: device,
      urgent: 1,
    });
    const inFour = new Date(Date.now() + 4_000).toISOString().slice(0, 19).replace('T', ' ');
    const scheduled = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982217',
      body: 'scheduled',
      device_id: device,
      timetosend: inFour,
    });
    const bulk = await fetch(`${system.apiUrl}/getdata/addalotofsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: account.token,
        smsdata: Array.from({ length: 60 }, (_, n) => ({
          sendto: `+49157000${String(n).padStart(4, '0')}`,
          body: `bulk ${n}`,
          device_id: apps[n % 2].deviceId,
        })),
      }),
    }).then((response) => response.json() as Promise<{ sms_ids: number[] }>);
    const ids = [
      single.body.sms_id as number,
      ...(multi.body.sms_ids as number[]),
      urgent.body.sms_id as number,
      scheduled.body.sms_id as number,
      ...bulk.sms_ids,
    ];
    await allDelivered(ids);
    // Nothing went to the radio twice, and the scheduled one not before its time.
    expect(ledger.duplicateSends).toBe(0);
    const [sched] = await system.query<{ sent_at: Date; time_to_send: Date }>(
      `SELECT sent_at, time_to_send FROM messages WHERE id = $1`,
      [scheduled.body.sms_id],
    );
    expect(sched.sent_at.getTime()).toBeGreaterThanOrEqual(sched.time_to_send.getTime() - 1_000);
    const events = await system.query<{ status: number }>(
      `SELECT status FROM message_events WHERE message_id = $1 ORDER BY status`,
      [single.body.sms_id],
    );
    expect(events.map((e) => e.status)).toEqual([2, 6, 7]);
  });

  it('maps a failed send to the code its Android error names, keeping the text', async () => {
    const failing = new SmsGateApp({
      serverUrl: `${system.dispatcherUrl}/mobile/v1`,
      privateToken: phoneToken(system, account),
      behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 1 },
      ledger: new PhoneLedger(),
      retryBackoffMs: 200,
    });
    apps.push(failing);
    await failing.start();
    const sent = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982299',
      body: 'will fail',
      device_id: failing.deviceId,
    });
    const id = sent.body.sms_id as number;
    await waitFor('message failed', async () => (await statusOf(id)) === 9, 20_000);
    const [row] = await system.query<{ status_error: string }>(
      `SELECT status_error FROM messages WHERE id = $1`,
      [id],
    );
    expect(row.status_error).toContain('RESULT_ERROR_GENERIC_FAILURE');
  });

  it('stores a signed incoming SMS once, however often it is posted, and refuses bad signatures', async () => {
    const receivedAt = new Date(Date.now() - 60_000);
    const results = await Promise.all([
      apps[0].receiveSms('+4917012345678', 'Yes, please call me', 1, receivedAt),
      apps[0].receiveSms('+4917012345678', 'Yes, please call me', 1, receivedAt),
    ]);
    expect(results.flat()).toEqual([true, true]);
    const rows = await system.query<{ status: number; body: string; user_id: number }>(
      `SELECT status, body, user_id FROM messages WHERE device_id = $1 AND status = 5`,
      [apps[0].deviceId],
    );
    expect(rows).toHaveLength(1);
    const listed = await getdata(system.apiUrl, 'getallsms', { token: account.token, status: 5 });
    expect(listed.body.count).toBe(1);

    const url = `${system.dispatcherUrl}/mobile/v1/webhooks/incoming`;
    const body = JSON.stringify({
      id: 'x',
      webhookId: 'smsfleet-sms-received',
      event: 'sms:received',
      deviceId: String(apps[0].deviceId),
      payload: { sender: '+491', message: 'forged', simNumber: 1, receivedAt: new Date().toISOString() },
    });
    const stale = String(Math.floor(Date.now() / 1000) - 3_600);
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-signature': 'a'.repeat(64), 'x-timestamp': String(Math.floor(Date.now() / 1000)) },
      { 'x-signature': 'a'.repeat(64), 'x-timestamp': stale },
    ];
    for (const headers of attempts) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'forbidden' });
    }
    const forged = await system.query(`SELECT 1 FROM messages WHERE body = 'forged'`);
    expect(forged).toHaveLength(0);
  });

  it('answers 401 to an unknown token only, and the app registers again after it', async () => {
    const response = await fetch(`${system.dispatcherUrl}/mobile/v1/message`, {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    const registration = await fetch(`${system.dispatcherUrl}/mobile/v1/device`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', pushToken: null, simCards: [] }),
    });
    expect(registration.status).toBe(401);

    // A phone whose device the server no longer knows (a new database): its PATCH /device gets 401.
    const stale = new SmsGateApp({
      serverUrl: `${system.dispatcherUrl}/mobile/v1`,
      privateToken: phoneToken(system, account),
      behaviour: { sendDelayMs: 10, deliveryDelayMs: 10, failureShare: 0 },
      ledger: new PhoneLedger(),
      registration: { id: '999999', token: 'forgotten', login: 'x' },
      sse: false,
    });
    apps.push(stale);
    await stale.start();
    expect(stale.seen.unauthorized).toBe(1);
    expect(stale.deviceId).not.toBe(999999);
  });

  it('gives the phone its settings (no gateway group) and our webhook, and its public address', async () => {
    const auth = { authorization: `Bearer ${apps[0].registration?.token}` };
    const settings = (await (
      await fetch(`${system.dispatcherUrl}/mobile/v1/settings`, { headers: auth })
    ).json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(settings).sort()).toEqual(['messages', 'webhooks']);
    expect(typeof settings.webhooks.signing_key).toBe('string');
    const hooks = (await (
      await fetch(`${system.dispatcherUrl}/mobile/v1/webhooks`, { headers: auth })
    ).json()) as Array<{ url: string; event: string }>;
    expect(hooks).toEqual([
      {
        id: 'smsfleet-sms-received',
        url: `${system.dispatcherUrl}/mobile/v1/webhooks/incoming`,
        event: 'sms:received',
      },
    ]);
    const device = (await (await fetch(`${system.dispatcherUrl}/mobile/v1/device`)).json()) as {
      externalIp: string;
    };
    expect(device.externalIp).toMatch(/127\.0\.0\.1/);
  });

  it('refuses at intake a message for a slot the device cannot send from, naming device and slot; nothing stored', async () => {
    const device = apps[0].deviceId;
    const count = async () =>
      (await system.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages`))[0].n;
    const before = await count();
    const single = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body: 'whatsapp?',
      device_id: device,
      sim: 2,
    });
    expect(single.body).toMatchObject({ error: 1, code: 'validation' });
    expect(single.body.message).toContain(
      `device ${device} (SMSGate app) cannot send sim 2 (WhatsApp Business)`,
    );
    const bulk = await fetch(`${system.apiUrl}/getdata/addalotofsms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: account.token,
        smsdata: [
          { sendto: '+4915700000001', body: 'fine', device_id: device, sim: 1 },
          { sendto: '+4915700000002', body: 'rcs', device_id: device, sim: 4 },
        ],
      }),
    }).then((response) => response.json() as Promise<Record<string, unknown>>);
    expect(bulk).toMatchObject({ error: 1, code: 'validation', errors: [{ index: 1, field: 'sim' }] });
    expect(await count()).toBe(before);
    const listed = await getdata(system.apiUrl, 'getalldevices', { token: account.token });
    expect((listed.body.device as Record<string, unknown>)[String(device)]).toMatchObject({
      kind: 'smsgate',
      sendslots: [0, 1],
    });
  });
});
