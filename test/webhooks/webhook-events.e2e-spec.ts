import { Socket } from 'socket.io-client';
import { DeviceEvent, IncomingAck, SmsPayload, StatusAck } from '@smsfleet/contracts';
import { registerPhone } from '../../tools/simulator/fleet';
import { getdata } from '../helpers/api-client';
import { connectDevice } from '../helpers/device-socket';
import { independentlyVerified, Receiver } from '../helpers/webhook-receiver';
import { Account, TestSystem } from '../harness/test-system';
import { waitFor } from '../harness/wait-for';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const ALL_EVENTS = [
  'message.taken',
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.incoming',
  'device.online',
  'device.offline',
];
const GRACE_SECONDS = 3;

/**
 * The real events, end to end: phones report through the dispatcher, the status app records the change
 * and its event in one transaction and delivers it; the scheduler announces presence and expiry.
 */
describe('webhooks: every event type from the real producers', () => {
  let system: TestSystem;
  let receiver: Receiver;
  let alice: Account;
  let bob: Account;
  let phoneA: { deviceId: number; secret: string };
  let phoneB: { deviceId: number; secret: string };
  let bobPhone: { deviceId: number; secret: string };
  const secrets = new Map<string, string>();
  const smsAt = new Map<number, SmsPayload[]>();

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    system = await TestSystem.start(undefined, {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_SECONDS: '1',
      WEBHOOK_RETRY_MAX_DELAY_SECONDS: '1',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_OFFLINE_GRACE_SECONDS: String(GRACE_SECONDS),
      WEBHOOK_PRESENCE_SWEEP_MS: '200',
    });
    alice = system.createAccount();
    bob = system.createAccount();
    phoneA = await registerPhone(system.apiUrl, alice.email, alice.password, 'phone a');
    phoneB = await registerPhone(system.apiUrl, alice.email, alice.password, 'phone b');
    bobPhone = await registerPhone(system.apiUrl, bob.email, bob.password, 'bob phone');
    const subscribe = async (account: Account, path: string, body: Json) => {
      const response = await fetch(`${system.apiUrl}/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url(path), ...body }),
      });
      expect(response.status).toBe(200);
      secrets.set(path, ((await response.json()) as Json).webhook.secret as string);
    };
    await subscribe(alice, '/alice-all', { events: ALL_EVENTS });
    await subscribe(alice, '/alice-delivered', { events: ['message.delivered'] });
    await subscribe(alice, '/alice-phone-b', { events: ALL_EVENTS, device_ids: [phoneB.deviceId] });
    await subscribe(bob, '/bob-all', { events: ALL_EVENTS });
  });

  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  const events = (path: string): Json[] => receiver.at(path).map((r) => JSON.parse(r.body) as Json);
  const ofMessage = (path: string, id: number) => events(path).filter((e) => e.data?.id === id);

  async function connect(phone: { deviceId: number; secret: string }): Promise<Socket> {
    return connectDevice(system.dispatcherUrl, phone, (payload) => {
      smsAt.set(phone.deviceId, [...(smsAt.get(phone.deviceId) ?? []), payload]);
    });
  }

  async function send(account: Account, deviceId: number, customerid: number): Promise<number> {
    const answer = await getdata(system.apiUrl, 'addsms', {
      token: account.token,
      sendto: '+4915752982212',
      body: `webhook test ${customerid}`,
      device_id: deviceId,
      customerid,
    });
    expect(answer.body.error).toBe(0);
    const id = answer.body.sms_id as number;
    await waitFor(`message ${id} at its phone`, () =>
      (smsAt.get(deviceId) ?? []).some((sms) => sms.id === id),
    );
    return id;
  }

  const report = (socket: Socket, items: unknown) =>
    socket.timeout(5_000).emitWithAck(DeviceEvent.status, items) as Promise<StatusAck>;

  it('sends every event type, signed, filtered by event, device and tenant, each message in order', async () => {
    const a = await connect(phoneA);
    const b = await connect(phoneB);
    const bobSocket = await connect(bobPhone);
    try {
      const delivered = await send(alice, phoneA.deviceId, 77);
      const failed = await send(alice, phoneB.deviceId, 78);
      const bobs = await send(bob, bobPhone.deviceId, 79);
      const at = (offset: number) => new Date(Date.now() + offset).toISOString();
      expect(await report(a, { id: delivered, status: 6, at: at(100) })).toEqual({ ok: true });
      expect(await report(a, { id: delivered, status: 7, at: at(200) })).toEqual({ ok: true });
      expect(await report(b, { id: failed, status: 9, at: at(100), error: 'radio said no' })).toEqual({
        ok: true,
      });
      expect(await report(bobSocket, { id: bobs, status: 6, at: at(100) })).toEqual({ ok: true });
      const incoming = (await a.timeout(5_000).emitWithAck(DeviceEvent.incoming, {
        from: '+4915112345678',
        body: 'hello from outside',
        sim: 1,
        receivedAt: at(0),
      })) as IncomingAck;
      expect(incoming.ok).toBe(true);

      await waitFor('alice’s message events', () => ofMessage('/alice-all', delivered).length === 3, 20_000);
      await waitFor(
        'the failure and the incoming SMS',
        () =>
          events('/alice-all').some((e) => e.type === 'message.failed') &&
          events('/alice-all').some((e) => e.type === 'message.incoming'),
      );
      await waitFor('bob’s event', () => ofMessage('/bob-all', bobs).length === 2);

      // One message's events, in the order they happened, each showing the message as of that step.
      const steps = ofMessage('/alice-all', delivered);
      expect(steps.map((e) => [e.type, e.data.status])).toEqual([
        ['message.taken', 2],
        ['message.sent', 6],
        ['message.delivered', 7],
      ]);
      expect(steps[0].data.times).toMatchObject({ sent: null, delivered: null, failed: null });
      expect(steps[0].data.times.taken).toEqual(expect.any(String));
      expect(steps[1].data.times.delivered).toBeNull();
      expect(steps[2].data).toMatchObject({
        id: delivered,
        customerid: 77,
        sendto: '+4915752982212',
        body: 'webhook test 77',
        deviceid: phoneA.deviceId,
        statustitle: expect.any(String),
        statuserror: null,
      });
      expect(Date.parse(steps[2].data.times.delivered)).toBeGreaterThanOrEqual(
        Date.parse(steps[2].data.times.sent),
      );
      expect(steps.every((e) => e.account_id === steps[0].account_id)).toBe(true);

      const failure = events('/alice-all').find((e) => e.type === 'message.failed')!;
      expect(failure.data).toMatchObject({
        id: failed,
        status: 9,
        statuserror: 'radio said no',
        customerid: 78,
      });
      expect(failure.data.times.failed).toEqual(expect.any(String));
      const sms = events('/alice-all').find((e) => e.type === 'message.incoming')!;
      expect(sms.data).toMatchObject({
        from: '+4915112345678',
        sendto: '+4915112345678',
        body: 'hello from outside',
        deviceid: phoneA.deviceId,
        sim: 1,
        status: 5,
      });

      // Signatures verify with each subscription's own secret, by an implementation of the docs.
      for (const path of ['/alice-all', '/alice-delivered', '/alice-phone-b', '/bob-all'])
        for (const received of receiver.at(path)) {
          expect(
            independentlyVerified(
              String(received.headers['smsfleet-signature']),
              received.body,
              secrets.get(path)!,
            ),
          ).toBe(true);
          expect(received.headers['smsfleet-event-id']).toBe((JSON.parse(received.body) as Json).id);
        }

      // Filters: by event, by device; tenants apart.
      await waitFor('the delivered-only subscription', () => events('/alice-delivered').length >= 1);
      expect(events('/alice-delivered').map((e) => [e.type, e.data.id])).toEqual([
        ['message.delivered', delivered],
      ]);
      const phoneBOnly = events('/alice-phone-b');
      expect(phoneBOnly.length).toBeGreaterThan(0);
      expect(phoneBOnly.every((e) => (e.data.deviceid ?? e.data.device_id) === phoneB.deviceId)).toBe(true);
      expect(phoneBOnly.some((e) => e.data.id === failed)).toBe(true);
      const aliceAccount = steps[0].account_id as number;
      expect(events('/alice-all').every((e) => e.account_id === aliceAccount)).toBe(true);
      expect(events('/bob-all').every((e) => e.account_id !== aliceAccount)).toBe(true);
      expect(events('/bob-all').some((e) => e.data.id === failed || e.data.id === delivered)).toBe(false);
      expect(events('/bob-all').map((e) => e.type)).toEqual(
        expect.arrayContaining(['message.taken', 'message.sent']),
      );

      // Presence: online announced; nothing twice.
      await waitFor('phone a announced online', () =>
        events('/alice-all').some((e) => e.type === 'device.online' && e.data.device_id === phoneA.deviceId),
      );
      for (const path of ['/alice-all', '/alice-delivered', '/alice-phone-b', '/bob-all']) {
        const ids = events(path).map((e) => e.id as string);
        expect(new Set(ids).size).toBe(ids.length);
      }
    } finally {
      a.disconnect();
      b.disconnect();
      bobSocket.disconnect();
    }
  }, 60_000);

  it('announces a device offline only after the grace period, and not a blip', async () => {
    const onlineOf = (deviceId: number) =>
      events('/alice-phone-b').filter((e) => e.type === 'device.online' && e.data.device_id === deviceId);
    const offlineOf = (deviceId: number) =>
      events('/alice-phone-b').filter((e) => e.type === 'device.offline' && e.data.device_id === deviceId);
    // phone b left at the end of the first test: announced offline once its grace has passed.
    await waitFor('phone b announced offline', () => offlineOf(phoneB.deviceId).length === 1, 20_000);
    const offline = offlineOf(phoneB.deviceId)[0];
    expect(offline.data).toMatchObject({ device_id: phoneB.deviceId, title: 'phone b', online: false });

    // Back online, then a blip shorter than the grace: one online, no second offline.
    const before = onlineOf(phoneB.deviceId).length;
    let socket = await connect(phoneB);
    await waitFor('phone b online again', () => onlineOf(phoneB.deviceId).length === before + 1);
    socket.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    socket = await connect(phoneB);
    await new Promise((resolve) => setTimeout(resolve, (GRACE_SECONDS + 2) * 1_000));
    expect(offlineOf(phoneB.deviceId)).toHaveLength(1);
    expect(onlineOf(phoneB.deviceId)).toHaveLength(before + 1);
    socket.disconnect();
  }, 60_000);

  it('reports a message expired by a removed device as message.failed 202', async () => {
    const answer = await getdata(system.apiUrl, 'addsms', {
      token: alice.token,
      sendto: '+4915752982212',
      body: 'never sent',
      device_id: phoneB.deviceId,
      customerid: 80,
    });
    const id = answer.body.sms_id as number;
    const removed = await fetch(`${system.apiUrl}/v1/devices/${phoneB.deviceId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(removed.status).toBe(200);
    await waitFor('the expiry event', () => ofMessage('/alice-phone-b', id).length === 1);
    expect(ofMessage('/alice-phone-b', id)[0]).toMatchObject({
      type: 'message.failed',
      data: { id, status: 202, customerid: 80, statuserror: expect.any(String) },
    });
  });

  it('cli check: L10 holds once every event is delivered, and names a change without its event', async () => {
    const l10 = () => {
      const { stdout } = system.cliResult('check');
      const results = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Json[];
      return results.find((r) => r.id === 'L10')!;
    };
    await waitFor('every delivery done', async () => {
      const [row] = await system.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status IN ('pending', 'failed')`,
      );
      return row.n === 0;
    });
    const settled = l10();
    expect(settled.holds).toBe(true);
    expect(settled.counts.expected).toBeGreaterThan(0);
    expect(settled.counts.delivered).toBe(settled.counts.expected);

    // An event lost (its deliveries removed behind our back) is found, with its message.
    const [lost] = await system.query<{ id: string; message_id: string }>(
      `DELETE FROM webhook_events WHERE type = 'message.delivered' RETURNING id, message_id`,
    );
    const broken = l10();
    expect(broken.holds).toBe(false);
    expect(broken.counts.missing).toBeGreaterThan(0);
    expect(broken.examples).toContain(Number(lost.message_id));
  });
});
